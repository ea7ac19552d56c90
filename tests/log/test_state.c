/*
 * test_state.c - the log state sealed in the vault header: sealing and opening (every flipped
 * byte, wrong key, wrong vault), the check against a tree, and through a real vault: an old
 * database copied back is refused, a database ahead of its header (a crash between the commit
 * and the header write) opens and catches the header up, a stripped state is refused, and a
 * vault from before sealed states is upgraded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "defter/crypto.h"
#include "store/store.h"
#include "log/tlog.h"
#include "defter/vault.h"
#include "vault/header.h"
#include "vault/vault_internal.h"

#define PASS "correct horse battery staple"

static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const unsigned char vid[16] = {0xde, 0xf7, 0xe2};

static void
leaf(unsigned char out[32], uint64_t i)
{
    unsigned char b[8];
    for (int k = 0; k < 8; k++) {
        b[k] = (unsigned char)(i >> (8 * k));
    }
    crypto_leaf_hash(out, b, sizeof b);
}

static sqlite3 *
tree_db(uint64_t n)
{
    sqlite3 *db = NULL;
    struct dft_error e = {0};
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(tlog_setup(db, &e), DFT_OK);
    for (uint64_t i = 0; i < n; i++) {
        unsigned char h[32];
        leaf(h, i);
        assert_int_equal(tlog_append(db, i, h, &e), DFT_OK);
    }
    return db;
}

static void
test_state__seal_open_round_trip(void **state)
{
    (void)state;
    struct dft_tlog_state a = {.size = 123456789}, b;
    struct dft_error e = {0};
    unsigned char s1[DFT_TLOG_STATE_BYTES], s2[DFT_TLOG_STATE_BYTES];
    memset(a.root, 0x5a, sizeof a.root);
    tlog_state_seal(s1, &a, key, vid);
    tlog_state_seal(s2, &a, key, vid);
    assert_memory_not_equal(s1, s2, sizeof s1); /* fresh nonce each time */
    assert_int_equal(tlog_state_open(&b, s1, sizeof s1, key, vid, &e), DFT_OK);
    assert_int_equal(b.size, a.size);
    assert_memory_equal(b.root, a.root, 32);
}

static void
test_state__open_rejects_any_change(void **state)
{
    (void)state;
    struct dft_tlog_state a = {.size = 7}, b;
    unsigned char s[DFT_TLOG_STATE_BYTES];
    unsigned char other[32];
    unsigned char other_vid[16];
    memset(a.root, 0x11, sizeof a.root);
    tlog_state_seal(s, &a, key, vid);
    for (size_t i = 0; i < sizeof s; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            struct dft_error e = {0};
            s[i] ^= (unsigned char)(1 << bit);
            assert_int_equal(tlog_state_open(&b, s, sizeof s, key, vid, &e), DFT_ERR_INTEGRITY);
            s[i] ^= (unsigned char)(1 << bit);
        }
    }
    struct dft_error e = {0};
    memcpy(other, key, 32);
    other[31] ^= 1;
    memcpy(other_vid, vid, 16);
    other_vid[0] ^= 1;
    assert_int_equal(tlog_state_open(&b, s, sizeof s, other, vid, &e), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_state_open(&b, s, sizeof s, key, other_vid, &e), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_state_open(&b, s, sizeof s - 1, key, vid, &e), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_state_open(&b, s, 0, key, vid, &e), DFT_ERR_INTEGRITY);
}

static void
test_state__check_against_tree(void **state)
{
    (void)state;
    sqlite3 *db = tree_db(13);
    struct dft_tlog_state sealed, cur;
    struct dft_error e = {0};
    for (uint64_t n = 0; n <= 13; n++) {
        sealed.size = n;
        assert_int_equal(tlog_root(db, n, sealed.root, &e), DFT_OK);
        assert_int_equal(tlog_state_check(db, &sealed, &cur, &e), DFT_OK);
        assert_int_equal(cur.size, 13);
    }
    assert_int_equal(tlog_root(db, 13, sealed.root, &e), DFT_OK);
    assert_memory_equal(cur.root, sealed.root, 32);
    /* a header ahead of the database: rolled back */
    sealed.size = 14;
    assert_int_equal(tlog_state_check(db, &sealed, &cur, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "vault database is older than its header"));
    /* same size, another root: replaced by another history */
    for (uint64_t n = 1; n <= 13; n++) {
        struct dft_error e2 = {0};
        sealed.size = n;
        assert_int_equal(tlog_root(db, n, sealed.root, &e2), DFT_OK);
        sealed.root[n % 32] ^= 0x80;
        assert_int_equal(tlog_state_check(db, &sealed, NULL, &e2), DFT_ERR_INTEGRITY);
        assert_non_null(strstr(e2.msg, "rolled back or replaced"));
    }
    sqlite3_close(db);
}

/* ---- through a vault ---- */

struct fixture {
    char dir[64];
    char vault[96];
    char file[160];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct dft_error e = {0};
    assert_non_null(f);
    assert_int_equal(dft_crypto_init(&e), DFT_OK);
    snprintf(f->dir, sizeof f->dir, "/tmp/defter-test-state-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->vault, sizeof f->vault, "%s/v", f->dir);
    assert_int_equal(dft_vault_create(f->vault, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e),
                     DFT_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void
add(struct fixture *f, int n)
{
    struct dft_vault *v = NULL;
    struct dft_error e = {0};
    assert_int_equal(dft_vault_open(&v, f->vault, PASS, strlen(PASS), &e), DFT_OK);
    for (int i = 0; i < n; i++) {
        json_t *items = json_pack("[{ssss}]", "type", "person", "name", "Someone");
        json_t *ids = NULL;
        assert_int_equal(dft_vault_add(v, items, &ids, &e), DFT_OK);
        json_decref(items);
        json_decref(ids);
    }
    dft_vault_close(v);
}

static enum dft_err
try_open(struct fixture *f, struct dft_error *e)
{
    struct dft_vault *v = NULL;
    enum dft_err rc = dft_vault_open(&v, f->vault, PASS, strlen(PASS), e);
    dft_vault_close(v);
    return rc;
}

/* The header as the vault's own passphrase opens it (its state cell is known only then). */
static void
read_open_header(struct fixture *f, struct dft_header *h)
{
    struct dft_error e = {0};
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    snprintf(f->file, sizeof f->file, "%s/header", f->vault);
    assert_int_equal(header_read(h, f->file, &e), DFT_OK);
    assert_int_equal(header_unlock(h, k, PASS, strlen(PASS), &e), DFT_OK);
    keys_free(k);
}

static uint64_t
sealed_size(struct fixture *f)
{
    struct dft_header h;
    struct dft_error e = {0};
    struct dft_vault *v = NULL;
    struct dft_tlog_state st;
    read_open_header(f, &h);
    assert_int_equal(h.state_len, DFT_TLOG_STATE_BYTES);
    assert_int_equal(dft_vault_open(&v, f->vault, PASS, strlen(PASS), &e), DFT_OK);
    const struct dft_keys *k = vault_keys(v);
    assert_int_equal(tlog_state_open(&st, h.state, h.state_len, k->state_key, k->vault_id, &e),
                     DFT_OK);
    dft_vault_close(v);
    return st.size;
}

static void
test_rollback__new_vault_seals_the_empty_tree(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sealed_size(f), 0);
    add(f, 3);
    assert_int_equal(sealed_size(f), 3);
}

static void
test_rollback__old_database_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    add(f, 2);
    sh("cp -a '%s' '%s/old'", f->vault, f->dir);
    add(f, 2);
    sh("cp '%s/old/vault.db' '%s/vault.db'", f->dir, f->vault);
    sh("rm -f '%s/vault.db-wal' '%s/vault.db-shm'", f->vault, f->vault);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "vault database is older than its header: rolled back or "
                                  "replaced"));
    /* still refused, and the header was not lowered */
    dft_error_clear(&e);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
}

static void
test_rollback__other_vault_database_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    char other[128];
    add(f, 1);
    snprintf(other, sizeof other, "%s/w", f->dir);
    assert_int_equal(dft_vault_create(other, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e), DFT_OK);
    sh("cp '%s/vault.db' '%s/vault.db'", other, f->vault);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
}

static void
test_rollback__database_ahead_of_header_opens(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    add(f, 2);
    /* What a crash between COMMIT and the header write leaves: the old header, the new db. */
    sh("cp '%s/header' '%s/header.old'", f->vault, f->dir);
    add(f, 3);
    sh("cp '%s/header.old' '%s/header'", f->dir, f->vault);
    assert_int_equal(try_open(f, &e), DFT_OK);
    assert_int_equal(sealed_size(f), 5); /* caught up at open */
    add(f, 1);
    assert_int_equal(sealed_size(f), 6);
}

static void
test_rollback__stripped_state_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    struct dft_header h;
    add(f, 2);
    /* a slotted header has no "no state": a stripped cell is random bytes */
    read_open_header(f, &h);
    randombytes_buf(h.state, h.state_len);
    assert_int_equal(header_write(&h, f->file, &e), DFT_OK);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "sealed log state"));
}

static void
test_rollback__tampered_state_is_refused(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    struct dft_header h;
    add(f, 1);
    read_open_header(f, &h);
    h.state[40] ^= 4; /* the checksum is recomputed by the write: only the AEAD can tell */
    assert_int_equal(header_write(&h, f->file, &e), DFT_OK);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "sealed log state"));
}

static void
test_rollback__vault_without_state_is_upgraded(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    struct dft_header h;
    struct dft_vault *v = NULL;
    add(f, 2);
    /* Make it look like a vault from before sealed states: no state, no mark. */
    assert_int_equal(dft_vault_open(&v, f->vault, PASS, strlen(PASS), &e), DFT_OK);
    assert_int_equal(store_exec(vault_db(v), "DELETE FROM tlog_meta", &e), DFT_OK);
    dft_vault_close(v);
    /* what converting a version-1 header without a state leaves: the empty tree, sealed */
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    snprintf(f->file, sizeof f->file, "%s/header", f->vault);
    assert_int_equal(header_read(&h, f->file, &e), DFT_OK);
    assert_int_equal(header_unlock(&h, k, PASS, strlen(PASS), &e), DFT_OK);
    struct dft_tlog_state empty = {.size = 0};
    tlog_hash_empty(empty.root);
    tlog_state_seal(h.state, &empty, k->state_key, k->vault_id);
    keys_free(k);
    assert_int_equal(header_write(&h, f->file, &e), DFT_OK);
    assert_int_equal(try_open(f, &e), DFT_OK);
    assert_int_equal(sealed_size(f), 2);
    /* now marked: stripping the state is refused */
    read_open_header(f, &h);
    randombytes_buf(h.state, h.state_len);
    assert_int_equal(header_write(&h, f->file, &e), DFT_OK);
    assert_int_equal(try_open(f, &e), DFT_ERR_INTEGRITY);
}

static void
test_rollback__rekey_keeps_the_state(void **state)
{
    struct fixture *f = *state;
    struct dft_error e = {0};
    struct dft_vault *v = NULL;
    add(f, 2);
    assert_int_equal(dft_vault_open(&v, f->vault, PASS, strlen(PASS), &e), DFT_OK);
    assert_int_equal(dft_vault_rekey(v, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e), DFT_OK);
    dft_vault_close(v);
    assert_int_equal(sealed_size(f), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state__seal_open_round_trip),
        cmocka_unit_test(test_state__open_rejects_any_change),
        cmocka_unit_test(test_state__check_against_tree),
        cmocka_unit_test_setup_teardown(test_rollback__new_vault_seals_the_empty_tree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback__old_database_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback__other_vault_database_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback__database_ahead_of_header_opens, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback__stripped_state_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback__tampered_state_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback__vault_without_state_is_upgraded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback__rekey_keeps_the_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
