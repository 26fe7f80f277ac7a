/* test_placement.c — which node a new room goes to (state/placement.h's
 * pure choice): the fewest participants, or the lowest CPU, never a
 * draining node, ties to the asking node; nobody when every node drains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state/placement.h"

static const tbNodeLoad nodes[] = {
    {"ND_a", 4, 1, 0.10, false},
    {"ND_b", 2, 1, 0.90, false},
    {"ND_c", 0, 0, 0.05, true},  /* draining: never picked */
    {"ND_d", 2, 2, 0.50, false},
};

static void testFewestParticipants(void **state) {
    (void)state;
    /* b and d tie at 2: the first, unless the asking node is one of them */
    assert_int_equal(tbPlacementChoose(nodes, 4, "ND_a", false), 1);
    assert_int_equal(tbPlacementChoose(nodes, 4, "ND_d", false), 3);
    assert_int_equal(tbPlacementChoose(nodes, 4, "ND_b", false), 1);
}

static void testLowestCpu(void **state) {
    (void)state;
    assert_int_equal(tbPlacementChoose(nodes, 4, "ND_b", true), 0);
}

static void testDraining(void **state) {
    (void)state;
    assert_int_equal(tbPlacementChoose(nodes + 2, 1, "ND_c", false), -1);
    assert_int_equal(tbPlacementChoose(nodes, 0, "ND_a", false), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testFewestParticipants),
        cmocka_unit_test(testLowestCpu),
        cmocka_unit_test(testDraining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
