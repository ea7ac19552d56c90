/*
 * object_header.c - libFuzzer harness for the evidence object header: parse, range checks and
 * key unwrap of arbitrary bytes. Must never crash, leak or read out of bounds.
 *
 * Corpus: fuzz/corpus/object_header/ (valid v2 headers wrapped under the all-zero object key).
 */
#include <stdint.h>
#include <string.h>

#include "evidence/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char object_key[DFT_KEY_BYTES] = {0};
    struct dft_evidence_header h;
    struct dft_error err = {0};
    if (evidence_header_parse(&h, data, size, &err) != DFT_OK) {
        return 0;
    }
    uint64_t n = evidence_chunk_count(h.size, h.chunk_bytes);
    if (n == 0) {
        __builtin_trap();
    }
    unsigned char key[DFT_KEY_BYTES], sha[DFT_HASH_BYTES];
    if (evidence_header_unwrap(data, size, object_key, key, sha, &err) == DFT_OK) {
        memset(key, 0, sizeof key);
    }
    return 0;
}
