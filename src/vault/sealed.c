/*
 * sealed.c - the shape of a sealed privileged note in an operation (privileged.h): what the
 * operation hash needs, kept apart from privileged.c so that code without a vault (the offline
 * verifier links envelope.c) does not pull the vault in. Reads only; never opens a box.
 */
#include <stdlib.h>
#include <string.h>

#include "vault/privileged.h"

#define SEALED_MAX_DIGESTS 256 /* a note has a handful of fields */

static int
b64_exact(unsigned char *out, size_t want, const json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = 0;
    return s != NULL && dft_b64_decode(out, want, &n, s, strlen(s)) == DFT_OK && n == want;
}

const json_t *
privileged_sealed(const json_t *fields)
{
    const json_t *s = json_object_get(fields, "sealed");
    return json_is_object(s) ? s : NULL;
}

enum dft_err
privileged_digests(const json_t *fields, unsigned char **out, size_t *n, struct dft_error *err)
{
    *out = NULL;
    *n = 0;
    const json_t *s = privileged_sealed(fields);
    if (s == NULL) {
        return DFT_OK;
    }
    const json_t *d = json_object_get(s, "digests");
    if (!json_is_array(d) || json_array_size(d) > SEALED_MAX_DIGESTS) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope: malformed sealed fields");
    }
    size_t m = json_array_size(d);
    if (m == 0) {
        return DFT_OK;
    }
    unsigned char *h = malloc(m * DFT_HASH_BYTES);
    if (h == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        if (!b64_exact(h + i * DFT_HASH_BYTES, DFT_HASH_BYTES, json_array_get(d, i))) {
            free(h);
            return dft_fail(err, DFT_ERR_INTEGRITY, "envelope: malformed sealed fields");
        }
    }
    *out = h;
    *n = m;
    return DFT_OK;
}
