import { startTribune } from './lib/server.mjs';
import { wsConnect } from './lib/ws.mjs';
import { AccessToken } from 'livekit-server-sdk';
import { SignalRequest } from '@livekit/protocol';
import fs from 'node:fs'; import dgram from 'node:dgram';
const s = dgram.createSocket('udp4'); await new Promise(r=>s.bind(0,'127.0.0.1',r)); const udp = s.address().port; s.close();
const srv = await startTribune({ configBody: ({port,key,secret}) => `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\nrtc:\n  udp_port: ${udp}\n  node_ip: 127.0.0.1\nlimit:\n  signal_message_size_limit: 4096\n` });
const jr = fs.readFileSync('../fixtures/signal/join_request.b64','utf8').trim();
const at = new AccessToken(srv.key, srv.secret, {identity:'alice'}); at.addGrant({roomJoin:true, room:'r1'});
for (const size of [5096]) {
const r = await wsConnect(`ws://127.0.0.1:${srv.port}/rtc/v1?access_token=${await at.toJwt()}&join_request=${encodeURIComponent(jr)}`);
await r.ws.next(); await r.ws.next();
if (size === 100) r.ws.send(new SignalRequest({message:{case:'leave', value:{reason:1, action:0}}}).toBinary());
else if (size === 3000) { r.ws.send(Buffer.alloc(3000, 0x41)); await new Promise(r=>setTimeout(r,200)); r.ws.send(new SignalRequest({message:{case:'leave', value:{}}}).toBinary()); }
else r.ws.send(Buffer.alloc(size, 0x41));
console.log(size, await r.ws.waitClosed(2000));
}
await srv.stop();
