/*
 * header.c - the vault header: key slots behind one Argon2id, rewritten in place at every unlock.
 *
 * Passphrase -> Argon2id (crypto_pwhash, level hidden in the salt) -> key-encryption key ->
 * XChaCha20-Poly1305 over each slot's keys. No magic, version or count in clear: without a
 * passphrase or recovery key the file is a salt, random-looking slots and sealed log states.
 * Unused slots and cells are random bytes. Never writes a secret in clear; never leaves a file
 * with no whole copy (copy 1 is written and fsynced before copy 0). Reads the version-1 format
 * (docs/vault-format.md, "Legacy header") and converts it at the first unlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "log/tlog.h"
#include "vault/camouflage.h"
#include "vault/header.h"
#include "vault/fsutil.h"

_Static_assert(DFT_TLOG_STATE_BYTES == HEADER_CELL_BYTES, "a cell holds one sealed log state");
_Static_assert(HEADER_SLOT_BYTES ==
                   CRYPTO_XCHACHA_NONCE_BYTES + HEADER_SLOT_PLAIN + CRYPTO_XCHACHA_TAG_BYTES,
               "slot layout");

/* Slot plaintext offsets. */
#define P_KIND   0
#define P_FLAGS  1
#define P_OWN    2
#define P_CELL   3
#define P_OCELL  4 /* shred slot: the other compartment's cell */
#define P_STORE  5 /* the compartment's database (0 or 1) */
#define P_OSTORE 6 /* shred slot: the other compartment's database */
#define P_WIPE   7 /* open slot: wipe after this many wrong passphrases (0: off) */
#define P_MAP    8
#define P_OMAP   16 /* shred slot: the other compartment's map */
#define P_ID     24
#define P_MASTER 40
#define P_SIGN   (P_MASTER + DFT_KEY_BYTES)
#define P_BOX    (P_SIGN + DFT_SIGN_SK_BYTES)
#define P_TAGKEY (P_BOX + DFT_BOX_SK_BYTES)
_Static_assert(P_TAGKEY + 32 == HEADER_SLOT_PLAIN, "slot plaintext");

#define SLOT_AD     "defter/header-slot/v2"
#define COUNTER_CTX "defter/attempt/v1"
#define ARMED_CTX   "defter/attempt-armed/v1"
#define SECOND_CTX  "defter/compartment-b/v1"

/* One step of the attempt counter: BLAKE2b-256 keyed by COUNTER_CTX. */
static void
ratchet(unsigned char out[32], const unsigned char in[32])
{
    crypto_generichash(out, 32, in, 32, (const unsigned char *)COUNTER_CTX, sizeof COUNTER_CTX - 1);
}

/* The key of a slot with wipe after N: BLAKE2b-256(key = chain value, message = slot key). */
static void
chain_key(unsigned char out[32], const unsigned char key[32], const unsigned char anchor[32])
{
    crypto_generichash(out, 32, key, 32, anchor, 32);
}

/*
 * Does the counter count? Only while wipe after N is on in a compartment: then every attempt
 * moves it, and otherwise a wrong passphrase writes the header back byte for byte. The answer is
 * one bit of a keyed hash of the counter, so the 32 bytes stay uniformly random either way;
 * whoever knows this format can read the bit (docs/coercion.md says so).
 */
static int
counter_armed(const unsigned char counter[32])
{
    unsigned char d[32];
    crypto_generichash(d, sizeof d, counter, 32, (const unsigned char *)ARMED_CTX,
                       sizeof ARMED_CTX - 1);
    return d[0] & 1;
}

/* A fresh random counter that counts (armed 1) or not (armed 0). */
static void
counter_fresh(unsigned char counter[32], int armed)
{
    do {
        randombytes_buf(counter, 32);
    } while (counter_armed(counter) != armed);
}

/*
 * One counting step: the ratchet, repeated until the value counts (two hashes on average; the
 * values in between are the ones try_slots also walks, so vaults whose counter moved one
 * ratchet per attempt keep opening).
 */
static void
counter_step(unsigned char out[32], const unsigned char in[32])
{
    ratchet(out, in);
    for (int i = 0; i < 1024 && !counter_armed(out); i++) {
        ratchet(out, out);
    }
}

/* The chain value n counting steps after counter. */
static void
chain_at(unsigned char out[32], const unsigned char counter[32], unsigned n)
{
    memcpy(out, counter, 32);
    for (unsigned i = 0; i < n; i++) {
        counter_step(out, out);
    }
}

void
header_second_key(unsigned char out[32], const unsigned char tag_key[32])
{
    crypto_generichash(out, 32, (const unsigned char *)SECOND_CTX, sizeof SECOND_CTX - 1, tag_key,
                       32);
}

/* ---- legacy (version 1) ---- */

#define OFF_VERSION  8
#define OFF_KDF      10
#define OFF_OPS      12
#define OFF_MEM      20
#define OFF_SALT     28
#define OFF_ID       44
#define OFF_SIGN_PK  60
#define OFF_BOX_PK   92
#define OFF_NONCE    124
#define OFF_WLEN     148
#define OFF_WRAPPED  150
#define OFF_STATELEN (OFF_WRAPPED + DFT_HEADER_WRAPPED_BYTES)
#define OFF_STATE    (OFF_STATELEN + 4)

_Static_assert(HEADER_FILE_BYTES > OFF_STATE + DFT_HEADER_STATE_MAX + DFT_HASH_BYTES,
               "a legacy header fits before copy 1");
_Static_assert(HEADER_IMAGE_BYTES > OFF_STATE + DFT_HEADER_STATE_MAX + DFT_HASH_BYTES,
               "copy 1 starts after any legacy header");

static void
legacy_ad(const struct dft_header *h, unsigned char ad[OFF_NONCE])
{
    memcpy(ad, DFT_HEADER_MAGIC, 8);
    dft_be_put(ad + OFF_VERSION, DFT_HEADER_VERSION, 2);
    ad[OFF_KDF] = 1; /* Argon2id v1.3 */
    ad[OFF_KDF + 1] = h->kdf_level;
    dft_be_put(ad + OFF_OPS, h->opslimit, 8);
    dft_be_put(ad + OFF_MEM, h->memlimit, 8);
    memcpy(ad + OFF_SALT, h->salt, DFT_HEADER_SALT_BYTES);
    memcpy(ad + OFF_ID, h->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(ad + OFF_SIGN_PK, h->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(ad + OFF_BOX_PK, h->box_pk, DFT_BOX_PK_BYTES);
}

static enum dft_err
pwhash(unsigned char *kek, const unsigned char salt[DFT_HEADER_SALT_BYTES], uint64_t ops,
       uint64_t mem, const char *pass, size_t pass_len, struct dft_error *err)
{
    if (crypto_pwhash(kek, DFT_KEY_BYTES, pass, pass_len, salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM,
                        "cannot derive the key from the passphrase: "
                        "not enough memory for the key derivation");
    }
    return DFT_OK;
}

static enum dft_err
wrong(struct dft_error *err)
{
    /* A wrong passphrase and a damaged slot look alike: say both, never only the first. */
    return dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
}

/* Public keys from the secret ones; vault id and subkeys. */
static void
keys_complete(struct dft_keys *k)
{
    crypto_sign_ed25519_sk_to_pk(k->sign_pk, k->sign_sk);
    crypto_scalarmult_base(k->box_pk, k->box_sk);
    keys_derive(k);
}

static enum dft_err
legacy_unlock(const struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
              struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char ad[OFF_NONCE];
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    unsigned char *plain = sodium_malloc(DFT_HEADER_WRAPPED_BYTES - 16);
    if (kek == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = pwhash(kek, h->salt, h->opslimit, h->memlimit, pass, pass_len, err);
    if (rc != DFT_OK) {
        goto out;
    }
    legacy_ad(h, ad);
    if (crypto_xchacha_open(plain, h->wrapped, DFT_HEADER_WRAPPED_BYTES, ad, sizeof ad, h->nonce,
                            kek) != DFT_OK) {
        rc = wrong(err);
        goto out;
    }
    memcpy(k->master, plain, DFT_KEY_BYTES);
    memcpy(k->sign_sk, plain + DFT_KEY_BYTES, DFT_SIGN_SK_BYTES);
    memcpy(k->box_sk, plain + DFT_KEY_BYTES + DFT_SIGN_SK_BYTES, DFT_BOX_SK_BYTES);
    keys_complete(k);
    /* The public keys in the header are authenticated as AD; check they belong to the secrets. */
    if (sodium_memcmp(k->sign_pk, h->sign_pk, DFT_SIGN_PK_BYTES) != 0 ||
        sodium_memcmp(k->box_pk, h->box_pk, DFT_BOX_PK_BYTES) != 0) {
        sodium_memzero(k, sizeof *k);
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "vault header keys do not match");
        goto out;
    }
    memcpy(k->vault_id, h->vault_id, DFT_VAULT_ID_BYTES);
    keys_derive(k);
out:
    sodium_free(kek);
    sodium_free(plain);
    return rc;
}

static enum dft_err
legacy_parse(struct dft_header *t, const unsigned char *p, size_t n, struct dft_error *err)
{
    const char *what = "vault header is damaged or tampered";
    if (n < OFF_STATE + DFT_HASH_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (too short)", what);
    }
    size_t slen = (size_t)dft_be_get(p + OFF_STATELEN, 4);
    size_t n0 = OFF_STATE + (slen <= 4096 ? slen : 0) + DFT_HASH_BYTES;
    /* a padded header may be longer than its state says, never shorter */
    if (slen > 4096 || n0 > n || (n != n0 && n != HEADER_FILE_BYTES && n != HEADER_DISK_BYTES)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (bad length)", what);
    }
    unsigned char sum[DFT_HASH_BYTES];
    crypto_sha256_once(sum, p, n0 - DFT_HASH_BYTES);
    if (sodium_memcmp(sum, p + n0 - DFT_HASH_BYTES, DFT_HASH_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (checksum mismatch)", what);
    }
    if (dft_be_get(p + OFF_VERSION, 2) != DFT_HEADER_VERSION) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "unsupported vault header version %u",
                        (unsigned)dft_be_get(p + OFF_VERSION, 2));
    }
    t->legacy = 1;
    t->kdf_level = p[OFF_KDF + 1];
    t->opslimit = dft_be_get(p + OFF_OPS, 8);
    t->memlimit = dft_be_get(p + OFF_MEM, 8);
    if (p[OFF_KDF] != 1 || t->kdf_level < 1 || t->kdf_level > 3 ||
        t->opslimit < crypto_pwhash_OPSLIMIT_MIN || t->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
        dft_be_get(p + OFF_WLEN, 2) != DFT_HEADER_WRAPPED_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (bad parameters)", what);
    }
    /*
     * The cost is read before anything authenticates it (the checksum is unkeyed): a forged
     * header must not make the unlock take hours or gigabytes. Nothing above sensitive.
     */
    if (t->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        t->memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "%s (key derivation cost above the sensitive level)", what);
    }
    if (slen != 0 && slen != DFT_HEADER_STATE_MAX) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (bad state length)", what);
    }
    memcpy(t->salt, p + OFF_SALT, sizeof t->salt);
    memcpy(t->vault_id, p + OFF_ID, sizeof t->vault_id);
    memcpy(t->sign_pk, p + OFF_SIGN_PK, sizeof t->sign_pk);
    memcpy(t->box_pk, p + OFF_BOX_PK, sizeof t->box_pk);
    memcpy(t->nonce, p + OFF_NONCE, sizeof t->nonce);
    memcpy(t->wrapped, p + OFF_WRAPPED, sizeof t->wrapped);
    t->state_len = (uint32_t)slen;
    memcpy(t->state, p + OFF_STATE, slen);
    if (n == HEADER_FILE_BYTES || n == HEADER_DISK_BYTES) { /* a conversion cut after copy 1 */
        memcpy(t->image1, p + HEADER_IMAGE_BYTES, HEADER_IMAGE_BYTES);
        t->have_image1 = 1;
    }
    return DFT_OK;
}

/* ---- slots ---- */

/* The KDF level hides in the salt's last byte (mod 3); 255 is never used, so 0..254 are even. */
static int
salt_level(const unsigned char salt[DFT_HEADER_SALT_BYTES])
{
    return salt[DFT_HEADER_SALT_BYTES - 1] % 3 + 1;
}

static void
new_salt(unsigned char salt[DFT_HEADER_SALT_BYTES], enum dft_kdf_level level)
{
    do {
        randombytes_buf(salt, DFT_HEADER_SALT_BYTES);
    } while (salt[DFT_HEADER_SALT_BYTES - 1] == 255 || salt_level(salt) != (int)level);
}

enum dft_err
header_derive(const struct dft_header *h, unsigned char *kek, const char *pass, size_t pass_len,
              struct dft_error *err)
{
    uint64_t ops = 0, mem = 0;
    dft_kdf_limits((enum dft_kdf_level)salt_level(h->image), &ops, &mem);
    return pwhash(kek, h->image, ops, mem, pass, pass_len, err);
}

void
header_recovery_key(unsigned char out[32], const unsigned char rkey[32])
{
    static const char ctx[] = "defter/recovery-slot/v2";
    crypto_generichash(out, 32, (const unsigned char *)ctx, sizeof ctx - 1, rkey, 32);
}

/* The image's tag: BLAKE2b-256 keyed by the tag key, over everything before it. */
static void
image_tag(unsigned char out[32], const unsigned char *image, const unsigned char key[32])
{
    crypto_generichash(out, 32, image, HEADER_OFF_TAG, key, 32);
}

static int
tag_ok(const unsigned char *image, const unsigned char key[32])
{
    unsigned char t[32];
    image_tag(t, image, key);
    return crypto_verify_32(t, image + HEADER_OFF_TAG) == 0;
}

static unsigned char *
slot_at(unsigned char *image, int idx)
{
    return image + HEADER_OFF_SLOTS + (size_t)idx * HEADER_SLOT_BYTES;
}

static void
slot_ad(unsigned char ad[sizeof SLOT_AD], int idx)
{
    memcpy(ad, SLOT_AD, sizeof SLOT_AD - 1);
    ad[sizeof SLOT_AD - 1] = (unsigned char)idx;
}

static void
seal_plain(unsigned char *image, int idx, const unsigned char *plain, const unsigned char key[32])
{
    unsigned char ad[sizeof SLOT_AD];
    unsigned char *s = slot_at(image, idx);
    slot_ad(ad, idx);
    crypto_xchacha_nonce(s);
    crypto_xchacha_seal(s + CRYPTO_XCHACHA_NONCE_BYTES, plain, HEADER_SLOT_PLAIN, ad, sizeof ad, s,
                        key);
}

static int
open_plain(unsigned char *plain, const unsigned char *image, int idx, const unsigned char key[32])
{
    unsigned char ad[sizeof SLOT_AD];
    const unsigned char *s = image + HEADER_OFF_SLOTS + (size_t)idx * HEADER_SLOT_BYTES;
    slot_ad(ad, idx);
    return crypto_xchacha_open(plain, s + CRYPTO_XCHACHA_NONCE_BYTES,
                               HEADER_SLOT_PLAIN + CRYPTO_XCHACHA_TAG_BYTES, ad, sizeof ad, s,
                               key) == DFT_OK &&
           plain[P_OWN] == idx && plain[P_CELL] < HEADER_CELLS && plain[P_STORE] <= 1 &&
           plain[P_KIND] >= 1 && plain[P_KIND] <= 3;
}

int
header_slot_opens(const struct dft_header *h, int idx, const unsigned char key[32])
{
    unsigned char *plain = sodium_malloc(HEADER_SLOT_PLAIN);
    int ok = plain != NULL && open_plain(plain, h->image, idx, key);
    sodium_free(plain);
    return ok;
}

void
header_slot_drop(struct dft_header *h, int idx)
{
    randombytes_buf(slot_at(h->image, idx), HEADER_SLOT_BYTES);
}

static void
plain_fill(unsigned char *plain, int idx, uint8_t kind, uint8_t flags, int cell, int store,
           const uint8_t map[HEADER_SLOTS], const struct dft_keys *k,
           const unsigned char tag_key[32])
{
    memset(plain, 0, HEADER_SLOT_PLAIN);
    plain[P_KIND] = kind;
    plain[P_FLAGS] = flags;
    plain[P_OWN] = (unsigned char)idx;
    plain[P_CELL] = (unsigned char)cell;
    plain[P_STORE] = (unsigned char)store;
    memcpy(plain + P_MAP, map, HEADER_SLOTS);
    if (k != NULL) {
        memcpy(plain + P_ID, k->vault_id, DFT_VAULT_ID_BYTES);
        memcpy(plain + P_MASTER, k->master, DFT_KEY_BYTES);
        memcpy(plain + P_SIGN, k->sign_sk, DFT_SIGN_SK_BYTES);
        memcpy(plain + P_BOX, k->box_sk, DFT_BOX_SK_BYTES);
    } else {
        randombytes_buf(plain + P_ID, P_TAGKEY - P_ID);
    }
    memcpy(plain + P_TAGKEY, tag_key, 32);
}

void
header_slot_seal_as(struct dft_header *h, int idx, uint8_t kind, uint8_t flags, int cell, int store,
                    const uint8_t map[HEADER_SLOTS], const struct dft_keys *k,
                    const unsigned char key[32])
{
    unsigned char *plain = sodium_malloc(HEADER_SLOT_PLAIN);
    if (plain == NULL) { /* cannot seal: leave random bytes, which open nothing */
        header_slot_drop(h, idx);
        return;
    }
    plain_fill(plain, idx, kind, flags, cell, store, map, k, h->tag_key);
    if (kind == HEADER_KIND_OPEN && idx == h->own && h->unlocked && h->wipe_after != 0) {
        unsigned char ck[32], anchor[32];
        plain[P_WIPE] = h->wipe_after;
        chain_at(anchor, h->counter, h->wipe_after);
        chain_key(ck, key, anchor);
        seal_plain(h->image, idx, plain, ck);
        sodium_memzero(ck, sizeof ck);
    } else {
        seal_plain(h->image, idx, plain, key);
    }
    sodium_free(plain);
}

void
header_slot_seal(struct dft_header *h, int idx, uint8_t kind, uint8_t flags,
                 const uint8_t map[HEADER_SLOTS], const struct dft_keys *k,
                 const unsigned char key[32])
{
    if (h->has_other && kind != HEADER_KIND_SHRED) {
        flags |= HEADER_HAS_OTHER;
    }
    header_slot_seal_as(h, idx, kind, flags, h->cell, h->store, map, k, key);
}

void
header_slot_seal_shred_opens(struct dft_header *h, int idx, const struct dft_header *other,
                             const struct dft_keys *ok, const unsigned char key[32])
{
    unsigned char *plain = sodium_malloc(HEADER_SLOT_PLAIN);
    if (plain == NULL) {
        header_slot_drop(h, idx);
        return;
    }
    plain_fill(plain, idx, HEADER_KIND_SHRED, HEADER_SHRED_OPENS, h->cell, h->store, h->map, ok,
               h->tag_key);
    plain[P_OCELL] = (unsigned char)other->cell;
    plain[P_OSTORE] = (unsigned char)other->store;
    memcpy(plain + P_OMAP, other->map, HEADER_SLOTS);
    seal_plain(h->image, idx, plain, key);
    sodium_free(plain);
}

int
header_role_slot(const struct dft_header *h, enum header_role r)
{
    for (int i = 0; i < HEADER_SLOTS; i++) {
        if (h->map[i] == r && i != h->own) {
            return i;
        }
    }
    return r == HEADER_ROLE_OPEN && h->unlocked ? h->own : -1;
}

/* Take an opened slot's keys into k and its place into h. */
static void
take_plain(struct dft_header *h, struct dft_keys *k, const unsigned char *plain, int idx)
{
    memcpy(k->vault_id, plain + P_ID, DFT_VAULT_ID_BYTES);
    memcpy(k->master, plain + P_MASTER, DFT_KEY_BYTES);
    memcpy(k->sign_sk, plain + P_SIGN, DFT_SIGN_SK_BYTES);
    memcpy(k->box_sk, plain + P_BOX, DFT_BOX_SK_BYTES);
    keys_complete(k);
    h->unlocked = 1;
    h->own = idx;
    h->kind = plain[P_KIND];
    h->cell = plain[P_CELL];
    h->store = plain[P_STORE];
    h->has_other = (plain[P_FLAGS] & HEADER_HAS_OTHER) != 0;
    h->wipe_after = plain[P_KIND] == HEADER_KIND_OPEN ? plain[P_WIPE] : 0;
    memcpy(h->map, plain + P_MAP, HEADER_SLOTS);
    memcpy(h->vault_id, k->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(h->sign_pk, k->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(h->box_pk, k->box_pk, DFT_BOX_PK_BYTES);
    crypto_generichash(h->key_check, sizeof h->key_check, k->master, DFT_KEY_BYTES, NULL, 0);
    memcpy(h->tag_key, plain + P_TAGKEY, sizeof h->tag_key);
    memcpy(h->salt, h->image, DFT_HEADER_SALT_BYTES);
    h->kdf_level = (uint8_t)salt_level(h->image);
    memcpy(h->state, h->image + HEADER_OFF_CELLS + (size_t)h->cell * HEADER_CELL_BYTES,
           HEADER_CELL_BYTES);
    h->state_len = HEADER_CELL_BYTES;
}

/* A fresh layout: 8 positions in random order for the roles of compartment A. */
static void
new_layout(struct dft_header *h)
{
    static const uint8_t roles[HEADER_SLOTS] = {
        HEADER_ROLE_OPEN,  HEADER_ROLE_RECOVERY, HEADER_ROLE_SHRED, HEADER_ROLE_OTHER,
        HEADER_ROLE_OTHER, HEADER_ROLE_OTHER,    HEADER_ROLE_SPARE, HEADER_ROLE_SPARE};
    int pos[HEADER_SLOTS];
    for (int i = 0; i < HEADER_SLOTS; i++) {
        pos[i] = i;
    }
    for (int i = HEADER_SLOTS - 1; i > 0; i--) {
        int j = (int)randombytes_uniform((uint32_t)i + 1);
        int t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
    }
    for (int i = 0; i < HEADER_SLOTS; i++) {
        h->map[pos[i]] = roles[i];
    }
    h->own = pos[0];
    h->cell = (int)randombytes_uniform(HEADER_CELLS);
    h->kind = HEADER_KIND_OPEN;
}

/* A new slotted image (random bytes, salt for level) holding k under kek in a fresh layout. */
static enum dft_err
new_image(struct dft_header *h, const struct dft_keys *k, const char *pass, size_t pass_len,
          enum dft_kdf_level level, struct dft_error *err)
{
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    if (kek == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    randombytes_buf(h->image, sizeof h->image);
    new_salt(h->image, level);
    new_layout(h);
    randombytes_buf(h->tag_key, sizeof h->tag_key);
    enum dft_err rc = header_derive(h, kek, pass, pass_len, err);
    if (rc == DFT_OK) {
        header_slot_seal(h, h->own, HEADER_KIND_OPEN, 0, h->map, k, kek);
    }
    sodium_free(kek);
    return rc;
}

enum dft_err
header_create(struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
              enum dft_kdf_level level, struct dft_error *err)
{
    memset(h, 0, sizeof *h);
    h->has_other = 1; /* compartment B is made beside it (duress_second_create) */
    counter_fresh(h->counter, 0);
    randombytes_buf(k->master, sizeof k->master);
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    crypto_box_keypair(k->box_pk, k->box_sk);
    randombytes_buf(k->vault_id, sizeof k->vault_id);
    keys_derive(k);
    enum dft_err rc = new_image(h, k, pass, pass_len, level, err);
    if (rc != DFT_OK) {
        return rc;
    }
    h->unlocked = 1;
    memcpy(h->vault_id, k->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(h->sign_pk, k->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(h->box_pk, k->box_pk, DFT_BOX_PK_BYTES);
    memcpy(h->salt, h->image, DFT_HEADER_SALT_BYTES);
    h->kdf_level = (uint8_t)level;
    dft_kdf_limits(level, &h->opslimit, &h->memlimit);
    crypto_generichash(h->key_check, sizeof h->key_check, k->master, DFT_KEY_BYTES, NULL, 0);
    h->state_len = 0;
    return DFT_OK;
}

enum dft_err
header_wrap(struct dft_header *h, const struct dft_keys *k, const char *pass, size_t pass_len,
            enum dft_kdf_level level, struct dft_error *err)
{
    if (!h->unlocked) {
        return dft_fail(err, DFT_ERR_INTERNAL, "vault header is not unlocked");
    }
    enum dft_err rc = DFT_OK;
    struct dft_header next = *h;
    unsigned char check[32];
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    if (kek == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (salt_level(next.image) != (int)level) {
        /* A new salt: every other passphrase slot used the old one and cannot open any more. */
        new_salt(next.image, level);
        for (int i = 0; i < HEADER_SLOTS; i++) {
            unsigned char dk[32];
            header_second_key(dk, next.tag_key);
            if (i != next.own &&
                (next.map[i] == HEADER_ROLE_OTHER || next.map[i] == HEADER_ROLE_SHRED) &&
                !header_slot_opens(&next, i, dk)) { /* a dormant compartment B needs no salt */
                header_slot_drop(&next, i);
            }
            sodium_memzero(dk, sizeof dk);
        }
    }
    crypto_generichash(check, sizeof check, k->master, DFT_KEY_BYTES, NULL, 0);
    if (sodium_memcmp(check, next.key_check, sizeof check) != 0) {
        /* New keys: shares of the old master key must not open the vault's new data. */
        int r = header_role_slot(&next, HEADER_ROLE_RECOVERY);
        if (r >= 0) {
            header_slot_drop(&next, r);
        }
        memcpy(next.key_check, check, sizeof check);
    }
    if ((rc = header_derive(&next, kek, pass, pass_len, err)) != DFT_OK) {
        goto out;
    }
    next.kind = HEADER_KIND_OPEN;
    header_slot_seal(&next, next.own, HEADER_KIND_OPEN, 0, next.map, k, kek);
    memcpy(next.salt, next.image, DFT_HEADER_SALT_BYTES);
    next.kdf_level = (uint8_t)level;
    dft_kdf_limits(level, &next.opslimit, &next.memlimit);
    memcpy(next.vault_id, k->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(next.sign_pk, k->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(next.box_pk, k->box_pk, DFT_BOX_PK_BYTES);
    *h = next;
out:
    sodium_memzero(&next, sizeof next);
    sodium_free(kek);
    return rc;
}

/*
 * Try every slot of image with key; the first that opens (of kind want, or any when 0) wins.
 * All slots are tried whatever happens, so the work does not depend on which one opens.
 */
static int
try_slots_key(const unsigned char *image, const unsigned char key[32], unsigned char *plain,
              unsigned char *scratch, int want, int found)
{
    for (int i = 0; i < HEADER_SLOTS; i++) {
        if (open_plain(scratch, image, i, key) && found < 0 &&
            (want == 0 || scratch[P_KIND] == want)) {
            memcpy(plain, scratch, HEADER_SLOT_PLAIN);
            found = i;
        }
    }
    sodium_memzero(scratch, HEADER_SLOT_PLAIN);
    return found;
}

/*
 * The same with key itself and with key chained to each ratchet value of the attempt counter
 * from counter on, until HEADER_WIPE_MAX counting values lie behind (a slot with wipe after N
 * was sealed N counting steps ahead of the counter written by its last unlock). Every value is
 * tried whatever opens, the same walk for every passphrase.
 */
static int
try_slots(const unsigned char *image, const unsigned char key[32], const unsigned char *counter,
          unsigned char *plain, unsigned char *scratch, int want)
{
    unsigned char y[32], ck[32];
    int found = try_slots_key(image, key, plain, scratch, want, -1);
    if (counter == NULL) {
        return found;
    }
    memcpy(y, counter, sizeof y);
    for (int n = 0, walked = 0; n < HEADER_WIPE_MAX && walked < 8 * HEADER_WIPE_MAX; walked++) {
        chain_key(ck, key, y);
        found = try_slots_key(image, ck, plain, scratch, want, found);
        ratchet(y, y);
        n += counter_armed(y);
    }
    sodium_memzero(ck, sizeof ck);
    return found;
}

/* After an unlock: the own slot under a fresh nonce, the spares re-randomised (three changes). */
static void
refresh(struct dft_header *h, const unsigned char *plain, const unsigned char kek[32])
{
    if (h->wipe_after != 0) { /* wipe after N: N wrong attempts from this one's counter on */
        unsigned char ck[32], anchor[32];
        if (!counter_armed(h->counter)) { /* set before counters were armed: arm it now */
            counter_step(h->counter, h->counter);
        }
        chain_at(anchor, h->counter, h->wipe_after);
        chain_key(ck, kek, anchor);
        seal_plain(h->image, h->own, plain, ck);
        sodium_memzero(ck, sizeof ck);
    } else {
        seal_plain(h->image, h->own, plain, kek);
    }
    for (int i = 0; i < HEADER_SLOTS; i++) {
        if (h->map[i] == HEADER_ROLE_SPARE && i != h->own) {
            header_slot_drop(h, i);
        }
    }
}

/*
 * A shred slot: drop its compartment's open and recovery slots, then become the other
 * compartment's open slot (shred+decoy) or random bytes (shred). Three changes as well.
 */
static void
shred(struct dft_header *h, struct dft_keys *k, unsigned char *plain, const unsigned char kek[32])
{
    int idx = plain[P_OWN];
    memcpy(h->tag_key, plain + P_TAGKEY, sizeof h->tag_key);
    for (int i = 0; i < HEADER_SLOTS; i++) {
        if (i != idx &&
            (plain[P_MAP + i] == HEADER_ROLE_OPEN || plain[P_MAP + i] == HEADER_ROLE_RECOVERY)) {
            header_slot_drop(h, i);
        }
    }
    h->shredded = 1;
    if (plain[P_FLAGS] & HEADER_SHRED_OPENS) {
        plain[P_KIND] = HEADER_KIND_OPEN;
        plain[P_FLAGS] = HEADER_HAS_OTHER;
        plain[P_CELL] = plain[P_OCELL];
        plain[P_OCELL] = 0;
        plain[P_STORE] = plain[P_OSTORE];
        plain[P_OSTORE] = 0;
        memcpy(plain + P_MAP, plain + P_OMAP, HEADER_SLOTS);
        memset(plain + P_OMAP, 0, HEADER_SLOTS);
        plain[P_MAP + idx] = HEADER_ROLE_OPEN;
        seal_plain(h->image, idx, plain, kek);
        take_plain(h, k, plain, idx);
        h->kind = HEADER_KIND_OPEN;
    } else {
        header_slot_drop(h, idx);
        h->unlocked = 0;
    }
}

/* Convert an opened legacy header into a slotted image holding the same keys. */
static enum dft_err
convert_legacy(struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
               struct dft_error *err)
{
    enum dft_kdf_level level = (enum dft_kdf_level)h->kdf_level;
    unsigned char state[HEADER_CELL_BYTES];
    if (h->state_len == HEADER_CELL_BYTES) {
        memcpy(state, h->state, sizeof state);
    } else { /* a vault from before sealed states: seal the empty tree, caught up at open */
        struct dft_tlog_state empty = {.size = 0};
        tlog_hash_empty(empty.root);
        tlog_state_seal(state, &empty, k->state_key, k->vault_id);
    }
    enum dft_err rc = new_image(h, k, pass, pass_len, level, err);
    if (rc != DFT_OK) {
        return rc;
    }
    h->legacy = 0;
    h->unlocked = 1;
    h->kind = HEADER_KIND_OPEN;
    memcpy(h->image + HEADER_OFF_CELLS + (size_t)h->cell * HEADER_CELL_BYTES, state, sizeof state);
    memcpy(h->state, state, sizeof state);
    h->state_len = HEADER_CELL_BYTES;
    memcpy(h->salt, h->image, DFT_HEADER_SALT_BYTES);
    dft_kdf_limits(level, &h->opslimit, &h->memlimit);
    crypto_generichash(h->key_check, sizeof h->key_check, k->master, DFT_KEY_BYTES, NULL, 0);
    return DFT_OK;
}

/*
 * Find the slot that key (or, with pass, the Argon2id key of each copy's salt) opens: copy 0
 * first, then copy 1 when it differs. A slot only counts when its copy's tag checks under the
 * slot's tag key; the other copy is then checked too (h->damaged). *found is the slot, h->image
 * the copy it is in. DFT_ERR_PASSPHRASE when nothing opens, DFT_ERR_INTEGRITY when a slot
 * opened in a copy whose tag is wrong (and no good copy exists).
 */
static enum dft_err
open_copies(struct dft_header *h, const char *pass, size_t pass_len, const unsigned char *key,
            int want, unsigned char *plain, unsigned char *kek, int *found, struct dft_error *err)
{
    unsigned char *img0 = malloc(HEADER_IMAGE_BYTES);
    unsigned char salt[DFT_HEADER_SALT_BYTES];
    enum dft_err rc = DFT_OK;
    int copies = h->have_image1 ? 2 : 1, used = -1, bad_tag = 0, derived = 0;
    if (img0 == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(img0, h->image, HEADER_IMAGE_BYTES);
    *found = -1;
    h->damaged = 0;
    for (int c = 0; c < copies && used < 0; c++) {
        const unsigned char *img = c == 0 ? img0 : h->image1;
        if (c == 1 && memcmp(img, img0, HEADER_IMAGE_BYTES) == 0) {
            break;
        }
        if (pass != NULL && (!derived || memcmp(salt, img, sizeof salt) != 0)) {
            /* One Argon2id per distinct salt: once, unless a crash or damage left two. */
            memcpy(salt, img, sizeof salt);
            memcpy(h->image, img, HEADER_IMAGE_BYTES);
            if ((rc = header_derive(h, kek, pass, pass_len, err)) != DFT_OK) {
                goto out;
            }
            derived = 1;
        }
        int f = try_slots(img, pass != NULL ? kek : key, h->counter, plain,
                          plain + HEADER_SLOT_PLAIN, want);
        if (f < 0) {
            continue;
        }
        if (!tag_ok(img, plain + P_TAGKEY)) {
            bad_tag = 1;
            continue;
        }
        used = c;
        *found = f;
        memcpy(h->image, img, HEADER_IMAGE_BYTES);
    }
    if (used < 0) {
        memcpy(h->image, img0, HEADER_IMAGE_BYTES);
        rc = bad_tag ? dft_fail(err, DFT_ERR_INTEGRITY, "vault header is damaged or tampered")
                     : wrong(err);
        goto out;
    }
    const unsigned char *other = used == 0 ? h->image1 : img0;
    if (copies == 2 && memcmp(other, h->image, HEADER_IMAGE_BYTES) != 0 &&
        !tag_ok(other, plain + P_TAGKEY)) {
        h->damaged = 1 + (used == 0 ? 1 : 0); /* repaired by the rewrite that follows */
    }
out:
    sodium_memzero(salt, sizeof salt);
    free(img0);
    return rc;
}

enum dft_err
header_unlock(struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
              struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    unsigned char *plain = sodium_malloc(2 * HEADER_SLOT_PLAIN);
    int found = -1;
    h->shredded = 0;
    if (kek == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (h->legacy) {
        struct dft_error e = {0};
        rc = legacy_unlock(h, k, pass, pass_len, &e);
        if (rc == DFT_OK) {
            rc = convert_legacy(h, k, pass, pass_len, err);
            goto out;
        }
        if (rc != DFT_ERR_PASSPHRASE || !h->have_image1) {
            rc = dft_fail(err, rc, "%s", e.msg);
            goto out;
        }
        /* A conversion cut after copy 1: that copy holds the converted header. */
        memcpy(h->image, h->image1, HEADER_IMAGE_BYTES);
        h->legacy = 0;
        h->have_image1 = 0;
    }
    if (counter_armed(h->counter)) { /* with wipe after N on, every attempt counts */
        counter_step(h->counter, h->counter);
    }
    if ((rc = open_copies(h, pass, pass_len, NULL, 0, plain, kek, &found, err)) != DFT_OK) {
        goto out;
    }
    if (plain[P_KIND] == HEADER_KIND_RECOVERY) {
        rc = wrong(err);
        goto out;
    }
    if (plain[P_KIND] == HEADER_KIND_SHRED) {
        shred(h, k, plain, kek);
        if (!h->unlocked) {
            rc = wrong(err);
        }
        goto out;
    }
    take_plain(h, k, plain, found);
    refresh(h, plain, kek);
out:
    sodium_free(kek);
    sodium_free(plain);
    return rc;
}

enum dft_err
header_unlock_recovery(struct dft_header *h, struct dft_keys *k, const unsigned char rkey[32],
                       struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char *key = sodium_malloc(32);
    unsigned char *plain = sodium_malloc(2 * HEADER_SLOT_PLAIN);
    int found = -1;
    if (key == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (h->legacy) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "the recovery key does not open this vault");
        goto out;
    }
    header_recovery_key(key, rkey);
    if (counter_armed(h->counter)) {
        counter_step(h->counter, h->counter);
    }
    rc = open_copies(h, NULL, 0, key, HEADER_KIND_RECOVERY, plain, NULL, &found, err);
    if (rc == DFT_ERR_PASSPHRASE) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "the recovery key does not open this vault");
    }
    if (rc != DFT_OK) {
        goto out;
    }
    take_plain(h, k, plain, found);
    /* A new passphrase goes into the compartment's open slot (header_wrap seals h->own). */
    for (int i = 0; i < HEADER_SLOTS; i++) {
        if (h->map[i] == HEADER_ROLE_OPEN) {
            h->own = i;
        }
    }
    h->map[found] = HEADER_ROLE_RECOVERY;
    h->kind = HEADER_KIND_OPEN;
out:
    sodium_free(key);
    sodium_free(plain);
    return rc;
}

/*
 * Read the first page of both compartments' databases, whichever opened (or none): every
 * unlock touches the same files with the same calls and byte counts.
 */
static void
touch_stores(const char *header_path)
{
    static const enum vault_file files[] = {VAULT_FILE_DB0, VAULT_FILE_DB1};
    char path[PATH_MAX], dir[PATH_MAX];
    unsigned char page[4096];
    struct vault_layout l;
    const char *slash = strrchr(header_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash != NULL ? (int)(slash - header_path) : 1,
             slash != NULL ? header_path : ".");
    vault_layout_of_header(header_path, &l);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (vault_layout_path(&l, dir, files[i], path, sizeof path, NULL) != DFT_OK) {
            continue;
        }
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t r = pread(fd, page, sizeof page, 0);
            (void)r;
            close(fd);
        }
    }
}

enum dft_err
header_unlock_at(struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
                 const char *path, struct dft_error *err)
{
    enum dft_err rc = header_unlock(h, k, pass, pass_len, err);
    enum dft_err wrc;
    if (rc == DFT_OK || h->shredded) {
        wrc = header_write(h, path, rc == DFT_OK ? err : NULL);
    } else if (h->file_len == HEADER_FILE_BYTES || h->file_len == HEADER_DISK_BYTES) {
        /* Nothing opened: the same bytes back, the counter one step on if it counts (same calls).
         */
        unsigned char buf[HEADER_DISK_BYTES];
        memcpy(buf, h->file, HEADER_FILE_BYTES);
        memcpy(buf + HEADER_FILE_BYTES, h->counter, HEADER_COUNTER_BYTES);
        wrc = header_write_raw(buf, sizeof buf, path, NULL);
    } else {
        wrc = header_write_raw(h->file, h->file_len, path, NULL); /* legacy: as it was */
    }
    touch_stores(path);
    return rc != DFT_OK ? rc : wrc;
}

enum dft_err
header_attach(struct dft_header *h, const struct dft_header *known, struct dft_error *err)
{
    if (h->legacy || !known->unlocked) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the vault header was replaced");
    }
    /* Ours only if a copy's tag checks under our tag key (a crash may have torn the other). */
    if (!tag_ok(h->image, known->tag_key)) {
        if (!h->have_image1 || !tag_ok(h->image1, known->tag_key)) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the vault header was replaced by another vault's or damaged");
        }
        memcpy(h->image, h->image1, HEADER_IMAGE_BYTES);
    }
    h->unlocked = 1;
    h->own = known->own;
    h->cell = known->cell;
    h->store = known->store;
    h->has_other = known->has_other;
    h->wipe_after = known->wipe_after;
    h->kind = known->kind;
    memcpy(h->map, known->map, sizeof h->map);
    memcpy(h->key_check, known->key_check, sizeof h->key_check);
    memcpy(h->tag_key, known->tag_key, sizeof h->tag_key);
    memcpy(h->vault_id, known->vault_id, sizeof h->vault_id);
    memcpy(h->sign_pk, known->sign_pk, sizeof h->sign_pk);
    memcpy(h->box_pk, known->box_pk, sizeof h->box_pk);
    memcpy(h->salt, h->image, sizeof h->salt);
    h->kdf_level = (uint8_t)salt_level(h->image);
    memcpy(h->state, h->image + HEADER_OFF_CELLS + (size_t)h->cell * HEADER_CELL_BYTES,
           HEADER_CELL_BYTES);
    h->state_len = HEADER_CELL_BYTES;
    return DFT_OK;
}

enum dft_err
header_parse(struct dft_header *h, const unsigned char *p, size_t n, struct dft_error *err)
{
    struct dft_header *t = calloc(1, sizeof *t);
    enum dft_err rc = DFT_OK;
    if (t == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (n > sizeof t->file) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "vault header is damaged or tampered (too long)");
        goto out;
    }
    if (n >= 8 && memcmp(p, DFT_HEADER_MAGIC, 8) == 0) {
        rc = legacy_parse(t, p, n, err);
    } else if (n == HEADER_FILE_BYTES || n == HEADER_DISK_BYTES) {
        if (n == HEADER_DISK_BYTES) {
            memcpy(t->counter, p + HEADER_FILE_BYTES, HEADER_COUNTER_BYTES);
        } else { /* made before the counter: it starts at the next write */
            counter_fresh(t->counter, 0);
        }
        memcpy(t->image, p, HEADER_IMAGE_BYTES);
        memcpy(t->image1, p + HEADER_IMAGE_BYTES, HEADER_IMAGE_BYTES);
        t->have_image1 = 1;
        memcpy(t->salt, p, DFT_HEADER_SALT_BYTES);
        t->kdf_level = (uint8_t)salt_level(p);
        dft_kdf_limits((enum dft_kdf_level)t->kdf_level, &t->opslimit, &t->memlimit);
    } else {
        rc = dft_fail(err, DFT_ERR_INTEGRITY,
                      "vault header is damaged or tampered (not a defter vault header)");
    }
    if (rc == DFT_OK) {
        if (t->legacy) {
            counter_fresh(t->counter, 0);
        }
        memcpy(t->file, p, n);
        t->file_len = n;
        memcpy(h, t, sizeof *t);
    }
out:
    sodium_memzero(t, sizeof *t);
    free(t);
    return rc;
}

enum dft_err
header_read(struct dft_header *h, const char *path, struct dft_error *err)
{
    unsigned char buf[DFT_HEADER_MAX_BYTES + 1];
    size_t n = 0;
    enum dft_err rc = dft_read_small_file(path, buf, sizeof buf, &n, err);
    if (rc == DFT_ERR_NOT_FOUND) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no vault at '%s'", path);
    }
    if (rc == DFT_ERR_TOO_LARGE) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "vault header is damaged or tampered (too long)");
    }
    if (rc != DFT_OK) {
        return rc;
    }
    return header_parse(h, buf, n, err);
}

enum dft_err
header_encode(const struct dft_header *h, unsigned char *out, size_t cap, size_t *len,
              struct dft_error *err)
{
    if (h->legacy || (!h->unlocked && !h->shredded)) {
        if (h->file_len == 0 || cap < h->file_len) {
            return dft_fail(err, DFT_ERR_INTERNAL, "vault header buffer too small");
        }
        memcpy(out, h->file, h->file_len);
        *len = h->file_len;
        return DFT_OK;
    }
    if (h->state_len != 0 && h->state_len != HEADER_CELL_BYTES) {
        return dft_fail(err, DFT_ERR_INTERNAL, "vault header state too long");
    }
    if (cap < HEADER_DISK_BYTES) {
        return dft_fail(err, DFT_ERR_INTERNAL, "vault header buffer too small");
    }
    memcpy(out, h->image, HEADER_IMAGE_BYTES);
    if (h->state_len == HEADER_CELL_BYTES) {
        memcpy(out + HEADER_OFF_CELLS + (size_t)h->cell * HEADER_CELL_BYTES, h->state,
               HEADER_CELL_BYTES);
    }
    image_tag(out + HEADER_OFF_TAG, out, h->tag_key);
    memcpy(out + HEADER_IMAGE_BYTES, out, HEADER_IMAGE_BYTES);
    memcpy(out + HEADER_FILE_BYTES, h->counter, HEADER_COUNTER_BYTES);
    *len = HEADER_DISK_BYTES;
    return DFT_OK;
}

static enum dft_err
pwrite_all(int fd, const unsigned char *p, size_t n, off_t off, const char *path,
           struct dft_error *err)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return DFT_OK;
}

enum dft_err
header_write_raw(const unsigned char *p, size_t n, const char *path, struct dft_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    /* Copy 1 (and the counter after it) first, then copy 0; a legacy file in halves. */
    size_t half = n >= HEADER_FILE_BYTES ? HEADER_IMAGE_BYTES : n / 2;
    struct stat st;
    enum dft_err rc = DFT_OK;
    /* Copy 1 first: a crash in the second write leaves it whole. */
    if ((rc = pwrite_all(fd, p + half, n - half, (off_t)half, path, err)) != DFT_OK) {
        goto out;
    }
    if (fdatasync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot sync '%s': %s", path, strerror(errno));
        goto out;
    }
    if ((rc = pwrite_all(fd, p, half, 0, path, err)) != DFT_OK) {
        goto out;
    }
    if (fstat(fd, &st) == 0 && st.st_size > (off_t)n && ftruncate(fd, (off_t)n) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fdatasync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot sync '%s': %s", path, strerror(errno));
    }
out:
    close(fd);
    return rc;
}

enum dft_err
header_write(const struct dft_header *h, const char *path, struct dft_error *err)
{
    unsigned char buf[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    enum dft_err rc = header_encode(h, buf, sizeof buf, &n, err);
    if (rc == DFT_OK) {
        rc = header_write_raw(buf, n, path, err);
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int
header_second_dormant(const struct dft_header *h)
{
    unsigned char dk[32];
    int found = 0;
    header_second_key(dk, h->tag_key);
    for (int i = 0; i < HEADER_SLOTS && !found; i++) {
        found = i != h->own && h->map[i] == HEADER_ROLE_OTHER && header_slot_opens(h, i, dk);
    }
    sodium_memzero(dk, sizeof dk);
    return found;
}

int
header_second_arm(struct dft_header *h, const unsigned char kek_d[32])
{
    unsigned char dk[32];
    unsigned char *plain = sodium_malloc(HEADER_SLOT_PLAIN);
    int armed = 0;
    if (plain == NULL) {
        return 0;
    }
    header_second_key(dk, h->tag_key);
    for (int i = 0; i < HEADER_SLOTS && !armed; i++) {
        if (i != h->own && h->map[i] == HEADER_ROLE_OTHER && open_plain(plain, h->image, i, dk) &&
            plain[P_KIND] == HEADER_KIND_OPEN) {
            seal_plain(h->image, i, plain, kek_d);
            armed = 1;
        }
    }
    sodium_memzero(dk, sizeof dk);
    sodium_free(plain);
    return armed;
}

void
header_set_wipe_after(struct dft_header *h, const struct dft_keys *k, const unsigned char kek[32],
                      uint8_t n)
{
    h->wipe_after = n;
    /*
     * On: the counter counts from now on. Off: it keeps counting if it did, since the other
     * compartment may have wipe after N on, and no compartment can tell (docs/coercion.md).
     */
    if (n != 0 && !counter_armed(h->counter)) {
        counter_step(h->counter, h->counter);
    }
    header_slot_seal(h, h->own, HEADER_KIND_OPEN, 0, h->map, k, kek);
}

int
header_own_opens(const struct dft_header *h, const unsigned char kek[32])
{
    if (h->wipe_after == 0) {
        return header_slot_opens(h, h->own, kek);
    }
    unsigned char ck[32], anchor[32];
    chain_at(anchor, h->counter, h->wipe_after);
    chain_key(ck, kek, anchor);
    int ok = header_slot_opens(h, h->own, ck);
    sodium_memzero(ck, sizeof ck);
    return ok;
}
