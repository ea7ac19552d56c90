/*
 * test_io.c - the ring of chunk buffers (src/evidence/io.c): slots are sized from the chunk
 * size the caller gives (an object header's chunk_bytes, 4 KiB to 16 MiB, not the import
 * default), rounded up to whole EVD_IO_ALIGN blocks, aligned, usable to their last byte, and
 * evd_pipe_release wipes exactly what was allocated (under ASan a wipe past a small slot is a
 * heap overflow).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "evidence/internal.h"

/* Fill every slot to its last byte, pass one chunk through the ring, release. */
static void
ring_round_trip(size_t chunk_bytes)
{
    struct evd_pipe p;
    size_t want = chunk_bytes + DFT_EVIDENCE_TAG_BYTES;
    assert_int_equal(evd_pipe_init(&p, want), 0);
    assert_true(p.slot_bytes >= want);
    assert_true(p.slot_bytes - want < EVD_IO_ALIGN);
    assert_int_equal(p.slot_bytes % EVD_IO_ALIGN, 0);
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        assert_int_equal((uintptr_t)p.slots[i].buf % EVD_IO_ALIGN, 0);
        memset(p.slots[i].buf, 0xA5, p.slot_bytes);
    }
    struct evd_slot *s = evd_pipe_acquire(&p);
    assert_non_null(s);
    s->len = chunk_bytes;
    s->index = 0;
    s->final = 1;
    evd_pipe_submit(&p);
    evd_pipe_finish(&p);
    struct evd_slot *t = evd_pipe_take(&p);
    assert_ptr_equal(t, s);
    assert_int_equal(t->buf[chunk_bytes - 1], 0xA5);
    evd_pipe_consumed(&p);
    assert_null(evd_pipe_take(&p));
    evd_pipe_release(&p);
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        assert_null(p.slots[i].buf);
    }
}

static void
test_pipe__smallest_chunks(void **state)
{
    (void)state;
    ring_round_trip(EVD_CHUNK_MIN); /* 4 KiB: the slot is far smaller than the default chunk */
}

static void
test_pipe__default_chunks(void **state)
{
    (void)state;
    ring_round_trip(DFT_EVIDENCE_CHUNK_BYTES);
}

static void
test_pipe__largest_chunks(void **state)
{
    (void)state;
    ring_round_trip(EVD_CHUNK_MAX); /* 16 MiB: all of each slot is wiped, not its first MiB */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe__smallest_chunks),
        cmocka_unit_test(test_pipe__default_chunks),
        cmocka_unit_test(test_pipe__largest_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
