/*
 * fuzz_sync_httpsig.c - libFuzzer harness for the RFC 9421 header parser and verifier
 * (src/sync/httpsig.c). The input is split at the first two newlines into Signature-Input,
 * Signature and Content-Digest. Anything must be refused cleanly or parse into bounded values;
 * without the key's secret nothing may verify.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sync/httpsig.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char buf[3 * HTTPSIG_HEADER_MAX];
    if (size >= sizeof buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *in = buf, *sig = strchr(in, '\n'), *dg = NULL;
    if (sig != NULL) {
        *sig++ = '\0';
        dg = strchr(sig, '\n');
        if (dg != NULL) {
            *dg++ = '\0';
        }
    }
    struct httpsig_params p;
    unsigned char s[64];
    const char *params = NULL;
    size_t pl = 0;
    if (httpsig_parse(&p, in, sig != NULL ? sig : "", s, &params, &pl, NULL) == DFT_OK) {
        if (params < in || params + pl > in + strlen(in) || strlen(p.nonce) != HTTPSIG_NONCE_LEN) {
            abort();
        }
    }
    (void)httpsig_verify(&p, "GET", "http://127.0.0.1:1/v1/health", dg != NULL ? dg : "", in,
                         sig != NULL ? sig : "", NULL);
    (void)httpsig_check_digest(dg, (const unsigned char *)in, strlen(in), NULL);
    return 0;
}
