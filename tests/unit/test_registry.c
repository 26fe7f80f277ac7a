/* test_registry.c — the in-memory room registry: create/find/delete, room
 * defaults, participants, tracks, and the empty/departure timeout sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "room/registry.h"

static const tbRoomDefaults defaults = {300, 20, 0};
static const tbPermission perm = {true, true, true, false, false};

static void test_create_find_delete(void **state) {
    (void)state;
    tbRegistry r;
    tbRegistryInit(&r, defaults);
    bool created = false;
    tbRoom *a = tbRegistryCreate(&r, &(tbRoomOptions){.name = "a", .metadata = "m"}, 1000,
                                 &created);
    assert_non_null(a);
    assert_true(created);
    assert_int_equal(strncmp(a->sid, "RM_", 3), 0);
    assert_int_equal(strlen(a->sid), 15);
    assert_string_equal(a->metadata, "m");
    assert_int_equal(a->empty_timeout, 300);
    assert_int_equal(a->departure_timeout, 20);
    tbRoom *again = tbRegistryCreate(&r, &(tbRoomOptions){.name = "a"}, 2000, &created);
    assert_ptr_equal(again, a);
    assert_false(created);
    tbRoom *b = tbRegistryCreate(&r, &(tbRoomOptions){.name = "b", .empty_timeout = 5,
                                                      .max_participants = 2},
                                 1000, &created);
    assert_int_equal(b->empty_timeout, 5);
    assert_int_equal(b->max_participants, 2);
    assert_string_not_equal(a->sid, b->sid);
    assert_int_equal(r.num_rooms, 2);
    assert_ptr_equal(tbRegistryFind(&r, "b"), b);
    assert_null(tbRegistryFind(&r, "c"));
    assert_true(tbRegistryDelete(&r, "a"));
    assert_false(tbRegistryDelete(&r, "a"));
    assert_int_equal(r.num_rooms, 1);
    assert_ptr_equal(r.rooms, b);
    tbRegistryFree(&r);
}

static void test_participants_and_tracks(void **state) {
    (void)state;
    tbRegistry r;
    tbRegistryInit(&r, defaults);
    bool created;
    tbRoom *room = tbRegistryCreate(&r, &(tbRoomOptions){.name = "x", .max_participants = 2},
                                    0, &created);
    tbParticipant *p = tbRoomAddParticipant(room, "alice", "Alice", &perm, 5000);
    assert_non_null(p);
    assert_int_equal(strncmp(p->sid, "PA_", 3), 0);
    assert_int_equal(p->state, TB_PARTICIPANT_JOINED);
    assert_null(tbRoomAddParticipant(room, "alice", "dup", &perm, 5000));
    assert_false(tbRoomIsFull(room));
    assert_non_null(tbRoomAddParticipant(room, "bob", NULL, &perm, 5000));
    assert_true(tbRoomIsFull(room));
    assert_int_equal(tbRegistryParticipantCount(&r), 2);
    uint32_t v = p->version;
    tbTrack *t = tbParticipantAddTrack(p, "mic", 0, 2, "audio/opus");
    assert_non_null(t);
    assert_int_equal(strncmp(t->sid, "TR_", 3), 0);
    assert_true(p->version > v);
    assert_ptr_equal(tbParticipantFindTrack(p, t->sid), t);
    assert_null(tbParticipantFindTrack(p, "TR_nope"));
    tbParticipantSetMetadata(p, "md");
    assert_string_equal(p->metadata, "md");
    assert_true(tbRoomRemoveParticipant(room, "alice", 6000));
    assert_false(tbRoomRemoveParticipant(room, "alice", 6000));
    assert_null(tbRoomFindParticipant(room, "alice"));
    assert_int_equal(room->num_participants, 1);
    tbRegistryFree(&r);
}

static int closedCount;
static void onClosed(void *ctx, const tbRoom *room) {
    (void)ctx;
    (void)room;
    closedCount++;
}

static void test_sweep_timeouts(void **state) {
    (void)state;
    tbRegistry r;
    tbRegistryInit(&r, defaults);
    bool created;
    tbRoomOptions never = {.name = "never-joined", .empty_timeout = 10};
    tbRoomOptions left = {.name = "left", .empty_timeout = 10, .departure_timeout = 3};
    tbRoomOptions busy = {.name = "busy", .empty_timeout = 10};
    tbRegistryCreate(&r, &never, 0, &created);
    tbRoom *l = tbRegistryCreate(&r, &left, 0, &created);
    tbRoom *b = tbRegistryCreate(&r, &busy, 0, &created);
    tbRoomAddParticipant(l, "p", "", &perm, 1000);
    tbRoomRemoveParticipant(l, "p", 2000);
    tbRoomAddParticipant(b, "q", "", &perm, 1000);
    closedCount = 0;
    assert_int_equal(tbRegistrySweep(&r, 4999, onClosed, NULL), 0);
    /* departure_timeout 3 s after the last one left at t=2 s */
    assert_int_equal(tbRegistrySweep(&r, 5000, onClosed, NULL), 1);
    assert_null(tbRegistryFind(&r, "left"));
    assert_int_equal(tbRegistrySweep(&r, 9999, onClosed, NULL), 0);
    /* empty_timeout 10 s after creation, nobody ever joined */
    assert_int_equal(tbRegistrySweep(&r, 10000, onClosed, NULL), 1);
    assert_null(tbRegistryFind(&r, "never-joined"));
    /* a room with participants is never swept */
    assert_int_equal(tbRegistrySweep(&r, 1000000, onClosed, NULL), 0);
    assert_int_equal(closedCount, 2);
    assert_int_equal(r.num_rooms, 1);
    tbRegistryFree(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_find_delete),
        cmocka_unit_test(test_participants_and_tracks),
        cmocka_unit_test(test_sweep_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
