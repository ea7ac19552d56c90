/*
 * test_harden.c - dft_process_harden: after it, no core file (RLIMIT_CORE 0, soft and hard)
 * and the process is not dumpable. `tests/cli/memory.sh` checks the same on a running
 * `defter ui` from outside (/proc/PID/limits, and prctl through gdb).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "core/harden.h"

static void
test_harden__no_core_not_dumpable(void **state)
{
    struct rlimit rl;
    (void)state;
    assert_int_equal(dft_process_harden(), 0);
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_true(rl.rlim_cur == 0);
    assert_true(rl.rlim_max == 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    /* a second call is harmless (raising the limit again is what would fail) */
    assert_int_equal(dft_process_harden(), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_harden__no_core_not_dumpable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
