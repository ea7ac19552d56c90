/*
 * sha256.h - one-shot SHA-256 of one or two pieces through OpenSSL (SHA-NI where the CPU has
 * it) with a context kept per thread, for the many short inputs of trees and item digests.
 * Internal to the library (no dft_ prefix).
 */
#ifndef DEFTER_CRYPTO_SHA256_H
#define DEFTER_CRYPTO_SHA256_H

#include <stddef.h>

#include "defter/crypto.h"

/*
 * out = SHA-256(a || b); b may be NULL when bn is 0. Never fails: if OpenSSL cannot allocate
 * its context, libsodium computes the same digest.
 */
void crypto_sha256_parts(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an, const void *b,
                         size_t bn);

#endif
