/*
 * store_s3.h - the parts of the S3 blob store (store_s3.c) that a fuzzer reaches without a
 * network: the s3:// URL parser and the reader of an S3 error document.
 */
#ifndef DEFTER_SYNC_STORE_S3_H
#define DEFTER_SYNC_STORE_S3_H

#include "defter/core.h"

/*
 * Parse url as sync_blob_s3.open would (credentials from it or the environment), then forget
 * it: DFT_OK or DFT_ERR_USAGE with the message open gives. When error_doc is not NULL, its
 * <Code> (printable ASCII, at most 63 bytes) goes into code, else code is untouched.
 */
enum dft_err sync_s3_url_check(const char *url, const char *error_doc, char code[64],
                               struct dft_error *err) DFT_MUST_CHECK;

#endif
