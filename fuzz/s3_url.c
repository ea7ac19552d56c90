/*
 * s3_url.c - libFuzzer harness for the S3 store's URL parser and error-document reader
 * (src/sync/store_s3.c): the input up to the first newline is an --objects URL, the rest an
 * error document. Anything must be refused cleanly (DFT_ERR_USAGE with a message) or parse;
 * the error code read back is printable ASCII within its bounds. Never touches the network.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/store_s3.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char buf[8192];
    if (size >= sizeof buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *doc = strchr(buf, '\n');
    if (doc != NULL) {
        *doc++ = '\0';
    }
    char code[64] = "";
    struct dft_error err = {0};
    enum dft_err rc = sync_s3_url_check(buf, doc, code, &err);
    if (rc != DFT_OK && (rc != DFT_ERR_USAGE && rc != DFT_ERR_NOMEM)) {
        abort();
    }
    if (rc != DFT_OK && err.msg[0] == '\0') {
        abort();
    }
    size_t n = strnlen(code, sizeof code);
    if (n >= sizeof code) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        if (code[i] < 0x21 || code[i] > 0x7e) {
            abort();
        }
    }
    return 0;
}
