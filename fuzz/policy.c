/*
 * policy.c - libFuzzer harness for the C2SP tlog-policy parser (src/log/policy.c).
 *
 * Any input is rejected cleanly or parsed; a parsed policy prints to a text that parses to the
 * same policy and prints the same again, and its quorum evaluation agrees with the minimum
 * count: nobody cosigning never meets a quorum other than none.
 */
#include <stdlib.h>
#include <string.h>

#include "log/policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static struct policy p, q;
    if (policy_parse(&p, (const char *)data, size, NULL) != DFT_OK) {
        return 0;
    }
    struct dft_buf a, b;
    dft_buf_init(&a, 1u << 20, 0);
    dft_buf_init(&b, 1u << 20, 0);
    if (policy_format(&p, &a, NULL) != DFT_OK ||
        policy_parse(&q, (const char *)a.data, a.len, NULL) != DFT_OK ||
        policy_format(&q, &b, NULL) != DFT_OK || a.len != b.len ||
        memcmp(a.data, b.data, a.len) != 0) {
        abort();
    }
    int none[POLICY_WITNESS_MAX] = {0}, all[POLICY_WITNESS_MAX];
    for (size_t i = 0; i < POLICY_WITNESS_MAX; i++) {
        all[i] = 1;
    }
    if ((p.quorum != POLICY_NONE && policy_met(&p, none)) || !policy_met(&p, all) ||
        (policy_min_cosignatures(&p) == 0) != (p.quorum == POLICY_NONE)) {
        abort();
    }
    dft_buf_release(&a);
    dft_buf_release(&b);
    return 0;
}
