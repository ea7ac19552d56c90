/*
 * recovery.c - organisational recovery, m of n: a random recovery key seals the master key in
 * the vault's recovery slot and is split with libgfshare (Shamir over GF(2^8)).
 *
 * libgfshare combines any shares into some secret and never says it is wrong, so each share
 * carries a checksum (checked first) and the combined key must open the recovery slot before
 * anything is written. A new split replaces the slot, so older shares open nothing. The
 * recovery key and the shares' y parts live in sodium_malloc memory and are wiped.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <libgfshare.h>
#include <sodium.h>

#include "vault/camouflage.h"
#include "vault/fsutil.h"
#include "vault/share.h"
#include "vault/vault_internal.h"

/* libgfshare's default source is random(); ours is libsodium's. */
static void
fill_rand(unsigned char *buf, unsigned int n)
{
    randombytes_buf(buf, n);
}

static void
vault_tag(unsigned char out[2], const unsigned char vault_id[DFT_VAULT_ID_BYTES])
{
    static const char ctx[] = "defter/share-vault-tag/v1";
    unsigned char h[32];
    crypto_generichash(h, sizeof h, vault_id, DFT_VAULT_ID_BYTES, (const unsigned char *)ctx,
                       sizeof ctx - 1);
    memcpy(out, h, 2);
}

/* Read the header on disk under the lock, as this vault's compartment sees it. */
static enum dft_err
read_own(struct dft_vault *v, struct dft_header *h, struct dft_error *err)
{
    enum dft_err rc = header_read(h, v->header_path, err);
    if (rc == DFT_OK) {
        rc = header_attach(h, &v->header, err);
    }
    return rc;
}

void
dft_recovery_shares_free(struct dft_recovery_shares *s)
{
    sodium_free(s);
}

enum dft_err
dft_vault_recovery_split(struct dft_vault *v, unsigned m, unsigned n,
                         struct dft_recovery_shares **out, struct dft_error *err)
{
    if (m < 2 || m > n || n > DFT_RECOVERY_SHARES_MAX) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "the threshold must be at least 2 and at most the number of shares "
                        "(at most %d)",
                        DFT_RECOVERY_SHARES_MAX);
    }
    enum dft_err rc = DFT_OK;
    int fd = -1;
    struct dft_header *h = calloc(1, sizeof *h);
    unsigned char *rkey = sodium_malloc(DFT_RECOVERY_KEY_BYTES);
    unsigned char *skey = sodium_malloc(32);
    struct dft_recovery_shares *s = sodium_malloc(sizeof *s);
    gfshare_ctx *ctx = NULL;
    if (h == NULL || rkey == NULL || skey == NULL || s == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memset(s, 0, sizeof *s);
    randombytes_buf(rkey, DFT_RECOVERY_KEY_BYTES);
    header_recovery_key(skey, rkey);
    if ((rc = vault_dir_lock(v, &fd, err)) != DFT_OK || (rc = read_own(v, h, err)) != DFT_OK) {
        goto out;
    }
    int r = header_role_slot(h, HEADER_ROLE_RECOVERY);
    if (r < 0) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no recovery slot");
        goto out;
    }
    /* The slot first: shares are shown only once the key they carry is durable. */
    header_slot_seal(h, r, HEADER_KIND_RECOVERY, 0, h->map, v->keys, skey);
    if ((rc = header_write(h, v->header_path, err)) != DFT_OK) {
        goto out;
    }
    v->header = *h;
    unsigned char xs[DFT_RECOVERY_SHARES_MAX];
    for (unsigned i = 0; i < n; i++) {
        xs[i] = (unsigned char)(i + 1);
    }
    gfshare_fill_rand = fill_rand;
    ctx = gfshare_ctx_init_enc(xs, n, (unsigned char)m, DFT_RECOVERY_KEY_BYTES);
    if (ctx == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    gfshare_ctx_enc_setsecret(ctx, rkey);
    unsigned char tag[4];
    vault_tag(tag, v->keys->vault_id);
    randombytes_buf(tag + 2, 2);
    s->m = m;
    s->n = n;
    for (unsigned i = 0; i < n; i++) {
        unsigned char *p = s->share[i];
        memcpy(p, tag, 4);
        p[SHARE_OFF_X] = xs[i];
        p[SHARE_OFF_M] = (unsigned char)m;
        p[SHARE_OFF_N] = (unsigned char)n;
        p[SHARE_OFF_VER] = 1;
        gfshare_ctx_enc_getshare(ctx, (unsigned char)i, p + SHARE_OFF_Y);
        share_seal(p);
    }
    *out = s;
    s = NULL;
out:
    if (ctx != NULL) {
        gfshare_ctx_free(ctx);
    }
    vault_dir_unlock(fd);
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    sodium_free(rkey);
    sodium_free(skey);
    sodium_free(s);
    return rc;
}

enum dft_err
dft_vault_recovery_void(struct dft_vault *v, struct dft_error *err)
{
    int fd = -1;
    struct dft_header *h = calloc(1, sizeof *h);
    enum dft_err rc = DFT_OK;
    if (h == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = vault_dir_lock(v, &fd, err)) == DFT_OK && (rc = read_own(v, h, err)) == DFT_OK) {
        int r = header_role_slot(h, HEADER_ROLE_RECOVERY);
        if (r >= 0) {
            header_slot_drop(h, r);
        }
        if ((rc = header_write(h, v->header_path, err)) == DFT_OK) {
            v->header = *h;
        }
    }
    vault_dir_unlock(fd);
    sodium_memzero(h, sizeof *h);
    free(h);
    return rc;
}

/* Check the set: checksums, one split, distinct indices, enough of them. */
static enum dft_err
check_set(const unsigned char (*shares)[DFT_SHARE_BYTES], unsigned k, struct dft_error *err)
{
    if (k == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "no recovery shares given");
    }
    for (unsigned i = 0; i < k; i++) {
        struct dft_error e = {0};
        if (dft_share_check(shares[i], &e) != DFT_OK) {
            return dft_fail(err, DFT_ERR_INPUT, "share %u: %s", i + 1, e.msg);
        }
        if (memcmp(shares[i], shares[0], 2) != 0) {
            return dft_fail(err, DFT_ERR_INPUT, "share %u is a share of another vault", i + 1);
        }
        if (memcmp(shares[i] + 2, shares[0] + 2, 2) != 0 ||
            shares[i][SHARE_OFF_M] != shares[0][SHARE_OFF_M] ||
            shares[i][SHARE_OFF_N] != shares[0][SHARE_OFF_N]) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "share %u belongs to another split of the vault (older shares are "
                            "void after a rotate)",
                            i + 1);
        }
        for (unsigned j = 0; j < i; j++) {
            if (shares[j][SHARE_OFF_X] == shares[i][SHARE_OFF_X]) {
                return dft_fail(err, DFT_ERR_INPUT, "shares %u and %u are the same share", j + 1,
                                i + 1);
            }
        }
    }
    if (k < shares[0][SHARE_OFF_M]) {
        return dft_fail(err, DFT_ERR_INPUT, "%u shares are needed, %u given",
                        shares[0][SHARE_OFF_M], k);
    }
    return DFT_OK;
}

enum dft_err
dft_vault_recovery_combine(const char *dir, const unsigned char (*shares)[DFT_SHARE_BYTES],
                           unsigned k, const char *new_pass, size_t new_len,
                           enum dft_kdf_level level, struct dft_error *err)
{
    enum dft_err rc = dft_crypto_init(err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (new_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
    }
    if (k > DFT_RECOVERY_SHARES_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "at most %d shares", DFT_RECOVERY_SHARES_MAX);
    }
    if ((rc = check_set(shares, k, err)) != DFT_OK) {
        return rc;
    }
    char path[PATH_MAX];
    int fd = -1;
    struct dft_header *h = calloc(1, sizeof *h);
    struct dft_keys *keys = keys_new();
    unsigned char *rkey = sodium_malloc(DFT_RECOVERY_KEY_BYTES);
    unsigned char *ys = sodium_malloc((size_t)k * 32);
    gfshare_ctx *ctx = NULL;
    if (h == NULL || keys == NULL || rkey == NULL || ys == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    unsigned char xs[DFT_RECOVERY_SHARES_MAX];
    for (unsigned i = 0; i < k; i++) {
        xs[i] = shares[i][SHARE_OFF_X];
        memcpy(ys + (size_t)i * 32, shares[i] + SHARE_OFF_Y, 32);
    }
    gfshare_fill_rand = fill_rand; /* also scrubs the context's buffers when it is freed */
    ctx = gfshare_ctx_init_dec(xs, k, DFT_RECOVERY_KEY_BYTES);
    if (ctx == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < k; i++) {
        gfshare_ctx_dec_giveshare(ctx, (unsigned char)i, ys + (size_t)i * 32);
    }
    gfshare_ctx_dec_extract(ctx, rkey);
    struct vault_layout lay;
    if ((rc = vault_layout_find(dir, &lay, err)) != DFT_OK ||
        (rc = vault_layout_path(&lay, dir, VAULT_FILE_HEADER, path, sizeof path, err)) != DFT_OK) {
        goto out;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no vault at '%s'", dir);
        goto out;
    }
    if ((rc = header_read(h, path, err)) != DFT_OK) {
        goto out;
    }
    /* The combined key must open the slot: libgfshare itself never says a key is wrong. */
    if (header_unlock_recovery(h, keys, rkey, NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE,
                      "these shares do not open this vault (another vault's, voided by a "
                      "rotate, or a wrong share)");
        goto out;
    }
    unsigned char tag[2];
    vault_tag(tag, keys->vault_id);
    if (memcmp(tag, shares[0], 2) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "the shares are of another vault");
        goto out;
    }
    if ((rc = header_wrap(h, keys, new_pass, new_len, level, err)) == DFT_OK) {
        rc = header_write(h, path, err);
    }
out:
    if (ctx != NULL) {
        gfshare_ctx_free(ctx);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    keys_free(keys);
    sodium_free(rkey);
    sodium_free(ys);
    return rc;
}
