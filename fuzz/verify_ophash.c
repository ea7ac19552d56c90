/*
 * verify_ophash.c - libFuzzer harness for operation hashes made from canonical text
 * (vault/verify_ophash.h), differential against envelope.c's own (sd_op_hash).
 *
 * The input is read as an envelope's plaintext with the fast JSON path (crypto/json_fast.h).
 * When the fast path takes it as canonical, every element's "op" is located: whenever
 * verify_op_hash_text hashes an op from its text, sd_op_hash must hash the same op to the same
 * bytes under the same salt key. Seeds: fuzz/corpus/verify_ophash.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/json_fast.h"
#include "vault/envelope.h"
#include "vault/verify_ophash.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    size_t off[32], len[32];
    struct crypto_json_fast_spans sp = {"op", 2, 32, off, len, 0};
    json_t *items = crypto_json_parse_fast_ex((const char *)data, size, &sp);
    if (items == NULL) {
        return 0;
    }
    if (sp.canonical && json_is_array(items)) {
        struct dft_buf scratch;
        dft_buf_init(&scratch, DFT_ENV_MAX, 0);
        unsigned char key[DFT_SALT_KEY_BYTES];
        for (size_t i = 0; i < json_array_size(items) && i < 32; i++) {
            const json_t *op = json_object_get(json_array_get(items, i), "op");
            if (op == NULL || len[i] == 0) {
                continue;
            }
            memset(key, (int)i, sizeof key);
            unsigned char a[DFT_HASH_BYTES], b[DFT_HASH_BYTES];
            if (verify_op_hash_text(a, op, data + off[i], len[i], key, &scratch)) {
                struct dft_error err;
                if (sd_op_hash(b, op, key, &err) != DFT_OK || memcmp(a, b, DFT_HASH_BYTES) != 0) {
                    abort();
                }
            }
        }
        dft_buf_release(&scratch);
    }
    json_decref(items);
    return 0;
}
