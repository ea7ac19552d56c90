/*
 * harden.c - keep the key-holding process out of core files and debuggers (as OpenSSH's
 * platform_disable_tracing does for ssh-agent).
 *
 * Must never be the only protection: keys and plaintext also live in locked, non-dumpable
 * memory (MADV_DONTDUMP), which a root debugger can still read but no core file will hold.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "core/harden.h"

int
dft_process_harden(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        return -1;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        return -1;
    }
    return 0;
}
