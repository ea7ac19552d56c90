/*
 * test_header.c - the vault header: key slots (round trip, wrong passphrase, what an unlock
 * changes, rewrap, a damaged copy, recovery and shred slots, nothing in clear) and the legacy
 * version-1 header (strict parser, cost cap, conversion at unlock).
 *
 * Argon2id is the slow part (64 MiB per derivation at the interactive level), so one header is
 * created per run in the group setup and each test derives only a few times. Legacy headers are
 * built here from docs/vault-format.md ("Legacy header") with libsodium directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/tlog.h"
#include "vault/header.h"

static const char pass[] = "correct horse battery staple";

struct fixture {
    struct dft_header h; /* as created (unlocked) */
    struct dft_keys *k;
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t ser_len;
    unsigned char legacy[DFT_HEADER_MAX_BYTES]; /* a version-1 header of the same keys */
    size_t legacy_len;
};

static void
set_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* Recompute the trailing SHA-256 so that a forged field reaches the field checks. */
static void
fix_checksum(unsigned char *p, size_t n)
{
    crypto_hash_sha256(p + n - 32, p, n - 32);
}

/* A version-1 header as the code before key slots wrote it. */
static size_t
legacy_encode(unsigned char *p, const struct dft_keys *k, const char *pw,
              const unsigned char *state, uint32_t state_len)
{
    unsigned char plain[128], kek[32];
    memset(p, 0, 298 + state_len + 32);
    memcpy(p, "DFTVAULT", 8);
    set_be(p + 8, 1, 2);
    p[10] = 1;
    p[11] = DFT_KDF_INTERACTIVE;
    set_be(p + 12, crypto_pwhash_OPSLIMIT_INTERACTIVE, 8);
    set_be(p + 20, crypto_pwhash_MEMLIMIT_INTERACTIVE, 8);
    randombytes_buf(p + 28, 16);
    memcpy(p + 44, k->vault_id, 16);
    memcpy(p + 60, k->sign_pk, 32);
    memcpy(p + 92, k->box_pk, 32);
    randombytes_buf(p + 124, 24);
    set_be(p + 148, 144, 2);
    if (crypto_pwhash(kek, 32, pw, strlen(pw), p + 28, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return 0;
    }
    memcpy(plain, k->master, 32);
    memcpy(plain + 32, k->sign_sk, 64);
    memcpy(plain + 96, k->box_sk, 32);
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + 150, NULL, plain, 128, p, 124, NULL, p + 124,
                                               kek);
    set_be(p + 294, state_len, 4);
    if (state_len != 0) {
        memcpy(p + 298, state, state_len);
    }
    fix_checksum(p, 298 + state_len + 32);
    sodium_memzero(plain, sizeof plain);
    sodium_memzero(kek, sizeof kek);
    return 298 + state_len + 32;
}

static int
group_setup(void **state)
{
    struct dft_error err = {0};
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || dft_crypto_init(&err) != DFT_OK) {
        return -1;
    }
    fx->k = keys_new();
    if (fx->k == NULL ||
        header_create(&fx->h, fx->k, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
        header_encode(&fx->h, fx->ser, sizeof fx->ser, &fx->ser_len, &err) != DFT_OK) {
        return -1;
    }
    fx->legacy_len = legacy_encode(fx->legacy, fx->k, pass, NULL, 0);
    if (fx->legacy_len == 0) {
        return -1;
    }
    *state = fx;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    keys_free(fx->k);
    sodium_memzero(fx, sizeof *fx);
    free(fx);
    return 0;
}

static void
assert_same_keys(const struct dft_keys *a, const struct dft_keys *b)
{
    assert_memory_equal(a->master, b->master, DFT_KEY_BYTES);
    assert_memory_equal(a->sign_sk, b->sign_sk, DFT_SIGN_SK_BYTES);
    assert_memory_equal(a->sign_pk, b->sign_pk, DFT_SIGN_PK_BYTES);
    assert_memory_equal(a->box_sk, b->box_sk, DFT_BOX_SK_BYTES);
    assert_memory_equal(a->box_pk, b->box_pk, DFT_BOX_PK_BYTES);
    assert_memory_equal(a->vault_id, b->vault_id, DFT_VAULT_ID_BYTES);
    assert_memory_equal(a->page_key, b->page_key, DFT_KEY_BYTES);
    assert_memory_equal(a->seal_key, b->seal_key, DFT_KEY_BYTES);
    assert_memory_equal(a->dedup_key, b->dedup_key, DFT_KEY_BYTES);
    assert_memory_equal(a->object_key, b->object_key, DFT_KEY_BYTES);
    assert_memory_equal(a->state_key, b->state_key, DFT_KEY_BYTES);
}

/* Slots of two images that differ. */
static int
changed_slots(const unsigned char *a, const unsigned char *b)
{
    int n = 0;
    for (int i = 0; i < HEADER_SLOTS; i++) {
        size_t off = HEADER_OFF_SLOTS + (size_t)i * HEADER_SLOT_BYTES;
        n += memcmp(a + off, b + off, HEADER_SLOT_BYTES) != 0;
    }
    return n;
}

/* Does any window of w bytes of needle occur in hay? */
static int
has_window(const unsigned char *hay, size_t n, const unsigned char *needle, size_t m, size_t w)
{
    for (size_t i = 0; i + w <= m; i++) {
        for (size_t j = 0; j + w <= n; j++) {
            if (memcmp(hay + j, needle + i, w) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static void
test_header__create_then_unlock_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* two equal copies, nothing recognisable: no magic, no public key, no count */
    assert_int_equal(fx->ser_len, HEADER_DISK_BYTES);
    assert_memory_equal(fx->ser, fx->ser + HEADER_IMAGE_BYTES, HEADER_IMAGE_BYTES);
    assert_memory_not_equal(fx->ser, "DFTVAULT", 8);
    assert_false(has_window(fx->ser, fx->ser_len, fx->k->sign_pk, 32, 8));
    assert_false(has_window(fx->ser, fx->ser_len, fx->k->box_pk, 32, 8));
    assert_false(has_window(fx->ser, fx->ser_len, fx->k->vault_id, 16, 8));

    struct dft_header h;
    assert_int_equal(header_parse(&h, fx->ser, fx->ser_len, &err), DFT_OK);
    assert_int_equal(h.kdf_level, DFT_KDF_INTERACTIVE);
    assert_int_equal(h.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(h.memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    assert_int_equal(h.own, fx->h.own);
    assert_int_equal(h.kind, HEADER_KIND_OPEN);
    assert_memory_equal(h.vault_id, fx->k->vault_id, DFT_VAULT_ID_BYTES);
    /* the unlock changed exactly three slots (own under a fresh nonce, two spares), nothing else */
    assert_int_equal(changed_slots(fx->ser, h.image), 3);
    assert_memory_equal(h.image, fx->ser, HEADER_OFF_SLOTS);
    assert_memory_equal(h.image + HEADER_OFF_CELLS, fx->ser + HEADER_OFF_CELLS,
                        HEADER_IMAGE_BYTES - HEADER_OFF_CELLS);
    /* and it still opens, again changing three */
    unsigned char before[HEADER_IMAGE_BYTES];
    memcpy(before, h.image, sizeof before);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_int_equal(changed_slots(before, h.image), 3);
    keys_free(k);
}

static void
test_header__wrong_passphrase(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_header h;
    assert_int_equal(header_parse(&h, fx->ser, fx->ser_len, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    memset(k, 0x5a, sizeof *k);
    /* one character short of the right passphrase */
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass) - 1, &err), DFT_ERR_PASSPHRASE);
    assert_int_equal(err.code, DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    /* nothing was written to the keys, nothing changed in the image */
    for (size_t i = 0; i < sizeof k->master; i++) {
        assert_int_equal(k->master[i], 0x5a);
    }
    assert_memory_equal(h.image, fx->ser, HEADER_IMAGE_BYTES);
    size_t n = 0;
    unsigned char out[DFT_HEADER_MAX_BYTES];
    assert_int_equal(header_encode(&h, out, sizeof out, &n, &err), DFT_OK);
    assert_int_equal(n, fx->ser_len);
    assert_memory_equal(out, fx->ser, n);
    keys_free(k);
}

static void
test_header__rewrap_keeps_the_keys(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    static const char next[] = "\xd0\x9d\xd0\xbe\xd0\xb2\xd1\x8b\xd0\xb9 pass"; /* Cyrillic */
    struct dft_header h = fx->h;
    assert_int_equal(header_wrap(&h, fx->k, next, strlen(next), DFT_KDF_INTERACTIVE, &err), DFT_OK);
    /* same level: same salt (the other passphrase slots share it), own slot resealed */
    assert_memory_equal(h.image, fx->h.image, DFT_HEADER_SALT_BYTES);
    assert_int_equal(changed_slots(h.image, fx->h.image), 1);
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    assert_int_equal(header_encode(&h, ser, sizeof ser, &n, &err), DFT_OK);
    struct dft_header back;
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&back, k, next, strlen(next), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    /* the old passphrase no longer opens the rewrapped header */
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock(&back, k, pass, strlen(pass), &err), DFT_ERR_PASSPHRASE);
    /* another level: a new salt whose last byte says the level */
    h = fx->h;
    assert_int_equal(header_wrap(&h, fx->k, next, strlen(next), DFT_KDF_MODERATE, &err), DFT_OK);
    assert_memory_not_equal(h.image, fx->h.image, DFT_HEADER_SALT_BYTES);
    assert_int_equal(h.kdf_level, DFT_KDF_MODERATE);
    assert_int_equal(h.image[DFT_HEADER_SALT_BYTES - 1] % 3 + 1, DFT_KDF_MODERATE);
    keys_free(k);
}

/* A damaged copy 0 (or one cut by a crash) opens from copy 1. */
static void
test_header__damaged_copy_opens_from_the_other(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    unsigned char p[DFT_HEADER_MAX_BYTES];
    memcpy(p, fx->ser, fx->ser_len);
    /* damage every slot of copy 0 */
    for (int i = 0; i < HEADER_SLOTS; i++) {
        p[HEADER_OFF_SLOTS + (size_t)i * HEADER_SLOT_BYTES + 30] ^= 0x40;
    }
    struct dft_header h;
    assert_int_equal(header_parse(&h, p, fx->ser_len, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    /* both copies damaged: wrong passphrase or damaged header */
    for (int i = 0; i < HEADER_SLOTS; i++) {
        p[HEADER_IMAGE_BYTES + HEADER_OFF_SLOTS + (size_t)i * HEADER_SLOT_BYTES + 30] ^= 0x40;
    }
    assert_int_equal(header_parse(&h, p, fx->ser_len, &err), DFT_OK);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    keys_free(k);
}

/* The tag covers every byte: damage anywhere in a copy is seen once a slot opens. */
static void
test_header__any_damaged_byte_is_seen(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    unsigned char p[DFT_HEADER_MAX_BYTES];
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    for (size_t pos = 5; pos < fx->ser_len; pos += 131) {
        memcpy(p, fx->ser, fx->ser_len);
        p[pos] ^= 0x5a;
        struct dft_header h;
        assert_int_equal(header_parse(&h, p, fx->ser_len, &err), DFT_OK);
        enum dft_err rc = header_unlock(&h, k, pass, strlen(pass), &err);
        if (rc != DFT_OK || h.damaged != 1 + (pos >= HEADER_IMAGE_BYTES)) {
            print_error("offset %zu: rc %d damaged %d\n", pos, rc, h.damaged);
        }
        assert_int_equal(rc, DFT_OK);
        assert_int_equal(h.damaged, 1 + (pos >= HEADER_IMAGE_BYTES));
        assert_same_keys(k, fx->k);
    }
    /* the same spare byte damaged in both copies: a slot opens, no tag checks */
    memcpy(p, fx->ser, fx->ser_len);
    size_t tag = HEADER_OFF_TAG + 3;
    p[tag] ^= 1;
    p[HEADER_IMAGE_BYTES + tag] ^= 1;
    struct dft_header h;
    assert_int_equal(header_parse(&h, p, fx->ser_len, &err), DFT_OK);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "vault header is damaged or tampered");
    keys_free(k);
}

static void
test_header__recovery_slot(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    unsigned char rkey[32], skey[32];
    randombytes_buf(rkey, sizeof rkey);
    header_recovery_key(skey, rkey);
    struct dft_header h = fx->h;
    int r = header_role_slot(&h, HEADER_ROLE_RECOVERY);
    assert_true(r >= 0 && r != h.own);
    header_slot_seal(&h, r, HEADER_KIND_RECOVERY, 0, h.map, fx->k, skey);
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    assert_int_equal(header_encode(&h, ser, sizeof ser, &n, &err), DFT_OK);
    struct dft_header back;
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock_recovery(&back, k, rkey, &err), DFT_OK);
    assert_same_keys(k, fx->k);
    assert_int_equal(back.own, fx->h.own); /* a new passphrase goes into the open slot */
    /* the passphrase still opens; the recovery slot is not a passphrase slot */
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock(&back, k, pass, strlen(pass), &err), DFT_OK);
    /* another key opens nothing */
    rkey[0] ^= 1;
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock_recovery(&back, k, rkey, &err), DFT_ERR_PASSPHRASE);
    keys_free(k);
}

/* A shred slot under a duress passphrase drops the open and recovery slots. */
static void
test_header__shred_slot(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    static const char duress[] = "duress words";
    unsigned char *kek = sodium_malloc(32);
    unsigned char rkey[32], skey[32];
    assert_non_null(kek);
    struct dft_header h = fx->h;
    int r = header_role_slot(&h, HEADER_ROLE_RECOVERY);
    int s = header_role_slot(&h, HEADER_ROLE_SHRED);
    assert_true(r >= 0 && s >= 0 && r != s);
    randombytes_buf(rkey, sizeof rkey);
    header_recovery_key(skey, rkey);
    header_slot_seal(&h, r, HEADER_KIND_RECOVERY, 0, h.map, fx->k, skey);
    assert_int_equal(header_derive(&h, kek, duress, strlen(duress), &err), DFT_OK);
    header_slot_seal(&h, s, HEADER_KIND_SHRED, 0, h.map, NULL, kek);
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    assert_int_equal(header_encode(&h, ser, sizeof ser, &n, &err), DFT_OK);

    struct dft_header back;
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock(&back, k, duress, strlen(duress), &err), DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    assert_true(back.shredded);
    /* three slots changed, as in any unlock; then nothing opens and no key byte is left */
    assert_int_equal(changed_slots(ser, back.image), 3);
    unsigned char after[DFT_HEADER_MAX_BYTES];
    size_t m = 0;
    assert_int_equal(header_encode(&back, after, sizeof after, &m, &err), DFT_OK);
    assert_int_equal(m, n);
    assert_false(has_window(after, m, ser + HEADER_OFF_SLOTS + (size_t)h.own * HEADER_SLOT_BYTES,
                            HEADER_SLOT_BYTES, 16));
    assert_false(has_window(after, m, ser + HEADER_OFF_SLOTS + (size_t)r * HEADER_SLOT_BYTES,
                            HEADER_SLOT_BYTES, 16));
    assert_int_equal(header_parse(&back, after, m, &err), DFT_OK);
    assert_int_equal(header_unlock(&back, k, pass, strlen(pass), &err), DFT_ERR_PASSPHRASE);
    assert_int_equal(header_parse(&back, after, m, &err), DFT_OK);
    assert_int_equal(header_unlock_recovery(&back, k, rkey, &err), DFT_ERR_PASSPHRASE);
    keys_free(k);
    sodium_free(kek);
}

/* ---- the legacy (version 1) header ---- */

static void
test_header__legacy_opens_and_converts(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_header h;
    assert_int_equal(header_parse(&h, fx->legacy, fx->legacy_len, &err), DFT_OK);
    assert_true(h.legacy);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    assert_false(h.legacy);
    /* converted: a slotted file, whose cell seals the empty tree (a state from before none) */
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t n = 0;
    assert_int_equal(header_encode(&h, ser, sizeof ser, &n, &err), DFT_OK);
    assert_int_equal(n, HEADER_DISK_BYTES);
    struct dft_tlog_state st;
    assert_int_equal(tlog_state_open(&st, h.state, h.state_len, k->state_key, k->vault_id, &err),
                     DFT_OK);
    assert_int_equal(st.size, 0);
    struct dft_header back;
    assert_int_equal(header_parse(&back, ser, n, &err), DFT_OK);
    assert_int_equal(header_unlock(&back, k, pass, strlen(pass), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    /* a legacy sealed state is carried over as it is */
    unsigned char sealed[DFT_TLOG_STATE_BYTES];
    struct dft_tlog_state seven = {.size = 7};
    randombytes_buf(seven.root, sizeof seven.root);
    tlog_state_seal(sealed, &seven, fx->k->state_key, fx->k->vault_id);
    unsigned char old[DFT_HEADER_MAX_BYTES];
    size_t oldn = legacy_encode(old, fx->k, pass, sealed, sizeof sealed);
    assert_int_equal(header_parse(&h, old, oldn, &err), DFT_OK);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_int_equal(tlog_state_open(&st, h.state, h.state_len, k->state_key, k->vault_id, &err),
                     DFT_OK);
    assert_int_equal(st.size, 7);
    /* a wrong passphrase on a legacy header: the same message, the same bytes back */
    assert_int_equal(header_parse(&h, old, oldn, &err), DFT_OK);
    assert_int_equal(header_unlock(&h, k, "nope", 4, &err), DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    assert_int_equal(header_encode(&h, ser, sizeof ser, &n, &err), DFT_OK);
    assert_int_equal(n, oldn);
    assert_memory_equal(ser, old, n);
    keys_free(k);
}

static void
test_header__legacy_secret_keys_must_match_public_keys(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* Wrap someone else's secret keys under this header's public keys: the AEAD passes. */
    struct dft_keys *other = keys_new();
    assert_non_null(other);
    memcpy(other, fx->k, sizeof *other);
    unsigned char pk[32];
    crypto_sign_keypair(pk, other->sign_sk);
    unsigned char p[DFT_HEADER_MAX_BYTES];
    size_t n = legacy_encode(p, other, pass, NULL, 0);
    struct dft_header h;
    assert_int_equal(header_parse(&h, p, n, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "vault header keys do not match");
    keys_free(k);
    keys_free(other);
}

static void
test_header__legacy_every_byte_flip_is_integrity(void **state)
{
    struct fixture *fx = *state;
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    unsigned char p[DFT_HEADER_MAX_BYTES];
    for (size_t i = 0; i < fx->legacy_len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            struct dft_error err = {0};
            struct dft_header h;
            memset(&h, 0x77, sizeof h);
            memcpy(p, fx->legacy, fx->legacy_len);
            p[i] ^= masks[m];
            enum dft_err rc = header_parse(&h, p, fx->legacy_len, &err);
            if (rc != DFT_ERR_INTEGRITY) {
                print_error("offset %zu mask 0x%02x: %d\n", i, masks[m], rc);
            }
            assert_int_equal(rc, DFT_ERR_INTEGRITY);
            assert_int_equal(h.kdf_level, 0x77); /* output untouched */
        }
    }
}

static void
test_header__every_truncation_is_integrity(void **state)
{
    struct fixture *fx = *state;
    for (size_t n = 0; n < fx->legacy_len; n++) {
        struct dft_error err = {0};
        struct dft_header h;
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        unsigned char *p = malloc(n + 1);
        assert_non_null(p);
        memcpy(p, fx->legacy, n);
        assert_int_equal(header_parse(&h, p, n, &err), DFT_ERR_INTEGRITY);
        free(p);
    }
    /* a slotted header has one length */
    struct dft_header h;
    for (size_t n = fx->ser_len - 40; n < fx->ser_len + 40; n++) {
        if (n != fx->ser_len && n != HEADER_FILE_BYTES) { /* 4260: made before the counter */
            assert_int_equal(header_parse(&h, fx->ser, n < fx->ser_len ? n : fx->ser_len - 1, NULL),
                             DFT_ERR_INTEGRITY);
        }
    }
}

static void
test_header__trailing_bytes_are_integrity(void **state)
{
    struct fixture *fx = *state;
    unsigned char p[DFT_HEADER_MAX_BYTES + 64];
    struct dft_header h;
    struct dft_error err = {0};
    for (size_t extra = 1; extra <= 33; extra += 8) {
        memcpy(p, fx->legacy, fx->legacy_len);
        memset(p + fx->legacy_len, 0, extra);
        assert_int_equal(header_parse(&h, p, fx->legacy_len + extra, &err), DFT_ERR_INTEGRITY);
        /* even with a checksum that covers the extra bytes */
        fix_checksum(p, fx->legacy_len + extra);
        assert_int_equal(header_parse(&h, p, fx->legacy_len + extra, &err), DFT_ERR_INTEGRITY);
    }
}

/* Fields that a damaged or forged header may carry, each behind a valid checksum. */
static const struct {
    const char *what;
    size_t off;
    int width;
    uint64_t value;
} forged[] = {
    {"version 0", 8, 2, 0},
    {"version 2", 8, 2, 2},
    {"kdf algorithm 2", 10, 1, 2},
    {"kdf level 0", 11, 1, 0},
    {"kdf level 4", 11, 1, 4},
    {"opslimit 0", 12, 8, 0},
    {"opslimit huge", 12, 8, UINT64_MAX},
    {"memlimit 0", 20, 8, 0},
    {"memlimit 8 GiB", 20, 8, 8ull << 30},
    /* the cost is used before it is authenticated: nothing above the sensitive level */
    {"opslimit sensitive+1", 12, 8, crypto_pwhash_OPSLIMIT_SENSITIVE + 1},
    {"memlimit sensitive+1", 20, 8, crypto_pwhash_MEMLIMIT_SENSITIVE + 1},
    {"memlimit 4 GiB", 20, 8, 4ull << 30},
    {"wrapped length 143", 148, 2, 143},
    {"wrapped length 0", 148, 2, 0},
    {"state length 1", 294, 4, 1},
    {"state length 4097", 294, 4, 4097},
    {"state length 2^32-1", 294, 4, UINT32_MAX},
};

static void
test_header__forged_fields_behind_valid_checksum(void **state)
{
    struct fixture *fx = *state;
    unsigned char p[DFT_HEADER_MAX_BYTES];
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        struct dft_error err = {0};
        struct dft_header h;
        memcpy(p, fx->legacy, fx->legacy_len);
        set_be(p + forged[i].off, forged[i].value, forged[i].width);
        fix_checksum(p, fx->legacy_len);
        enum dft_err rc = header_parse(&h, p, fx->legacy_len, &err);
        if (rc != DFT_ERR_INTEGRITY) {
            print_error("%s: %d\n", forged[i].what, rc);
        }
        assert_int_equal(rc, DFT_ERR_INTEGRITY);
    }
    /* Another magic is not a vault header at all. */
    memcpy(p, fx->legacy, fx->legacy_len);
    memcpy(p, "DFTVAULU", 8);
    fix_checksum(p, fx->legacy_len);
    struct dft_header h;
    assert_int_equal(header_parse(&h, p, fx->legacy_len, NULL), DFT_ERR_INTEGRITY);
}

/* A damaged key wrap behind a valid checksum cannot be told from a wrong passphrase: say both. */
static void
test_header__damaged_wrap_is_not_a_plain_wrong_passphrase(void **state)
{
    struct fixture *fx = *state;
    unsigned char p[DFT_HEADER_MAX_BYTES];
    memcpy(p, fx->legacy, fx->legacy_len);
    p[150 + 7] ^= 0x01;
    fix_checksum(p, fx->legacy_len);
    struct dft_header h;
    struct dft_error err = {0};
    assert_int_equal(header_parse(&h, p, fx->legacy_len, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    keys_free(k);
}

static void
test_header__state_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_header h = fx->h;
    unsigned char p[DFT_HEADER_MAX_BYTES];
    h.state_len = DFT_HEADER_STATE_MAX;
    randombytes_buf(h.state, h.state_len);
    size_t n = 0;
    assert_int_equal(header_encode(&h, p, sizeof p, &n, &err), DFT_OK);
    assert_int_equal(n, HEADER_DISK_BYTES);
    struct dft_header back;
    assert_int_equal(header_parse(&back, p, n, &err), DFT_OK);
    assert_int_equal(header_attach(&back, &fx->h, &err), DFT_OK);
    /* another vault's header (another tag key) is not attached to */
    struct dft_header stranger = fx->h;
    randombytes_buf(stranger.tag_key, sizeof stranger.tag_key);
    struct dft_header back2;
    assert_int_equal(header_parse(&back2, p, n, &err), DFT_OK);
    assert_int_equal(header_attach(&back2, &stranger, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(back.state_len, DFT_HEADER_STATE_MAX);
    assert_memory_equal(back.state, h.state, DFT_HEADER_STATE_MAX);
    /* encode refuses a buffer too small and a state of another length */
    assert_int_equal(header_encode(&h, p, HEADER_FILE_BYTES - 1, &n, &err), DFT_ERR_INTERNAL);
    h.state_len = DFT_HEADER_STATE_MAX - 1;
    assert_int_equal(header_encode(&h, p, sizeof p, &n, &err), DFT_ERR_INTERNAL);
}

static void
test_header__write_then_read_file(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char dir[] = "/tmp/dft-header-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/header", dir);
    struct dft_header h;
    assert_int_equal(header_read(&h, path, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(header_write(&fx->h, path, &err), DFT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, fx->ser_len);
    ino_t ino = st.st_ino;
    assert_int_equal(header_read(&h, path, &err), DFT_OK);
    assert_memory_equal(h.image, fx->ser, HEADER_IMAGE_BYTES);
    /* an unlock rewrites the same file in place (no older copy in a renamed-away inode) */
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock_at(&h, k, pass, strlen(pass), path, &err), DFT_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_ino, ino);
    struct dft_header again;
    assert_int_equal(header_read(&again, path, &err), DFT_OK);
    assert_memory_equal(again.image, h.image, HEADER_OFF_TAG); /* the tag is made by the write */
    assert_int_equal(changed_slots(again.image, fx->h.image), 3);
    /* a wrong passphrase writes the same bytes back */
    assert_int_equal(header_unlock_at(&again, k, "x", 1, path, &err), DFT_ERR_PASSPHRASE);
    struct dft_header third;
    assert_int_equal(header_read(&third, path, &err), DFT_OK);
    assert_memory_equal(third.file, again.file, HEADER_FILE_BYTES);
    /* the attempt counter included: with wipe after N off, a wrong passphrase changes nothing */
    assert_memory_equal(third.file + HEADER_FILE_BYTES, again.file + HEADER_FILE_BYTES,
                        HEADER_COUNTER_BYTES);
    keys_free(k);
    /* a file longer than any header is damage, not a read of its first bytes */
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    static const unsigned char junk[DFT_HEADER_MAX_BYTES] = {0};
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    assert_int_equal(header_read(&h, path, &err), DFT_ERR_INTEGRITY);
    unlink(path);
    rmdir(dir);
}

/* One attempt on the file bytes f (as header_unlock_at writes them back); returns its answer. */
static enum dft_err
attempt(unsigned char *f, const char *p, struct dft_keys *k, struct dft_header *h)
{
    struct dft_error err = {0};
    size_t n = 0;
    assert_int_equal(header_parse(h, f, HEADER_DISK_BYTES, &err), DFT_OK);
    enum dft_err rc = header_unlock(h, k, p, strlen(p), &err);
    if (rc == DFT_OK) {
        assert_int_equal(header_encode(h, f, HEADER_DISK_BYTES, &n, &err), DFT_OK);
    } else {
        memcpy(f + HEADER_FILE_BYTES, h->counter, HEADER_COUNTER_BYTES);
    }
    return rc;
}

static void
test_header__wipe_after_n_wrong(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_header *h = calloc(1, sizeof *h);
    struct dft_keys *k = keys_new();
    unsigned char *kek = sodium_malloc(32);
    unsigned char f[HEADER_DISK_BYTES], before[HEADER_DISK_BYTES];
    size_t n = 0;
    assert_non_null(h);
    assert_non_null(k);
    assert_non_null(kek);
    memcpy(f, fx->ser, sizeof f);
    assert_int_equal(attempt(f, pass, k, h), DFT_OK);
    assert_int_equal(h->wipe_after, 0);
    assert_int_equal(header_derive(h, kek, pass, strlen(pass), &err), DFT_OK);
    header_set_wipe_after(h, k, kek, 10);
    assert_int_equal(header_encode(h, f, sizeof f, &n, &err), DFT_OK);
    /* the own slot no longer opens under the passphrase's key alone */
    assert_false(header_slot_opens(h, h->own, kek));
    assert_true(header_own_opens(h, kek));
    /* nine wrong, then the right one opens and starts the count again */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 9; i++) {
            memcpy(before, f, sizeof f);
            assert_int_equal(attempt(f, "wrong", k, h), DFT_ERR_PASSPHRASE);
            assert_memory_equal(f, before, HEADER_FILE_BYTES); /* slots unchanged */
            assert_memory_not_equal(f + HEADER_FILE_BYTES, before + HEADER_FILE_BYTES, 32);
        }
        assert_int_equal(attempt(f, pass, k, h), DFT_OK);
        assert_int_equal(h->wipe_after, 10);
        assert_same_keys(k, fx->k);
    }
    /* ten wrong: the right one opens nothing any more, on either copy */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(attempt(f, "wrong", k, h), DFT_ERR_PASSPHRASE);
    }
    assert_int_equal(attempt(f, pass, k, h), DFT_ERR_PASSPHRASE);
    assert_int_equal(attempt(f, pass, k, h), DFT_ERR_PASSPHRASE);
    /* off again, from a file before the wipe: any number of wrong ones */
    memcpy(f, fx->ser, sizeof f);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(attempt(f, "wrong", k, h), DFT_ERR_PASSPHRASE);
    }
    assert_int_equal(attempt(f, pass, k, h), DFT_OK);
    sodium_free(kek);
    keys_free(k);
    sodium_memzero(h, sizeof *h);
    free(h);
}

/*
 * A first-release header whose state length says more than the file holds (found by the header
 * fuzzer): the parse must refuse it without reading past the buffer (ASan watches the read).
 */
static void
test_header__legacy_state_longer_than_file_refused(void **state)
{
    (void)state;
    const size_t statelen_off = 150 + DFT_HEADER_WRAPPED_BYTES; /* OFF_STATELEN in header.c */
    const size_t sizes[] = {HEADER_FILE_BYTES, HEADER_DISK_BYTES};
    for (size_t s = 0; s < 2; s++) {
        for (uint32_t slen = 4096 - 64; slen <= 4096; slen += 8) {
            unsigned char *p = calloc(1, sizes[s]); /* exactly the file: no slack to read */
            assert_non_null(p);
            memcpy(p, DFT_HEADER_MAGIC, 8);
            p[statelen_off] = (unsigned char)(slen >> 24);
            p[statelen_off + 1] = (unsigned char)(slen >> 16);
            p[statelen_off + 2] = (unsigned char)(slen >> 8);
            p[statelen_off + 3] = (unsigned char)slen;
            struct dft_header h;
            struct dft_error err = {0};
            assert_int_equal(header_parse(&h, p, sizes[s], &err), DFT_ERR_INTEGRITY);
            assert_non_null(strstr(err.msg, "damaged or tampered"));
            free(p);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header__create_then_unlock_round_trip),
        cmocka_unit_test(test_header__legacy_state_longer_than_file_refused),
        cmocka_unit_test(test_header__wrong_passphrase),
        cmocka_unit_test(test_header__rewrap_keeps_the_keys),
        cmocka_unit_test(test_header__damaged_copy_opens_from_the_other),
        cmocka_unit_test(test_header__any_damaged_byte_is_seen),
        cmocka_unit_test(test_header__recovery_slot),
        cmocka_unit_test(test_header__shred_slot),
        cmocka_unit_test(test_header__legacy_opens_and_converts),
        cmocka_unit_test(test_header__legacy_secret_keys_must_match_public_keys),
        cmocka_unit_test(test_header__legacy_every_byte_flip_is_integrity),
        cmocka_unit_test(test_header__every_truncation_is_integrity),
        cmocka_unit_test(test_header__trailing_bytes_are_integrity),
        cmocka_unit_test(test_header__forged_fields_behind_valid_checksum),
        cmocka_unit_test(test_header__damaged_wrap_is_not_a_plain_wrong_passphrase),
        cmocka_unit_test(test_header__state_round_trip),
        cmocka_unit_test(test_header__write_then_read_file),
        cmocka_unit_test(test_header__wipe_after_n_wrong),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
