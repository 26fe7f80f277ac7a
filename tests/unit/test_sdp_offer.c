/* test_sdp_offer.c — the subscriber offers of /rtc (sdp_offer.c), read back
 * with our own parser: BUNDLE over every section in order, ICE-lite,
 * actpass, the data channel section, sendonly Opus with msid/ssrc for an
 * active section, inactive without them; and bad parameters refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp/sdp.h"
#include "sdp/sdp_offer.h"

static const char *cands[] = {"candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host"};

static tbSdpOfferParams params(const tbSdpOfferSection *secs, size_t n) {
    tbSdpOfferParams p = {.ice_ufrag = "0abcd", .ice_pwd = "0123456789abcdefghijkl",
                          .fingerprint_sha256 = "AB:CD", .candidates = cands,
                          .num_candidates = 1, .session_id = 7, .session_version = 2,
                          .sections = secs, .num_sections = n};
    return p;
}

static void testOfferParses(void **state) {
    (void)state;
    tbSdpOfferSection secs[] = {
        {.mid = "0", .application = true},
        {.mid = "1", .active = true, .ssrc = 1234, .participant_sid = "PA_a", .track_sid = "TR_a"},
        {.mid = "2", .active = false},
    };
    tbSdpOfferParams p = params(secs, 3);
    size_t len = 0;
    char *text = tbSdpBuildOffer(&p, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    tbSdpError err;
    tbSdp *sdp = tbSdpParse(text, len, &err);
    assert_non_null(sdp);
    assert_true(sdp->ice_lite);
    assert_int_equal(sdp->num_bundle_mids, 3);
    assert_int_equal(sdp->num_sections, 3);
    const tbSdpSection *app = &sdp->sections[0], *a1 = &sdp->sections[1], *a2 = &sdp->sections[2];
    assert_int_equal(app->kind, TB_SDP_KIND_APPLICATION);
    assert_int_equal(app->sctp_port, 5000);
    assert_int_equal(app->setup, TB_SDP_SETUP_ACTPASS);
    assert_int_equal(app->num_candidates, 1);
    assert_int_equal(a1->direction, TB_SDP_DIR_SENDONLY);
    assert_string_equal(a1->msid_stream, "PA_a|TR_a");
    assert_string_equal(a1->msid_track, "TR_a");
    assert_non_null(tbSdpFindCodec(a1, "opus", 48000, 2));
    assert_int_equal(a1->num_ssrcs, 2);
    assert_int_equal(a1->ssrcs[0].ssrc, 1234);
    assert_int_equal(a1->num_extmaps, 2);
    assert_int_equal(a2->direction, TB_SDP_DIR_INACTIVE);
    assert_null(a2->msid_track);
    assert_int_equal(a2->num_ssrcs, 0);
    tbSdpTransportInfo ti;
    assert_true(tbSdpTransport(sdp, &ti));
    assert_string_equal(ti.ice_ufrag, "0abcd");
    tbSdpFree(sdp);
    free(text);
}

static void testBadParams(void **state) {
    (void)state;
    tbSdpOfferSection ok[] = {{.mid = "0", .application = true}};
    tbSdpOfferSection noTrack[] = {{.mid = "1", .active = true, .ssrc = 5}};
    tbSdpOfferSection spaced[] = {{.mid = "a b", .application = true}};
    tbSdpOfferParams p = params(ok, 1);
    p.ice_pwd = NULL;
    assert_null(tbSdpBuildOffer(&p, NULL));
    p = params(noTrack, 1);
    assert_null(tbSdpBuildOffer(&p, NULL));
    p = params(spaced, 1);
    assert_null(tbSdpBuildOffer(&p, NULL));
    p = params(ok, 0);
    assert_null(tbSdpBuildOffer(&p, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(testOfferParses),
                                       cmocka_unit_test(testBadParams)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
