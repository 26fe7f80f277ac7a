/* test_turn_rest.c — TURN REST credentials against a value computed
 * independently (Python's hmac/base64: see the comment on the vector). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/turn_rest.h"

static void test_vector(void **state) {
    (void)state;
    char user[64], pass[64];
    assert_int_equal(tbTurnRestCredentials("north-secret", "alice", 1700000000, user,
                                           sizeof user, pass, sizeof pass),
                     0);
    assert_string_equal(user, "1700000000:alice");
    /* base64(hmac.new(b'north-secret', b'1700000000:alice', hashlib.sha1).digest()) */
    assert_string_equal(pass, "g+jb180fcj+xlpA/2mP60OdIgU0=");
}

static void test_small_buffers(void **state) {
    (void)state;
    char user[8], pass[64], user2[64], pass2[8];
    assert_int_equal(tbTurnRestCredentials("s", "alice", 1700000000, user, sizeof user, pass,
                                           sizeof pass),
                     -1);
    assert_int_equal(tbTurnRestCredentials("s", "alice", 1700000000, user2, sizeof user2, pass2,
                                           sizeof pass2),
                     -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
