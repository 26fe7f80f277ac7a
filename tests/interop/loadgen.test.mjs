// loadgen.test.mjs — the load generator (tools/loadgen, build/tribune-load)
// as a correctness test, not a benchmark: 10 rooms of 3 real participants
// (LiveKit signaling, ICE, DTLS, SRTP, Opus) against a tribune for 5 s;
// every packet each publisher sent in the window must reach every other
// participant of its room exactly once, and none from another room; and
// with losses made on purpose (dropped before decryption and NACKed),
// tribune's retransmissions must fill every gap. No timing is asserted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TRIBUNE_BIN, startTribune } from './lib/server.mjs';
import { freeUdpPort } from './lib/turn.mjs';

const LOAD_BIN = path.join(path.dirname(TRIBUNE_BIN), 'tribune-load');

function run(bin, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr }));
  });
}

describe('tribune-load against tribune', { skip: !fs.existsSync(LOAD_BIN) &&
  `${LOAD_BIN} not built` }, () => {
  let srv;
  let dir;

  before(async () => {
    const udp = await freeUdpPort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tribune-load-'));
    srv = await startTribune({ configBody: ({ port, key, secret }) =>
      `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
      `rtc:\n  udp_port: ${udp}\n  tcp_port: 0\n  node_ip: 127.0.0.1\n  use_external_ip: false\n` });
  });

  after(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('10 rooms x 3 participants for 5 s: every packet accounted for', async () => {
    const json = path.join(dir, 'load.json');
    const r = await run(LOAD_BIN, ['--port', String(srv.port), '--key', srv.key,
      '--secret', srv.secret, '--rooms', '10', '--publishers', '2', '--subscribers', '1',
      '--duration', '5', '--warmup-ms', '1000', '--threads', '2', '--json', json, '--check'], 60000);
    assert.equal(r.code, 0, `tribune-load exited ${r.code}\n${r.stdout}\n${r.stderr}\n` +
      `--- tribune:\n${srv.stderr().slice(-3000)}`);
    const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(rep.participants, 30);
    assert.equal(rep.joined, 30);
    assert.equal(rep.failed, 0);
    // 20 publishers, each heard by the 2 others of its room
    assert.equal(rep.expected, rep.sent * 2);
    assert.ok(rep.sent >= 20 * 5 * 50 * 0.9, `sent ${rep.sent}`);
    assert.equal(rep.received, rep.expected);
    assert.equal(rep.loss, 0);
    assert.equal(rep.duplicates, 0);
    assert.equal(rep.other_room, 0);
    assert.equal(rep.srtp_errors, 0);
    assert.ok(rep.latency_us.p50 > 0);
  });

  it('losses repaired by NACK: 5 % of first arrivals dropped and NACKed, none lost', async () => {
    const json = path.join(dir, 'nack.json');
    const metric = async () => Number(/tribune_media_nack_resent_total (\d+)/.exec(
      await (await fetch(`${srv.url}/metrics`)).text())[1]);
    const before = await metric();
    const r = await run(LOAD_BIN, ['--port', String(srv.port), '--key', srv.key,
      '--secret', srv.secret, '--rooms', '2', '--publishers', '2', '--subscribers', '2',
      '--duration', '3', '--nack-drop', '5', '--prefix', 'nack', '--json', json, '--check'],
    60000);
    assert.equal(r.code, 0, `tribune-load exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.ok(rep.nacks_sent > 0, 'some packets were dropped and NACKed');
    assert.equal(rep.received, rep.expected);
    assert.equal(rep.duplicates, 0);
    assert.equal(await metric() - before, rep.nacks_sent, 'tribune resent each NACKed packet');
  });
});
