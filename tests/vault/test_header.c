/*
 * test_header.c - the vault header: create/unlock round trip, wrong passphrase, rewrap, and a
 * strict parser (every byte flip, every truncation, trailing bytes, forged fields under a
 * recomputed checksum).
 *
 * Argon2id is the slow part (64 MiB per derivation at the interactive level), so one header is
 * created per run in the group setup and each test derives at most twice.
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
#include "vault/header_names.h"

static const char pass[] = "correct horse battery staple";

struct fixture {
    struct dft_header h;
    struct dft_keys *k;
    unsigned char ser[DFT_HEADER_MAX_BYTES];
    size_t ser_len;
};

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

static void
test_header__create_then_unlock_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* layout of docs/vault-format.md */
    assert_int_equal(fx->ser_len, 298 + 32);
    assert_memory_equal(fx->ser, "DFTVAULT\x00\x01\x01\x01", 12);
    assert_int_equal(fx->ser[149], 144);
    assert_memory_equal(fx->ser + 60, fx->k->sign_pk, 32);
    assert_memory_equal(fx->ser + 92, fx->k->box_pk, 32);
    unsigned char sum[32];
    crypto_hash_sha256(sum, fx->ser, 298);
    assert_memory_equal(fx->ser + 298, sum, 32);

    struct dft_header h;
    assert_int_equal(header_parse(&h, fx->ser, fx->ser_len, &err), DFT_OK);
    assert_int_equal(h.kdf_level, DFT_KDF_INTERACTIVE);
    assert_int_equal(h.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(h.memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    assert_int_equal(h.state_len, 0);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_OK);
    assert_same_keys(k, fx->k);
    keys_free(k);
}

static void
test_header__wrong_passphrase(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    memset(k, 0x5a, sizeof *k);
    /* one character short of the right passphrase */
    assert_int_equal(header_unlock(&fx->h, k, pass, strlen(pass) - 1, &err), DFT_ERR_PASSPHRASE);
    assert_int_equal(err.code, DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase");
    /* nothing was written to the keys */
    for (size_t i = 0; i < sizeof k->master; i++) {
        assert_int_equal(k->master[i], 0x5a);
    }
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
    /* fresh salt and nonce, same identity */
    assert_memory_not_equal(h.salt, fx->h.salt, sizeof h.salt);
    assert_memory_not_equal(h.nonce, fx->h.nonce, sizeof h.nonce);
    assert_memory_equal(h.vault_id, fx->h.vault_id, sizeof h.vault_id);
    assert_memory_equal(h.sign_pk, fx->h.sign_pk, sizeof h.sign_pk);
    assert_memory_equal(h.box_pk, fx->h.box_pk, sizeof h.box_pk);
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
    assert_int_equal(header_unlock(&back, k, pass, strlen(pass), &err), DFT_ERR_PASSPHRASE);
    keys_free(k);
}

static void
test_header__secret_keys_must_match_public_keys(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* Wrap someone else's secret keys under this header's public keys: the AEAD passes. */
    struct dft_keys *other = keys_new();
    assert_non_null(other);
    memcpy(other, fx->k, sizeof *other);
    crypto_sign_keypair(other->sign_pk, other->sign_sk);
    struct dft_header h = fx->h;
    assert_int_equal(header_wrap(&h, other, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err), DFT_OK);
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    assert_int_equal(header_unlock(&h, k, pass, strlen(pass), &err), DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "vault header keys do not match");
    keys_free(k);
    keys_free(other);
}

static void
test_header__every_byte_flip_is_integrity(void **state)
{
    struct fixture *fx = *state;
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    unsigned char p[DFT_HEADER_MAX_BYTES];
    for (size_t i = 0; i < fx->ser_len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            struct dft_error err = {0};
            struct dft_header h;
            memset(&h, 0x77, sizeof h);
            memcpy(p, fx->ser, fx->ser_len);
            p[i] ^= masks[m];
            enum dft_err rc = header_parse(&h, p, fx->ser_len, &err);
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
    for (size_t n = 0; n < fx->ser_len; n++) {
        struct dft_error err = {0};
        struct dft_header h;
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        unsigned char *p = malloc(n + 1);
        assert_non_null(p);
        memcpy(p, fx->ser, n);
        assert_int_equal(header_parse(&h, p, n, &err), DFT_ERR_INTEGRITY);
        free(p);
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
        memcpy(p, fx->ser, fx->ser_len);
        memset(p + fx->ser_len, 0, extra);
        assert_int_equal(header_parse(&h, p, fx->ser_len + extra, &err), DFT_ERR_INTEGRITY);
        /* even with a checksum that covers the extra bytes */
        fix_checksum(p, fx->ser_len + extra);
        assert_int_equal(header_parse(&h, p, fx->ser_len + extra, &err), DFT_ERR_INTEGRITY);
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
    {"wrapped length 143", 148, 2, 143},
    {"wrapped length 0", 148, 2, 0},
    {"state length 1", 294, 4, 1},
    {"state length max+1", 294, 4, DFT_HEADER_STATE_MAX + 1},
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
        memcpy(p, fx->ser, fx->ser_len);
        set_be(p + forged[i].off, forged[i].value, forged[i].width);
        fix_checksum(p, fx->ser_len);
        enum dft_err rc = header_parse(&h, p, fx->ser_len, &err);
        if (rc != DFT_ERR_INTEGRITY) {
            print_error("%s: %d\n", forged[i].what, rc);
        }
        assert_int_equal(rc, DFT_ERR_INTEGRITY);
    }
    /* Another magic is not a vault header at all. */
    memcpy(p, fx->ser, fx->ser_len);
    memcpy(p, "DFTVAULU", 8);
    fix_checksum(p, fx->ser_len);
    struct dft_header h;
    assert_int_equal(header_parse(&h, p, fx->ser_len, NULL), DFT_ERR_INTEGRITY);
}

static void
test_header__state_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_header h = fx->h;
    static const uint32_t lens[] = {1, 100, DFT_HEADER_STATE_MAX};
    unsigned char p[DFT_HEADER_MAX_BYTES];
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        h.state_len = lens[i];
        randombytes_buf(h.state, h.state_len);
        size_t n = 0;
        assert_int_equal(header_encode(&h, p, sizeof p, &n, &err), DFT_OK);
        assert_int_equal(n, 298 + lens[i] + 32);
        struct dft_header back;
        assert_int_equal(header_parse(&back, p, n, &err), DFT_OK);
        assert_int_equal(back.state_len, lens[i]);
        assert_memory_equal(back.state, h.state, lens[i]);
        assert_memory_equal(back.wrapped, h.wrapped, sizeof h.wrapped);
        /* cut one byte of state: length no longer matches (with a valid checksum) */
        fix_checksum(p, n - 1);
        assert_int_equal(header_parse(&back, p, n - 1, &err), DFT_ERR_INTEGRITY);
    }
    /* encode refuses a buffer too small and a state too long */
    size_t n = 0;
    h.state_len = 0;
    assert_int_equal(header_encode(&h, p, 298 + 31, &n, &err), DFT_ERR_INTERNAL);
    h.state_len = DFT_HEADER_STATE_MAX + 1;
    assert_int_equal(header_encode(&h, p, sizeof p, &n, &err), DFT_ERR_INTERNAL);
}

static void
test_header__write_then_read_file(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char dir[] = "/tmp/dft-header-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], tmp[80];
    snprintf(path, sizeof path, "%s/header", dir);
    snprintf(tmp, sizeof tmp, "%s/header.tmp", dir);
    struct dft_header h;
    assert_int_equal(header_read(&h, path, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(header_write(&fx->h, path, &err), DFT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, fx->ser_len);
    assert_int_not_equal(access(tmp, F_OK), 0); /* no temp file left behind */
    assert_int_equal(header_read(&h, path, &err), DFT_OK);
    assert_memory_equal(h.wrapped, fx->h.wrapped, sizeof h.wrapped);
    assert_memory_equal(h.salt, fx->h.salt, sizeof h.salt);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header__create_then_unlock_round_trip),
        cmocka_unit_test(test_header__wrong_passphrase),
        cmocka_unit_test(test_header__rewrap_keeps_the_keys),
        cmocka_unit_test(test_header__secret_keys_must_match_public_keys),
        cmocka_unit_test(test_header__every_byte_flip_is_integrity),
        cmocka_unit_test(test_header__every_truncation_is_integrity),
        cmocka_unit_test(test_header__trailing_bytes_are_integrity),
        cmocka_unit_test(test_header__forged_fields_behind_valid_checksum),
        cmocka_unit_test(test_header__state_round_trip),
        cmocka_unit_test(test_header__write_then_read_file),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
