/*
 * witness_req.c - libFuzzer harness for the add-checkpoint request parser and the checkpoint
 * head parser (src/log/witness_req.c).
 *
 * Any input is rejected cleanly or parsed; a parsed request formats back to the same bytes
 * (the parser is canonical), and the note it points at lies inside the input.
 */
#include <stdlib.h>
#include <string.h>

#include "log/witness_req.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data;
    static struct witness_req r, r2;
    if (witness_req_parse(&r, s, size, NULL) == DFT_OK) {
        if (r.nproof > WITNESS_PROOF_MAX || r.note < s || r.note + r.note_len != s + size ||
            r.note_len == 0) {
            abort();
        }
        struct dft_buf b;
        dft_buf_init(&b, WITNESS_BODY_MAX + 1, 0);
        if (witness_req_format(&b, r.old_size, (const unsigned char(*)[32])r.proof, r.nproof,
                               r.note, r.note_len, NULL) != DFT_OK ||
            b.len != size || memcmp(b.data, data, size) != 0) {
            abort(); /* canonical: formatting gives the same bytes back */
        }
        if (witness_req_parse(&r2, (const char *)b.data, b.len, NULL) != DFT_OK ||
            r2.old_size != r.old_size || r2.nproof != r.nproof) {
            abort();
        }
        dft_buf_release(&b);
    }
    struct dft_checkpoint c;
    if (witness_checkpoint_head(&c, s, size, NULL) == DFT_OK) {
        if (strlen(c.origin) == 0 || c.size > DFT_TLOG_SIZE_MAX) {
            abort();
        }
    }
    return 0;
}
