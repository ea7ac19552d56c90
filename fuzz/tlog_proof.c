/*
 * tlog_proof.c - libFuzzer harness for the C2SP tlog-proof parser: never crashes, and what it
 * accepts formats back to the same bytes.
 */
#include <string.h>

#include "defter/bundle.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct dft_tlog_proof p;
    struct dft_error err = {0};
    if (dft_tlog_proof_parse(&p, (const char *)data, size, &err) != DFT_OK) {
        return 0;
    }
    if (p.checkpoint < (const char *)data ||
        p.checkpoint + p.checkpoint_len != (const char *)data + size) {
        __builtin_trap();
    }
    /* without an extra line, formatting gives back the input */
    if (size > 23 && memcmp(data + 23, "extra ", 6) != 0) {
        struct dft_buf b;
        dft_buf_init(&b, DFT_TLOG_PROOF_TEXT_MAX * 2, 0);
        if (dft_tlog_proof_format(&b, p.index, (const unsigned char(*)[32])p.hashes, p.n,
                                  p.checkpoint, p.checkpoint_len, &err) == DFT_OK &&
            (b.len != size || memcmp(b.data, data, size) != 0)) {
            __builtin_trap();
        }
        dft_buf_release(&b);
    }
    return 0;
}
