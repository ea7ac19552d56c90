/*
 * object_camo.c - libFuzzer harness for camouflaged evidence object headers: arbitrary bytes
 * through evidence_header_opens (clear or camouflaged, decoded under a fixed key) and, when
 * they open, the rewrap into each encoding and back. Must never crash, leak or read out of
 * bounds, and a header that opens must survive the round trip.
 *
 * Corpus: fuzz/corpus/object_camo/ (v2 headers under the all-zero object key, clear and
 * camouflaged).
 */
#include <stdint.h>
#include <string.h>

#include "evidence/evidence.h"
#include "evidence/rekey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key0[DFT_KEY_BYTES] = {0};
    static const unsigned char key1[DFT_KEY_BYTES] = {1};
    unsigned char in[DFT_EVIDENCE_HEADER_BYTES], camo[DFT_EVIDENCE_HEADER_BYTES],
        clear[DFT_EVIDENCE_HEADER_BYTES];
    struct dft_error err = {0};
    static int ready = 0;
    if (!ready) {
        if (dft_crypto_init(NULL) != DFT_OK) { /* sodium_malloc needs it */
            __builtin_trap();
        }
        ready = 1;
    }
    if (size < DFT_EVIDENCE_HEADER_BYTES) {
        return 0;
    }
    memcpy(in, data, sizeof in);
    int opens = evidence_header_opens(in, key0);
    if (evidence_header_rewrap_as(in, camo, key0, key1, EVIDENCE_ENC_CAMOUFLAGED, &err) != DFT_OK) {
        if (opens) {
            __builtin_trap(); /* a header that opens must rewrap */
        }
        return 0;
    }
    if (!opens || !evidence_header_camouflaged(camo) || !evidence_header_opens(camo, key1)) {
        __builtin_trap();
    }
    if (evidence_header_rewrap_as(camo, clear, key1, key0, EVIDENCE_ENC_CLEAR, &err) != DFT_OK ||
        evidence_header_camouflaged(clear) || !evidence_header_opens(clear, key0)) {
        __builtin_trap();
    }
    /* a clear input comes back with the same clear fields (magic, chunk size, id, uid) */
    if (!evidence_header_camouflaged(in) && memcmp(clear, in, 72) != 0) {
        __builtin_trap();
    }
    return 0;
}
