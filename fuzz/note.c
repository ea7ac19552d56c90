/*
 * note.c - libFuzzer harness for the signed-note, verifier-key and checkpoint parsers.
 *
 * Any input must be rejected cleanly or parsed into something that re-verifies; a note that
 * verifies under the fixed key must carry that key's real signature (the harness cannot forge
 * one, so a verified note whose text differs from the seed's is a bug).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log/tlog.h"

static const char peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char peter_text[] = "If you think cryptography is the answer to your problem,\n"
                                 "then you don't know what your problem is.\n";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int ready;
    static struct dft_note_verifier vs[2];
    if (!ready) {
        if (sodium_init() < 0 ||
            note_verifier_parse(&vs[0], peter_vkey, strlen(peter_vkey), NULL) != DFT_OK) {
            abort();
        }
        unsigned char pk[32] = {1};
        if (note_verifier_init(&vs[1], "w", DFT_NOTE_ALG_COSIG_V1, pk, NULL) != DFT_OK) {
            abort();
        }
        ready = 1;
    }
    const char *s = (const char *)data;
    struct dft_note n;
    if (note_parse(&n, s, size, NULL) == DFT_OK) {
        if (n.nsigs == 0 || n.nsigs > DFT_NOTE_SIGS_MAX || n.text_len == 0 ||
            n.text[n.text_len - 1] != '\n') {
            abort();
        }
        if (note_verify(&n, vs, 2, NULL, NULL) == DFT_OK &&
            (n.text_len != strlen(peter_text) || memcmp(n.text, peter_text, n.text_len) != 0)) {
            abort(); /* a forged signature verified */
        }
        struct dft_checkpoint c;
        (void)checkpoint_parse(&c, n.text, n.text_len, NULL);
        note_release(&n);
    }
    struct dft_note_verifier v;
    if (note_verifier_parse(&v, s, size, NULL) == DFT_OK) {
        char back[DFT_NOTE_VKEY_MAX];
        note_verifier_format(&v, back);
        struct dft_note_verifier v2;
        if (note_verifier_parse(&v2, back, strlen(back), NULL) != DFT_OK ||
            memcmp(&v, &v2, sizeof v) != 0) {
            abort();
        }
    }
    struct dft_checkpoint c;
    if (checkpoint_parse(&c, s, size, NULL) == DFT_OK) {
        struct dft_buf b;
        dft_buf_init(&b, DFT_NOTE_MAX_BYTES, 0);
        if (checkpoint_format(&b, &c, NULL) != DFT_OK || b.len != size ||
            memcmp(b.data, data, size) != 0) {
            abort(); /* parsing is canonical: formatting gives the same bytes back */
        }
        dft_buf_release(&b);
    }
    return 0;
}
