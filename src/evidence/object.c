/*
 * object.c - the evidence object format: header, key wrap, chunk AEAD, reading a byte range,
 * verifying and extracting an object (docs/evidence-format.md).
 *
 * Never returns or writes plaintext of a chunk whose tag did not verify, and never leaves the
 * temporary file of a failed extract behind. The file key lives in sodium_malloc memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/hmac.h>
#include <sodium.h>

#include "crypto/gcm.h"
#include "crypto/hash.h"
#include "evidence/internal.h"
#include "evidence/rekey.h"

static const char id_label[] = "defter evidence object v1";

struct dft_evidence_obj {
    int fd;                               /* the object file, read-only */
    struct dft_evidence_header h;         /* parsed header */
    unsigned char *file_key;              /* sodium_malloc: the unwrapped per-file key */
    unsigned char sha256[DFT_HASH_BYTES]; /* plaintext SHA-256 from the header */
    EVP_CIPHER_CTX *ctx;                  /* AES-256-GCM, key set, decrypting */
    unsigned char *chunk;                 /* one chunk and its tag, for dft_evidence_read */
    uint64_t nchunks;                     /* chunk count */
    char hex[DFT_OBJECT_HEX_BYTES];
};

uint64_t
evidence_chunk_count(uint64_t size, uint32_t chunk_bytes)
{
    if (size == 0) {
        return 1;
    }
    return (size + chunk_bytes - 1) / chunk_bytes;
}

static size_t
chunk_len(uint64_t size, uint32_t cb, uint64_t index)
{
    uint64_t start = index * cb;
    uint64_t left = size > start ? size - start : 0;
    return (size_t)(left < cb ? left : cb);
}

static uint64_t
chunk_offset(uint32_t cb, uint64_t index)
{
    return DFT_EVIDENCE_HEADER_BYTES + index * ((uint64_t)cb + DFT_EVIDENCE_TAG_BYTES);
}

void
evd_chunk_nonce(unsigned char nonce[12], uint64_t index)
{
    memset(nonce, 0, 4);
    dft_be_put(nonce + 4, index, 8);
}

void
evd_chunk_aad(unsigned char aad[EVD_CHUNK_AAD], const unsigned char uid[EVD_UID_BYTES],
              uint64_t index, int final)
{
    memcpy(aad, uid, EVD_UID_BYTES);
    dft_be_put(aad + EVD_UID_BYTES, index, 8);
    aad[EVD_UID_BYTES + 8] = final ? 1 : 0;
}

int
evd_chunk_seal(EVP_CIPHER_CTX *ctx, unsigned char *p, size_t n, uint64_t index, int final,
               const unsigned char uid[EVD_UID_BYTES])
{
    unsigned char nonce[12], aad[EVD_CHUNK_AAD];
    evd_chunk_nonce(nonce, index);
    evd_chunk_aad(aad, uid, index, final);
    return crypto_gcm_seal(ctx, p, p + n, p, n, nonce, aad, EVD_CHUNK_AAD);
}

int
evd_chunk_open(EVP_CIPHER_CTX *ctx, unsigned char *p, size_t n, uint64_t index, int final,
               const unsigned char uid[EVD_UID_BYTES])
{
    unsigned char nonce[12], aad[EVD_CHUNK_AAD];
    evd_chunk_nonce(nonce, index);
    evd_chunk_aad(aad, uid, index, final);
    return crypto_gcm_open(ctx, p, p + n, p, n, nonce, aad, EVD_CHUNK_AAD);
}

void
evd_object_id(unsigned char id[DFT_OBJECT_ID_BYTES], const unsigned char dedup_key[DFT_KEY_BYTES],
              const unsigned char sha256[DFT_HASH_BYTES])
{
    unsigned char msg[sizeof id_label + DFT_HASH_BYTES];
    unsigned int len = 0;
    memcpy(msg, id_label, sizeof id_label); /* with its NUL as separator */
    memcpy(msg + sizeof id_label, sha256, DFT_HASH_BYTES);
    if (HMAC(EVP_sha256(), dedup_key, DFT_KEY_BYTES, msg, sizeof msg, id, &len) == NULL) {
        DFT_ASSERT(0 && "HMAC failed");
    }
    sodium_memzero(msg, sizeof msg);
}

enum dft_err
evd_header_build(unsigned char out[DFT_EVIDENCE_HEADER_BYTES], uint64_t size,
                 const unsigned char id[DFT_OBJECT_ID_BYTES],
                 const unsigned char uid[EVD_UID_BYTES],
                 const unsigned char object_key[DFT_KEY_BYTES],
                 const unsigned char file_key[DFT_KEY_BYTES],
                 const unsigned char sha256[DFT_HASH_BYTES])
{
    unsigned char secret[EVD_SECRET_BYTES];
    unsigned long long clen = 0;
    memset(out, 0, DFT_EVIDENCE_HEADER_BYTES);
    memcpy(out, EVD_MAGIC, EVD_MAGIC_BYTES);
    dft_be_put(out + 8, DFT_EVIDENCE_CHUNK_BYTES, 4);
    dft_be_put(out + 12, 0, 4);
    dft_be_put(out + 16, 0, 8); /* v1 had the size here; it is inside the wrap now */
    memcpy(out + 24, id, DFT_OBJECT_ID_BYTES);
    memcpy(out + EVD_UID_OFF, uid, EVD_UID_BYTES);
    randombytes_buf(out + EVD_NONCE_OFF, 24);
    memcpy(secret, file_key, DFT_KEY_BYTES);
    memcpy(secret + DFT_KEY_BYTES, sha256, DFT_HASH_BYTES);
    dft_be_put(secret + DFT_KEY_BYTES + DFT_HASH_BYTES, size, 8);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + EVD_WRAPPED_OFF, &clen, secret, sizeof secret,
                                               out, EVD_AAD_HDR, NULL, out + EVD_NONCE_OFF,
                                               object_key);
    sodium_memzero(secret, sizeof secret);
    return clen == EVD_WRAPPED_BYTES ? DFT_OK : DFT_ERR_CRYPTO;
}

/* ---- camouflaged vaults: the clear part of the header encoded (docs/evidence-format.md) ---- */

static const char camo_ctx[crypto_kdf_CONTEXTBYTES + 1] = "dftobjcm";

int
evd_header_clear(const unsigned char *p, size_t n)
{
    return n >= EVD_MAGIC_BYTES && memcmp(p, EVD_MAGIC, EVD_MAGIC_BYTES - 1) == 0;
}

int
evd_header_camo_xor(unsigned char *p, size_t n, const unsigned char object_key[DFT_KEY_BYTES])
{
    if (n < DFT_EVIDENCE_HEADER_BYTES) {
        return -1;
    }
    unsigned char *ck = sodium_malloc(crypto_stream_xchacha20_KEYBYTES);
    if (ck == NULL) {
        return -1;
    }
    /* CK = crypto_kdf(object_key, id 1, "dftobjcm"); nonce = the wrap's random nonce */
    int rc =
        crypto_kdf_derive_from_key(ck, crypto_stream_xchacha20_KEYBYTES, 1, camo_ctx, object_key);
    if (rc == 0) {
        rc = crypto_stream_xchacha20_xor(p, p, EVD_CAMO_BYTES, p + EVD_NONCE_OFF, ck);
    }
    sodium_free(ck);
    return rc == 0 ? 0 : -1;
}

enum dft_err
evidence_header_parse(struct dft_evidence_header *h, const unsigned char *p, size_t n,
                      struct dft_error *err)
{
    if (n < DFT_EVIDENCE_HEADER_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object header is truncated");
    }
    if (memcmp(p, "DFTOBJv1", EVD_MAGIC_BYTES) == 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "evidence object is in the unpadded v1 format, which is not supported");
    }
    if (memcmp(p, EVD_MAGIC, EVD_MAGIC_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "not an evidence object (bad magic)");
    }
    uint32_t cb = (uint32_t)dft_be_get(p + 8, 4);
    if (cb < EVD_CHUNK_MIN || cb > EVD_CHUNK_MAX || (cb & (cb - 1)) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object has a bad chunk size");
    }
    if ((uint32_t)dft_be_get(p + 12, 4) != 0 || dft_be_get(p + 16, 8) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object has unknown flags");
    }
    h->chunk_bytes = cb;
    h->size = 0;
    memcpy(h->id, p + 24, DFT_OBJECT_ID_BYTES);
    memcpy(h->uid, p + EVD_UID_OFF, EVD_UID_BYTES);
    memcpy(h->nonce, p + EVD_NONCE_OFF, sizeof h->nonce);
    memcpy(h->wrapped, p + EVD_WRAPPED_OFF, sizeof h->wrapped);
    return DFT_OK;
}

enum dft_err
evd_header_open(const unsigned char *p, size_t n, const unsigned char object_key[DFT_KEY_BYTES],
                unsigned char file_key[DFT_KEY_BYTES], unsigned char sha256[DFT_HASH_BYTES],
                uint64_t *size, struct dft_error *err)
{
    unsigned char secret[EVD_SECRET_BYTES];
    unsigned long long mlen = 0;
    if (n < DFT_EVIDENCE_HEADER_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object header is truncated");
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL, p + EVD_WRAPPED_OFF,
                                                   EVD_WRAPPED_BYTES, p, EVD_AAD_HDR,
                                                   p + EVD_NONCE_OFF, object_key) != 0 ||
        mlen != sizeof secret) {
        sodium_memzero(secret, sizeof secret);
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "evidence object header does not authenticate (tampered or another "
                        "vault)");
    }
    uint64_t sz = dft_be_get(secret + DFT_KEY_BYTES + DFT_HASH_BYTES, 8);
    if (sz > DFT_EVIDENCE_SIZE_MAX) {
        sodium_memzero(secret, sizeof secret);
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object size is out of range");
    }
    memcpy(file_key, secret, DFT_KEY_BYTES);
    memcpy(sha256, secret + DFT_KEY_BYTES, DFT_HASH_BYTES);
    *size = sz;
    sodium_memzero(secret, sizeof secret);
    return DFT_OK;
}

enum dft_err
evidence_header_unwrap(const unsigned char *p, size_t n,
                       const unsigned char object_key[DFT_KEY_BYTES],
                       unsigned char file_key[DFT_KEY_BYTES], unsigned char sha256[DFT_HASH_BYTES],
                       struct dft_error *err)
{
    uint64_t size = 0;
    return evd_header_open(p, n, object_key, file_key, sha256, &size, err);
}

/* ---- padding ---- */

/*
 * The Padme bucket of a length (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
 * and Communication with PURBs", 2019) with the kept mantissa capped at 4 bits: L rounds up to
 * a multiple of 2^(E - min(S, 4)), E = floor(log2 L), S = floor(log2 E) + 1. Below 256 bytes
 * this is Padme itself; above, the buckets are coarser than Padme's (so leak less) and the
 * overhead stays under 2^-4 = 6.25 %.
 */
static uint64_t
padme(uint64_t len)
{
    if (len < 2) {
        return len;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(len);
    unsigned s = 32u - (unsigned)__builtin_clz(e); /* floor(log2 e) + 1 */
    if (s > 4) {
        s = 4;
    }
    unsigned last = e - s;
    uint64_t mask = (UINT64_C(1) << last) - 1;
    return (len + mask) & ~mask;
}

/* Offset of the pad: right after the last chunk. */
static uint64_t
pad_off(uint64_t size)
{
    uint64_t n = evidence_chunk_count(size, DFT_EVIDENCE_CHUNK_BYTES);
    return DFT_EVIDENCE_HEADER_BYTES + n * DFT_EVIDENCE_TAG_BYTES + size;
}

uint64_t
evd_object_len(uint64_t size)
{
    return padme(pad_off(size) + DFT_EVIDENCE_TAG_BYTES);
}

/* The pad's nonce (the chunk nonces start with four zero bytes) and AD (flag 2). */
static void
pad_nonce_aad(unsigned char nonce[12], unsigned char aad[EVD_CHUNK_AAD],
              const unsigned char uid[EVD_UID_BYTES], uint64_t size)
{
    memset(nonce, 0, 12);
    nonce[3] = 1;
    evd_chunk_aad(aad, uid, evidence_chunk_count(size, DFT_EVIDENCE_CHUNK_BYTES), 0);
    aad[EVD_CHUNK_AAD - 1] = 2;
}

static int
pad_init(struct evd_pad *p, int fd, const unsigned char file_key[DFT_KEY_BYTES],
         const unsigned char uid[EVD_UID_BYTES], uint64_t size, int enc)
{
    unsigned char nonce[12], aad[EVD_CHUNK_AAD];
    int outl = 0;
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->off = pad_off(size);
    p->left = evd_object_len(size) - p->off - DFT_EVIDENCE_TAG_BYTES;
    uint64_t n = evidence_chunk_count(size, DFT_EVIDENCE_CHUNK_BYTES);
    p->step = (p->left + n - 1) / n;
    p->ctx = crypto_gcm_new(file_key, enc);
    p->buf = malloc(EVD_PAD_STEP_MAX + DFT_EVIDENCE_TAG_BYTES);
    pad_nonce_aad(nonce, aad, uid, size);
    if (p->ctx == NULL || p->buf == NULL ||
        EVP_CipherInit_ex(p->ctx, NULL, NULL, NULL, nonce, enc) != 1 ||
        EVP_CipherUpdate(p->ctx, NULL, &outl, aad, EVD_CHUNK_AAD) != 1) {
        return -1;
    }
    return 0;
}

int
evd_pad_begin(struct evd_pad *p, int fd, const unsigned char file_key[DFT_KEY_BYTES],
              const unsigned char uid[EVD_UID_BYTES], uint64_t size)
{
    return pad_init(p, fd, file_key, uid, size, 1);
}

/* Seal and write up to max pad bytes. */
static int
pad_write(struct evd_pad *p, uint64_t max)
{
    while (max > 0 && p->left > 0) {
        size_t k = (size_t)(p->left < max ? p->left : max);
        int outl = 0;
        if (k > EVD_PAD_STEP_MAX) {
            k = EVD_PAD_STEP_MAX;
        }
        memset(p->buf, 0, k);
        if (EVP_EncryptUpdate(p->ctx, p->buf, &outl, p->buf, (int)k) != 1 || (size_t)outl != k) {
            return -1;
        }
        if (file_pwrite_all(p->fd, p->buf, k, p->off) != 0) {
            return -1;
        }
        p->off += k;
        p->left -= k;
        max -= k;
    }
    return 0;
}

int
evd_pad_step(struct evd_pad *p)
{
    return pad_write(p, p->step);
}

int
evd_pad_end(struct evd_pad *p)
{
    int outl = 0;
    if (pad_write(p, UINT64_MAX) != 0 || EVP_EncryptFinal_ex(p->ctx, p->buf, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(p->ctx, EVP_CTRL_GCM_GET_TAG, DFT_EVIDENCE_TAG_BYTES, p->buf) != 1 ||
        file_pwrite_all(p->fd, p->buf, DFT_EVIDENCE_TAG_BYTES, p->off) != 0) {
        return -1;
    }
    return 0;
}

void
evd_pad_release(struct evd_pad *p)
{
    EVP_CIPHER_CTX_free(p->ctx);
    free(p->buf);
    memset(p, 0, sizeof *p);
}

enum dft_err
evd_pad_write(int fd, const unsigned char file_key[DFT_KEY_BYTES],
              const unsigned char uid[EVD_UID_BYTES], uint64_t size, struct dft_error *err)
{
    struct evd_pad p;
    enum dft_err rc = DFT_OK;
    if (evd_pad_begin(&p, fd, file_key, uid, size) != 0) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up AES-256-GCM");
    } else if (evd_pad_end(&p) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write an object file: %s", file_errstr(errno));
    }
    evd_pad_release(&p);
    return rc;
}

/* Authenticate the pad of an open object (full verify). 0 ok, -1 forged, -2 read error. */
static int
pad_check(int fd, const unsigned char *file_key, const unsigned char uid[EVD_UID_BYTES],
          uint64_t size)
{
    struct evd_pad p;
    unsigned char tag[DFT_EVIDENCE_TAG_BYTES];
    int rc = -1;
    int outl = 0;
    if (pad_init(&p, fd, file_key, uid, size, 0) != 0) {
        goto out;
    }
    while (p.left > 0) {
        size_t k = (size_t)(p.left < EVD_PAD_STEP_MAX ? p.left : EVD_PAD_STEP_MAX);
        if (file_pread_full(fd, p.buf, k, p.off) != (ssize_t)k) {
            rc = -2;
            goto out;
        }
        if (EVP_DecryptUpdate(p.ctx, p.buf, &outl, p.buf, (int)k) != 1) {
            goto out;
        }
        p.off += k;
        p.left -= k;
    }
    if (file_pread_full(fd, tag, sizeof tag, p.off) != (ssize_t)sizeof tag) {
        rc = -2;
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(p.ctx, EVP_CTRL_GCM_SET_TAG, DFT_EVIDENCE_TAG_BYTES, tag) == 1 &&
        EVP_DecryptFinal_ex(p.ctx, p.buf, &outl) > 0) {
        rc = 0;
    }
out:
    evd_pad_release(&p);
    return rc;
}

int
evd_hex_valid(const char *hex)
{
    if (hex == NULL || strlen(hex) != 2 * DFT_OBJECT_ID_BYTES) {
        return 0;
    }
    for (const char *c = hex; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int
evd_object_path(char *out, size_t max, const char *objects_dir, const char *hex)
{
    int n = snprintf(out, max, "%s/%.2s/%s", objects_dir, hex, hex);
    return (n < 0 || (size_t)n >= max) ? -1 : 0;
}

int
evidence_remove(const char *objects_dir, const char *hex)
{
    char p[PATH_MAX];
    if (!evd_hex_valid(hex) || evd_object_path(p, sizeof p, objects_dir, hex) != 0) {
        return -1;
    }
    return unlink(p);
}

void
dft_evidence_close(struct dft_evidence_obj *o)
{
    if (o == NULL) {
        return;
    }
    if (o->fd >= 0) {
        close(o->fd);
    }
    if (o->file_key != NULL) {
        sodium_free(o->file_key);
    }
    crypto_gcm_free(o->ctx);
    if (o->chunk != NULL) {
        sodium_memzero(o->chunk, (size_t)o->h.chunk_bytes + DFT_EVIDENCE_TAG_BYTES);
        free(o->chunk);
    }
    sodium_memzero(o->sha256, sizeof o->sha256);
    free(o);
}

enum dft_err
evidence_open(struct dft_evidence_obj **out, const char *objects_dir, const struct dft_keys *keys,
              const char *object, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_evidence_obj *o = NULL;
    unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES];
    unsigned char want_id[DFT_OBJECT_ID_BYTES];
    char path[PATH_MAX];
    struct stat st;

    *out = NULL;
    if (!evd_hex_valid(object) || dft_hex_decode(want_id, sizeof want_id, object) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "bad evidence object id");
    }
    if (evd_object_path(path, sizeof path, objects_dir, object) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "objects directory path is too long");
    }
    o = calloc(1, sizeof *o);
    if (o == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    o->fd = -1;
    memcpy(o->hex, object, DFT_OBJECT_HEX_BYTES);
    o->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (o->fd < 0) {
        if (errno == ENOENT) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object %.16s is missing", object);
        } else {
            rc = dft_fail(err, DFT_ERR_IO, "cannot open evidence object %.16s: %s", object,
                          file_errstr(errno));
        }
        goto out;
    }
    if (fstat(o->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object %.16s is not a file", object);
        goto out;
    }
    ssize_t r = file_pread_full(o->fd, hdr, sizeof hdr, 0);
    if (r < 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot read evidence object %.16s: %s", object,
                      file_errstr(errno));
        goto out;
    }
    /* a camouflaged vault's object has no clear magic: decode its header first */
    if ((size_t)r == sizeof hdr && !evd_header_clear(hdr, sizeof hdr)) {
        if (evd_header_camo_xor(hdr, sizeof hdr, keys->object_key) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (!evd_header_clear(hdr, sizeof hdr)) {
            rc =
                dft_fail(err, DFT_ERR_INTEGRITY,
                         "evidence object %.16s does not open (tampered or another vault)", object);
            goto out;
        }
    }
    rc = evidence_header_parse(&o->h, hdr, (size_t)r, err);
    if (rc != DFT_OK) {
        goto out;
    }
    o->file_key = sodium_malloc(DFT_KEY_BYTES);
    if (o->file_key == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc =
        evd_header_open(hdr, sizeof hdr, keys->object_key, o->file_key, o->sha256, &o->h.size, err);
    if (rc != DFT_OK) {
        goto out;
    }
    if (sodium_memcmp(o->h.id, want_id, sizeof want_id) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object %.16s holds another object", object);
        goto out;
    }
    o->nchunks = evidence_chunk_count(o->h.size, o->h.chunk_bytes);
    uint64_t want_len = evd_object_len(o->h.size);
    if ((uint64_t)st.st_size != want_len) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY,
                      "evidence object %.16s has the wrong length (truncated or extended)", object);
        goto out;
    }
    o->ctx = crypto_gcm_new(o->file_key, 0);
    if (o->ctx == NULL) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up AES-256-GCM");
        goto out;
    }
    *out = o;
    o = NULL;
out:
    dft_evidence_close(o);
    return rc;
}

uint64_t
dft_evidence_size(const struct dft_evidence_obj *o)
{
    return o->h.size;
}

void
dft_evidence_sha256(const struct dft_evidence_obj *o, unsigned char out[DFT_HASH_BYTES])
{
    memcpy(out, o->sha256, DFT_HASH_BYTES);
}

/* Read and decrypt chunk index into buf (chunk_bytes + tag). */
static enum dft_err
read_chunk(struct dft_evidence_obj *o, EVP_CIPHER_CTX *ctx, uint64_t index, unsigned char *buf,
           size_t *len_out, struct dft_error *err)
{
    size_t n = chunk_len(o->h.size, o->h.chunk_bytes, index);
    ssize_t r = file_pread_full(o->fd, buf, n + DFT_EVIDENCE_TAG_BYTES,
                                chunk_offset(o->h.chunk_bytes, index));
    if (r < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot read evidence object %.16s: %s", o->hex,
                        file_errstr(errno));
    }
    if ((size_t)r != n + DFT_EVIDENCE_TAG_BYTES ||
        evd_chunk_open(ctx, buf, n, index, index + 1 == o->nchunks, o->h.uid) != 0) {
        sodium_memzero(buf, n);
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "evidence object %.16s: chunk %llu does not authenticate (tampered)",
                        o->hex, (unsigned long long)index);
    }
    *len_out = n;
    return DFT_OK;
}

enum dft_err
dft_evidence_read(struct dft_evidence_obj *o, uint64_t off, void *buf, size_t len, size_t *n_out,
                  struct dft_error *err)
{
    unsigned char *dst = buf;
    size_t done = 0;
    *n_out = 0;
    if (o->chunk == NULL) {
        o->chunk = malloc((size_t)o->h.chunk_bytes + DFT_EVIDENCE_TAG_BYTES);
        if (o->chunk == NULL) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    while (done < len && off < o->h.size) {
        uint64_t index = off / o->h.chunk_bytes;
        size_t within = (size_t)(off % o->h.chunk_bytes);
        size_t n = 0;
        enum dft_err rc = read_chunk(o, o->ctx, index, o->chunk, &n, err);
        if (rc != DFT_OK) {
            sodium_memzero(buf, done);
            return rc;
        }
        size_t take = n - within;
        if (take > len - done) {
            take = len - done;
        }
        memcpy(dst + done, o->chunk + within, take);
        done += take;
        off += take;
    }
    *n_out = done;
    return DFT_OK;
}

/* ---- whole-object pass: decrypt (this thread), hash (second), write (third, extract_write.c) */

struct hasher {
    struct evd_pipe *pipe;
    struct crypto_sha256 md; /* crypto_sha256_update cannot fail */
};

/* The second thread hashes every chunk. */
static void *
hash_main(void *arg)
{
    struct hasher *hs = arg;
    struct evd_slot *s;
    while ((s = evd_pipe_take(hs->pipe)) != NULL) {
        crypto_sha256_update(&hs->md, s->buf, s->len);
        evd_pipe_consumed(hs->pipe);
    }
    return NULL;
}

/*
 * Decrypt and authenticate every chunk on this thread; hash it on a second thread and, with an
 * output (out_fd >= 0), write it on a third; then compare the hash with the header's SHA-256,
 * expected (may be NULL) and the object id.
 */
static enum dft_err
decrypt_all(struct dft_evidence_obj *o, const struct dft_keys *keys, int out_fd,
            const unsigned char *expected, dft_progress_fn progress, void *pctx,
            unsigned char sha_out[DFT_HASH_BYTES], struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct evd_pipe pipe;
    struct hasher hs = {&pipe, {NULL}};
    struct evd_outw ow = {&pipe, out_fd, 0, o->h.chunk_bytes, 0, 0};
    pthread_t th, tw;
    int started = 0, wstarted = 0;
    unsigned char sha[DFT_HASH_BYTES], id[DFT_OBJECT_ID_BYTES];

    if (evd_pipe_init(&pipe, (size_t)o->h.chunk_bytes + DFT_EVIDENCE_TAG_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (crypto_sha256_init(&hs.md, NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up SHA-256");
        goto out;
    }
    if (out_fd >= 0) {
        evd_pipe_second(&pipe);
        ow.direct = evd_out_direct_begin(out_fd);
    }
    if (pthread_create(&th, NULL, hash_main, &hs) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot start the hashing thread");
        goto out;
    }
    started = 1;
    if (out_fd >= 0) {
        if (pthread_create(&tw, NULL, evd_out_main, &ow) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "cannot start the writing thread");
            goto out;
        }
        wstarted = 1;
    }
    uint64_t done = 0;
    for (uint64_t i = 0; i < o->nchunks; i++) {
        struct evd_slot *s = evd_pipe_acquire(&pipe);
        if (s == NULL) {
            /* only the writing thread aborts the ring here, after setting write_errno */
            rc = dft_fail(err, DFT_ERR_IO, "cannot write the extracted file: %s",
                          file_errstr(ow.write_errno != 0 ? ow.write_errno : EIO));
            goto out;
        }
        rc = read_chunk(o, o->ctx, i, s->buf, &s->len, err);
        if (rc != DFT_OK) {
            goto out;
        }
        /* authenticated: only now does the chunk go to the hashing and writing threads */
        s->index = i;
        s->final = i + 1 == o->nchunks;
        done += s->len;
        evd_pipe_submit(&pipe);
        if (progress != NULL) {
            progress(pctx, done, o->h.size);
        }
    }
    evd_pipe_finish(&pipe);
    pthread_join(th, NULL);
    started = 0;
    if (wstarted) {
        pthread_join(tw, NULL);
        wstarted = 0;
    }
    if (ow.write_errno != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write the extracted file: %s",
                      file_errstr(ow.write_errno));
        goto out;
    }
    crypto_sha256_final(&hs.md, sha);
    if (sodium_memcmp(sha, o->sha256, sizeof sha) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object %.16s: SHA-256 mismatch", o->hex);
        goto out;
    }
    if (expected != NULL && sodium_memcmp(sha, expected, sizeof sha) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY,
                      "evidence object %.16s: SHA-256 differs from the one recorded at import",
                      o->hex);
        goto out;
    }
    evd_object_id(id, keys->dedup_key, sha);
    /* an object pulled from another member keeps its author's id: callers pass no dedup key
     * (all zero) and rely on the SHA-256 the evidence operation recorded (expected) */
    if (!sodium_is_zero(keys->dedup_key, sizeof keys->dedup_key) &&
        sodium_memcmp(id, o->h.id, sizeof id) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object %.16s: content does not match id",
                      o->hex);
        goto out;
    }
    if (sha_out != NULL) {
        memcpy(sha_out, sha, sizeof sha);
    }
out:
    if (started || wstarted) {
        evd_pipe_abort(&pipe);
    }
    if (started) {
        pthread_join(th, NULL);
    }
    if (wstarted) {
        pthread_join(tw, NULL);
    }
    crypto_sha256_release(&hs.md);
    evd_pipe_release(&pipe);
    return rc;
}

enum dft_err
evidence_verify(const char *objects_dir, const struct dft_keys *keys, const char *object,
                const unsigned char *expected, unsigned flags, struct dft_error *err)
{
    struct dft_evidence_obj *o = NULL;
    enum dft_err rc = evidence_open(&o, objects_dir, keys, object, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (expected != NULL && sodium_memcmp(expected, o->sha256, DFT_HASH_BYTES) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY,
                      "evidence object %.16s: SHA-256 differs from the one recorded at import",
                      object);
        goto out;
    }
    if (flags & EVIDENCE_QUICK) {
        unsigned char *buf = malloc((size_t)o->h.chunk_bytes + DFT_EVIDENCE_TAG_BYTES);
        size_t n = 0;
        if (buf == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = read_chunk(o, o->ctx, o->nchunks - 1, buf, &n, err);
        sodium_memzero(buf, n);
        free(buf);
        goto out;
    }
    rc = decrypt_all(o, keys, -1, expected, NULL, NULL, NULL, err);
    if (rc == DFT_OK) {
        /* the pad carries nothing, but a full check authenticates every byte of the object */
        int pc = pad_check(o->fd, o->file_key, o->h.uid, o->h.size);
        if (pc == -2) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot read evidence object %.16s: %s", object,
                          file_errstr(errno));
        } else if (pc != 0) {
            rc =
                dft_fail(err, DFT_ERR_INTEGRITY,
                         "evidence object %.16s: padding does not authenticate (tampered)", object);
        }
    }
out:
    dft_evidence_close(o);
    return rc;
}

/* Split path into its directory ("." when none) in dir. */
static int
parent_dir(char *dir, size_t max, const char *path)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash == NULL) {
        n = snprintf(dir, max, ".");
    } else if (slash == path) {
        n = snprintf(dir, max, "/");
    } else {
        n = snprintf(dir, max, "%.*s", (int)(slash - path), path);
    }
    return (n < 0 || (size_t)n >= max) ? -1 : 0;
}

enum dft_err
evidence_extract(const char *objects_dir, const struct dft_keys *keys, const char *object,
                 const unsigned char *expected, const char *out_path, dft_progress_fn progress,
                 void *pctx, unsigned char sha_out[DFT_HASH_BYTES], struct dft_error *err)
{
    enum dft_err rc;
    struct dft_evidence_obj *o = NULL;
    char dir[PATH_MAX], tmp[PATH_MAX];
    int fd = -1;

    tmp[0] = '\0';
    rc = evidence_open(&o, objects_dir, keys, object, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (parent_dir(dir, sizeof dir, out_path) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "output path is too long");
        goto out;
    }
    fd = file_create_temp(dir, ".defter-extract-", tmp, sizeof tmp);
    if (fd < 0) {
        tmp[0] = '\0';
        rc = dft_fail(err, errno == ENOENT ? DFT_ERR_NOT_FOUND : DFT_ERR_IO,
                      "cannot create '%s': %s", out_path, file_errstr(errno));
        goto out;
    }
    rc = decrypt_all(o, keys, fd, expected, progress, pctx, sha_out, err);
    if (rc != DFT_OK) {
        goto out;
    }
    if (file_fsync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", out_path, file_errstr(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (file_rename(tmp, out_path) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", out_path, file_errstr(errno));
        goto out;
    }
    tmp[0] = '\0';
    if (file_fsync_dir(dir) != 0) {
        /* the file is complete; only its directory entry may not be durable yet */
        rc = dft_fail(err, DFT_ERR_IO, "cannot sync the directory of '%s': %s", out_path,
                      file_errstr(errno));
        unlink(out_path);
        goto out;
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    if (tmp[0] != '\0') {
        unlink(tmp);
    }
    dft_evidence_close(o);
    return rc;
}

/* ---- rekey (evidence/rekey.h) ---- */

/* hdr = in, decoded under key when camouflaged; *camo says whether it was. 0, or -1. */
static int
header_decoded(unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES],
               const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
               const unsigned char key[DFT_KEY_BYTES], int *camo)
{
    memcpy(hdr, in, DFT_EVIDENCE_HEADER_BYTES);
    *camo = !evd_header_clear(hdr, DFT_EVIDENCE_HEADER_BYTES);
    return *camo ? evd_header_camo_xor(hdr, DFT_EVIDENCE_HEADER_BYTES, key) : 0;
}

enum dft_err
evidence_header_rewrap_as(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                          unsigned char out[DFT_EVIDENCE_HEADER_BYTES],
                          const unsigned char old_key[DFT_KEY_BYTES],
                          const unsigned char new_key[DFT_KEY_BYTES], enum evidence_encoding enc,
                          struct dft_error *err)
{
    struct dft_evidence_header h;
    unsigned char *file_key = sodium_malloc(DFT_KEY_BYTES);
    unsigned char sha[DFT_HASH_BYTES], hdr[DFT_EVIDENCE_HEADER_BYTES];
    uint64_t size = 0;
    int camo = 0;
    enum dft_err rc;
    if (file_key == NULL || header_decoded(hdr, in, old_key, &camo) != 0) {
        sodium_free(file_key);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = evidence_header_parse(&h, hdr, DFT_EVIDENCE_HEADER_BYTES, err);
    if (rc == DFT_OK) {
        rc = evd_header_open(hdr, DFT_EVIDENCE_HEADER_BYTES, old_key, file_key, sha, &size, err);
    }
    if (rc == DFT_OK) {
        rc = evd_header_build(out, size, h.id, h.uid, new_key, file_key, sha);
        if (rc != DFT_OK) {
            rc = dft_fail(err, rc, "cannot wrap the file key");
        }
    }
    if (rc == DFT_OK && (enc == EVIDENCE_ENC_CAMOUFLAGED || (enc == EVIDENCE_ENC_KEEP && camo)) &&
        evd_header_camo_xor(out, DFT_EVIDENCE_HEADER_BYTES, new_key) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    sodium_free(file_key);
    sodium_memzero(sha, sizeof sha);
    sodium_memzero(hdr, sizeof hdr);
    return rc;
}

enum dft_err
evidence_header_rewrap(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                       unsigned char out[DFT_EVIDENCE_HEADER_BYTES],
                       const unsigned char old_key[DFT_KEY_BYTES],
                       const unsigned char new_key[DFT_KEY_BYTES], struct dft_error *err)
{
    return evidence_header_rewrap_as(in, out, old_key, new_key, EVIDENCE_ENC_KEEP, err);
}

int
evidence_header_opens(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                      const unsigned char key[DFT_KEY_BYTES])
{
    struct dft_evidence_header h;
    unsigned char *file_key = sodium_malloc(DFT_KEY_BYTES);
    unsigned char sha[DFT_HASH_BYTES], hdr[DFT_EVIDENCE_HEADER_BYTES];
    uint64_t size = 0;
    int camo = 0;
    int ok =
        file_key != NULL && header_decoded(hdr, in, key, &camo) == 0 &&
        evidence_header_parse(&h, hdr, DFT_EVIDENCE_HEADER_BYTES, NULL) == DFT_OK &&
        evd_header_open(hdr, DFT_EVIDENCE_HEADER_BYTES, key, file_key, sha, &size, NULL) == DFT_OK;
    sodium_free(file_key);
    sodium_memzero(sha, sizeof sha);
    sodium_memzero(hdr, sizeof hdr);
    return ok;
}

int
evidence_header_camouflaged(const unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES])
{
    return !evd_header_clear(hdr, DFT_EVIDENCE_HEADER_BYTES);
}
