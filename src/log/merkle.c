/*
 * merkle.c - RFC 9162 (RFC 6962) hashing and proof verification, without any storage.
 *
 * These functions are what an independent verifier does; they must never read the database or
 * trust a length they did not compute themselves. Any proof that does not verify, for whatever
 * reason, is DFT_ERR_INTEGRITY.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/tlog.h"

void
tlog_hash_node(unsigned char out[DFT_TLOG_HASH_BYTES],
               const unsigned char left[DFT_TLOG_HASH_BYTES],
               const unsigned char right[DFT_TLOG_HASH_BYTES])
{
    unsigned char buf[1 + 2 * DFT_TLOG_HASH_BYTES];
    buf[0] = 0x01;
    memcpy(buf + 1, left, DFT_TLOG_HASH_BYTES);
    memcpy(buf + 1 + DFT_TLOG_HASH_BYTES, right, DFT_TLOG_HASH_BYTES);
    crypto_sha256_once(out, buf, sizeof buf);
}

void
tlog_hash_empty(unsigned char out[DFT_TLOG_HASH_BYTES])
{
    crypto_sha256_once(out, "", 0);
}

enum dft_err
tlog_hash_decode(unsigned char out[DFT_TLOG_HASH_BYTES], const char *b64, size_t len,
                 struct dft_error *err)
{
    unsigned char tmp[DFT_TLOG_HASH_BYTES + 3];
    size_t n = 0;
    if (len != 44 || dft_b64_decode(tmp, sizeof tmp, &n, b64, len) != DFT_OK ||
        n != DFT_TLOG_HASH_BYTES) {
        return dft_fail(err, DFT_ERR_INPUT, "hash is not the base64 of 32 bytes");
    }
    memcpy(out, tmp, DFT_TLOG_HASH_BYTES);
    return DFT_OK;
}

void
tlog_hash_encode(char out[DFT_TLOG_HASH_B64], const unsigned char h[DFT_TLOG_HASH_BYTES])
{
    dft_b64_encode(out, h, DFT_TLOG_HASH_BYTES);
}

static unsigned
bit_len(uint64_t x)
{
    return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x);
}

size_t
tlog_inclusion_len(uint64_t index, uint64_t size)
{
    if (index >= size) {
        return 0;
    }
    unsigned inner = bit_len(index ^ (size - 1));
    uint64_t rest = inner >= 64 ? 0 : index >> inner;
    return inner + (size_t)__builtin_popcountll(rest);
}

size_t
tlog_consistency_len(uint64_t old_size, uint64_t new_size)
{
    if (old_size == 0 || old_size >= new_size) {
        return 0;
    }
    unsigned level = (unsigned)__builtin_ctzll(old_size);
    uint64_t index = (old_size - 1) >> level;
    uint64_t last = (new_size - 1) >> level;
    size_t n = tlog_inclusion_len(index, last + 1);
    return n + (index != 0 ? 1 : 0);
}

static int
hash_eq(const unsigned char *a, const unsigned char *b)
{
    return sodium_memcmp(a, b, DFT_TLOG_HASH_BYTES) == 0;
}

enum dft_err
tlog_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf_hash[32],
                      const unsigned char (*proof)[32], size_t proof_len,
                      const unsigned char root[32], struct dft_error *err)
{
    if (index >= size) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "inclusion proof: index %llu is not below tree size %llu",
                        (unsigned long long)index, (unsigned long long)size);
    }
    if (proof_len != tlog_inclusion_len(index, size)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "inclusion proof: %zu hashes where %zu are needed",
                        proof_len, tlog_inclusion_len(index, size));
    }
    /* RFC 9162 section 2.1.3.2. */
    uint64_t fn = index;
    uint64_t sn = size - 1;
    unsigned char r[DFT_TLOG_HASH_BYTES];
    memcpy(r, leaf_hash, sizeof r);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "inclusion proof: too long");
        }
        if ((fn & 1) != 0 || fn == sn) {
            tlog_hash_node(r, proof[i], r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_hash_node(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "inclusion proof: too short");
    }
    if (!hash_eq(r, root)) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "inclusion proof: leaf %llu does not lead to the root of tree size %llu",
                        (unsigned long long)index, (unsigned long long)size);
    }
    return DFT_OK;
}

enum dft_err
tlog_verify_consistency(uint64_t old_size, uint64_t new_size, const unsigned char old_root[32],
                        const unsigned char new_root[32], const unsigned char (*proof)[32],
                        size_t proof_len, struct dft_error *err)
{
    if (old_size == 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "consistency proof: from the empty tree");
    }
    if (old_size > new_size) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "consistency proof: old size %llu is above new size %llu",
                        (unsigned long long)old_size, (unsigned long long)new_size);
    }
    if (old_size == new_size) {
        if (proof_len != 0) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "consistency proof: not empty between equal sizes");
        }
        if (!hash_eq(old_root, new_root)) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "consistency proof: different roots at the same size %llu",
                            (unsigned long long)old_size);
        }
        return DFT_OK;
    }
    size_t want = tlog_consistency_len(old_size, new_size);
    if (proof_len != want) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "consistency proof: %zu hashes where %zu are needed", proof_len, want);
    }
    /* RFC 9162 section 2.1.4.2; when old_size is a power of two its root heads the path. */
    size_t i = 0;
    const unsigned char *first = NULL;
    if ((old_size & (old_size - 1)) == 0) {
        first = old_root;
    } else {
        first = proof[i++];
    }
    uint64_t fn = old_size - 1;
    uint64_t sn = new_size - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[DFT_TLOG_HASH_BYTES];
    unsigned char sr[DFT_TLOG_HASH_BYTES];
    memcpy(fr, first, sizeof fr);
    memcpy(sr, first, sizeof sr);
    for (; i < proof_len; i++) {
        if (sn == 0) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "consistency proof: too long");
        }
        if ((fn & 1) != 0 || fn == sn) {
            tlog_hash_node(fr, proof[i], fr);
            tlog_hash_node(sr, proof[i], sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_hash_node(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "consistency proof: too short");
    }
    if (!hash_eq(fr, old_root)) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "consistency proof: does not lead to the old root of size %llu",
                        (unsigned long long)old_size);
    }
    if (!hash_eq(sr, new_root)) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "consistency proof: does not lead to the new root of size %llu",
                        (unsigned long long)new_size);
    }
    return DFT_OK;
}
