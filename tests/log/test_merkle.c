/*
 * test_merkle.c - RFC 6962 hashing, the node store, inclusion and consistency proofs against the
 * published test vectors (transparency-dev/merkle testonly and proof/verify_test.go, the same
 * 8-leaf tree as certificate-transparency-go) and against a naive recursive reference of RFC
 * 6962 section 2.1; proofs mutated byte by byte; the full-tree check against tampering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "defter/crypto.h"
#include "log/tlog.h"

/* ---- the published vectors ---- */

static const char *const leaf_inputs_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const level0[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const level1[4] = {
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
static const char *const level2[2] = {
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};
static const char *const roots_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vec {
    uint64_t a, b; /* inclusion: index, size; consistency: old, new */
    size_t n;
    const char *hashes[3];
};

/* verify_test.go lists leaves 1-based; these are 0-based indices. */
static const struct vec inclusion_vectors[] = {
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, 0, {NULL}},
};

static const struct vec consistency_vectors[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static void
hx(unsigned char out[32], const char *hex)
{
    assert_int_equal(dft_hex_decode(out, 32, hex), DFT_OK);
}

static sqlite3 *
open_db(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(tlog_setup(db, NULL), DFT_OK);
    assert_int_equal(tlog_setup(db, NULL), DFT_OK); /* idempotent */
    return db;
}

static void
leaf_of_vector(unsigned char out[32], size_t i)
{
    unsigned char in[16];
    size_t n = strlen(leaf_inputs_hex[i]) / 2;
    if (n > 0) {
        assert_int_equal(dft_hex_decode(in, n, leaf_inputs_hex[i]), DFT_OK);
    }
    crypto_leaf_hash(out, in, n);
}

static sqlite3 *
vector_db(void)
{
    sqlite3 *db = open_db();
    for (size_t i = 0; i < 8; i++) {
        unsigned char h[32];
        leaf_of_vector(h, i);
        assert_int_equal(tlog_append(db, i, h, NULL), DFT_OK);
    }
    return db;
}

/* ---- naive reference: RFC 6962 section 2.1, recursively over an array of leaf hashes ---- */

static uint64_t
split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

static void
ref_mth(unsigned char out[32], const unsigned char (*l)[32], uint64_t n)
{
    if (n == 0) {
        tlog_hash_empty(out);
    } else if (n == 1) {
        memcpy(out, l[0], 32);
    } else {
        uint64_t k = split(n);
        unsigned char a[32], b[32];
        ref_mth(a, l, k);
        ref_mth(b, l + k, n - k);
        tlog_hash_node(out, a, b);
    }
}

static void
ref_path(unsigned char (*out)[32], size_t *len, uint64_t m, const unsigned char (*l)[32],
         uint64_t n)
{
    if (n <= 1) {
        return;
    }
    uint64_t k = split(n);
    if (m < k) {
        ref_path(out, len, m, l, k);
        ref_mth(out[(*len)++], l + k, n - k);
    } else {
        ref_path(out, len, m - k, l + k, n - k);
        ref_mth(out[(*len)++], l, k);
    }
}

static void
ref_subproof(unsigned char (*out)[32], size_t *len, uint64_t m, const unsigned char (*l)[32],
             uint64_t n, int b)
{
    if (m == n) {
        if (!b) {
            ref_mth(out[(*len)++], l, m);
        }
        return;
    }
    uint64_t k = split(n);
    if (m <= k) {
        ref_subproof(out, len, m, l, k, b);
        ref_mth(out[(*len)++], l + k, n - k);
    } else {
        ref_subproof(out, len, m - k, l + k, n - k, 0);
        ref_mth(out[(*len)++], l, k);
    }
}

/* ---- tests ---- */

static void
test_hash__leaf_and_node_vectors(void **state)
{
    (void)state;
    unsigned char h[32], want[32], l[32], r[32];
    for (size_t i = 0; i < 8; i++) {
        leaf_of_vector(h, i);
        hx(want, level0[i]);
        assert_memory_equal(h, want, 32);
    }
    hx(l, level0[0]);
    hx(r, level0[1]);
    tlog_hash_node(h, l, r);
    hx(want, level1[0]);
    assert_memory_equal(h, want, 32);
    tlog_hash_empty(h);
    hx(want, roots_hex[0]);
    assert_memory_equal(h, want, 32);
}

static void
test_store__roots_and_nodes_match_vectors(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    unsigned char h[32], want[32];
    uint64_t size = 99;
    assert_int_equal(tlog_size(db, &size, NULL), DFT_OK);
    assert_int_equal(size, 0);
    assert_int_equal(tlog_root(db, 0, h, NULL), DFT_OK);
    hx(want, roots_hex[0]);
    assert_memory_equal(h, want, 32);
    for (size_t i = 0; i < 8; i++) {
        leaf_of_vector(h, i);
        assert_int_equal(tlog_append(db, i, h, NULL), DFT_OK);
        /* Every prefix root, after each append. */
        for (size_t s = 0; s <= i + 1; s++) {
            assert_int_equal(tlog_root(db, s, h, NULL), DFT_OK);
            hx(want, roots_hex[s]);
            assert_memory_equal(h, want, 32);
        }
    }
    assert_int_equal(tlog_size(db, &size, NULL), DFT_OK);
    assert_int_equal(size, 8);
    /* The stored complete subtrees are exactly the published node hashes. */
    const char *const *levels[4] = {level0, level1, level2, roots_hex + 8};
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT id, hash FROM tlog_nodes ORDER BY id", -1, &st, NULL),
        SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        /* id = idx * 2^(level + 1) + 2^level - 1: the node's in-order position */
        int id = sqlite3_column_int(st, 0);
        assert_int_equal(id, rows); /* 15 nodes of 8 leaves: ids 0..14, none missing */
        int level = __builtin_ctz((unsigned)id + 1);
        int idx = (id + 1) >> (level + 1);
        assert_true(level >= 0 && level < 4 && idx >= 0 && idx < (8 >> level));
        hx(want, levels[level][idx]);
        assert_int_equal(sqlite3_column_bytes(st, 1), 32);
        assert_memory_equal(sqlite3_column_blob(st, 1), want, 32);
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 15);
    assert_int_equal(tlog_leaf(db, 7, h, NULL), DFT_OK);
    hx(want, level0[7]);
    assert_memory_equal(h, want, 32);
    assert_int_equal(tlog_leaf(db, 8, h, NULL), DFT_ERR_NOT_FOUND);
    sqlite3_close(db);
}

static void
test_store__append_out_of_order_changes_nothing(void **state)
{
    (void)state;
    sqlite3 *db = vector_db();
    unsigned char h[32] = {1};
    struct dft_error e = {0};
    assert_int_equal(tlog_append(db, 9, h, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "size 8"));
    assert_int_equal(tlog_append(db, 7, h, NULL), DFT_ERR_INTEGRITY);
    uint64_t size = 0;
    assert_int_equal(tlog_size(db, &size, NULL), DFT_OK);
    assert_int_equal(size, 8);
    unsigned char root[32], want[32];
    assert_int_equal(tlog_root(db, 8, root, NULL), DFT_OK);
    hx(want, roots_hex[8]);
    assert_memory_equal(root, want, 32);
    sqlite3_close(db);
}

/* Every single-byte change of a good proof, leaf or root must fail with DFT_ERR_INTEGRITY. */
static void
mutate_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[32],
                 unsigned char (*proof)[32], size_t n, const unsigned char root[32])
{
    unsigned char l[32], r[32];
    memcpy(l, leaf, 32);
    memcpy(r, root, 32);
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < 32; b++) {
            proof[i][b] ^= 0x01;
            assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n, r, NULL),
                             DFT_ERR_INTEGRITY);
            proof[i][b] ^= 0x81;
            assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n, r, NULL),
                             DFT_ERR_INTEGRITY);
            proof[i][b] ^= 0x80;
        }
    }
    for (size_t b = 0; b < 32; b++) {
        l[b] ^= 0x10;
        assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n, r, NULL),
                         DFT_ERR_INTEGRITY);
        l[b] ^= 0x10;
        r[b] ^= 0x10;
        assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n, r, NULL),
                         DFT_ERR_INTEGRITY);
        r[b] ^= 0x10;
    }
    /* Wrong index, size, length. */
    if (index > 0) {
        assert_int_equal(tlog_verify_inclusion(index - 1, size, l, proof, n, r, NULL),
                         DFT_ERR_INTEGRITY);
    }
    if (index + 1 < size) {
        assert_int_equal(tlog_verify_inclusion(index + 1, size, l, proof, n, r, NULL),
                         DFT_ERR_INTEGRITY);
    }
    assert_int_equal(tlog_verify_inclusion(index, size * 2, l, proof, n, r, NULL),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n + 1, r, NULL),
                     DFT_ERR_INTEGRITY);
    if (n > 0) {
        assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n - 1, r, NULL),
                         DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_inclusion(index, size, l, proof + 1, n - 1, r, NULL),
                         DFT_ERR_INTEGRITY);
    }
    assert_int_equal(tlog_verify_inclusion(size, size, l, proof, n, r, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_inclusion(index, size, l, proof, n, r, NULL), DFT_OK);
}

static void
test_inclusion__vectors_generate_verify_and_resist_mutation(void **state)
{
    (void)state;
    sqlite3 *db = vector_db();
    for (size_t v = 0; v < sizeof inclusion_vectors / sizeof inclusion_vectors[0]; v++) {
        const struct vec *t = &inclusion_vectors[v];
        unsigned char proof[DFT_TLOG_PROOF_MAX][32];
        size_t n = 99;
        assert_int_equal(tlog_prove_inclusion(db, t->a, t->b, proof, &n, NULL), DFT_OK);
        assert_int_equal(n, t->n);
        assert_int_equal(tlog_inclusion_len(t->a, t->b), t->n);
        for (size_t i = 0; i < n; i++) {
            unsigned char want[32];
            hx(want, t->hashes[i]);
            assert_memory_equal(proof[i], want, 32);
        }
        unsigned char leaf[32], root[32];
        leaf_of_vector(leaf, t->a);
        hx(root, roots_hex[t->b]);
        assert_int_equal(tlog_verify_inclusion(t->a, t->b, leaf, proof, n, root, NULL), DFT_OK);
        mutate_inclusion(t->a, t->b, leaf, proof, n, root);
    }
    sqlite3_close(db);
}

static void
mutate_consistency(uint64_t m, uint64_t n, const unsigned char r1[32], const unsigned char r2[32],
                   unsigned char (*proof)[32], size_t len)
{
    unsigned char a[32], b[32];
    memcpy(a, r1, 32);
    memcpy(b, r2, 32);
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < 32; k++) {
            proof[i][k] ^= 0x01;
            assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len, NULL),
                             DFT_ERR_INTEGRITY);
            proof[i][k] ^= 0x01;
        }
    }
    for (size_t k = 0; k < 32; k++) {
        a[k] ^= 0x04;
        assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len, NULL), DFT_ERR_INTEGRITY);
        a[k] ^= 0x04;
        b[k] ^= 0x04;
        assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len, NULL), DFT_ERR_INTEGRITY);
        b[k] ^= 0x04;
    }
    if (m < n) {
        assert_int_equal(tlog_verify_consistency(m, n, b, a, proof, len, NULL), DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len - 1, NULL),
                         DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_consistency(m, n, a, b, proof + 1, len - 1, NULL),
                         DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, 0, NULL), DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_consistency(m + 1, n, a, b, proof, len, NULL),
                         DFT_ERR_INTEGRITY);
        assert_int_equal(tlog_verify_consistency(m, n * 2, a, b, proof, len, NULL),
                         DFT_ERR_INTEGRITY);
    }
    assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len + 1, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_consistency(0, n, a, b, proof, len, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_consistency(n + 1, n, a, b, proof, len, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_consistency(m, n, a, b, proof, len, NULL), DFT_OK);
}

static void
test_consistency__vectors_generate_verify_and_resist_mutation(void **state)
{
    (void)state;
    sqlite3 *db = vector_db();
    for (size_t v = 0; v < sizeof consistency_vectors / sizeof consistency_vectors[0]; v++) {
        const struct vec *t = &consistency_vectors[v];
        unsigned char proof[DFT_TLOG_PROOF_MAX + 1][32];
        size_t n = 99;
        assert_int_equal(tlog_prove_consistency(db, t->a, t->b, proof, &n, NULL), DFT_OK);
        assert_int_equal(n, t->n);
        for (size_t i = 0; i < n; i++) {
            unsigned char want[32];
            hx(want, t->hashes[i]);
            assert_memory_equal(proof[i], want, 32);
        }
        unsigned char r1[32], r2[32];
        hx(r1, roots_hex[t->a]);
        hx(r2, roots_hex[t->b]);
        memset(proof[n], 0xab, 32);
        mutate_consistency(t->a, t->b, r1, r2, proof, n);
    }
    sqlite3_close(db);
}

static void
test_proofs__match_naive_reference_for_all_small_trees(void **state)
{
    (void)state;
    enum { N = 70 };
    static unsigned char leaves[N][32];
    sqlite3 *db = open_db();
    for (uint64_t i = 0; i < N; i++) {
        unsigned char data[8];
        for (int k = 0; k < 8; k++) {
            data[k] = (unsigned char)(i >> (8 * k));
        }
        crypto_leaf_hash(leaves[i], data, sizeof data);
        assert_int_equal(tlog_append(db, i, leaves[i], NULL), DFT_OK);
    }
    unsigned char got[DFT_TLOG_PROOF_MAX][32], want[DFT_TLOG_PROOF_MAX][32];
    for (uint64_t n = 1; n <= N; n++) {
        unsigned char root[32], ref[32];
        assert_int_equal(tlog_root(db, n, root, NULL), DFT_OK);
        ref_mth(ref, (const unsigned char(*)[32])leaves, n);
        assert_memory_equal(root, ref, 32);
        for (uint64_t i = 0; i < n; i++) {
            size_t gl = 0, wl = 0;
            assert_int_equal(tlog_prove_inclusion(db, i, n, got, &gl, NULL), DFT_OK);
            ref_path(want, &wl, i, (const unsigned char(*)[32])leaves, n);
            assert_int_equal(gl, wl);
            assert_memory_equal(got, want, 32 * gl);
            assert_int_equal(tlog_verify_inclusion(i, n, leaves[i], (const unsigned char(*)[32])got,
                                                   gl, root, NULL),
                             DFT_OK);
        }
        for (uint64_t m = 1; m <= n; m++) {
            size_t gl = 0, wl = 0;
            unsigned char r1[32];
            assert_int_equal(tlog_prove_consistency(db, m, n, got, &gl, NULL), DFT_OK);
            if (m < n) {
                ref_subproof(want, &wl, m, (const unsigned char(*)[32])leaves, n, 1);
            }
            assert_int_equal(gl, wl);
            assert_memory_equal(got, want, 32 * gl);
            assert_int_equal(tlog_root(db, m, r1, NULL), DFT_OK);
            assert_int_equal(
                tlog_verify_consistency(m, n, r1, root, (const unsigned char(*)[32])got, gl, NULL),
                DFT_OK);
        }
    }
    sqlite3_close(db);
}

static void
test_proofs__bad_arguments_are_user_errors(void **state)
{
    (void)state;
    sqlite3 *db = vector_db();
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    unsigned char root[32];
    size_t n = 0;
    assert_int_equal(tlog_prove_inclusion(db, 8, 8, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_inclusion(db, 0, 0, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_inclusion(db, 0, 9, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_consistency(db, 0, 8, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_consistency(db, 5, 4, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_consistency(db, 5, 9, proof, &n, NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_prove_consistency(db, 8, 8, proof, &n, NULL), DFT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tlog_root(db, 9, root, NULL), DFT_ERR_INPUT);
    /* Verification of impossible claims. */
    unsigned char h[32] = {0};
    assert_int_equal(tlog_verify_inclusion(0, 0, h, proof, 0, h, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_inclusion(1, 1, h, proof, 0, h, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_inclusion(0, 1, h, proof, 0, h, NULL), DFT_OK);
    assert_int_equal(tlog_verify_inclusion(0, 1, h, proof, 1, h, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_consistency(0, 0, h, h, proof, 0, NULL), DFT_ERR_INTEGRITY);
    assert_int_equal(tlog_verify_consistency(3, 3, h, h, proof, 1, NULL), DFT_ERR_INTEGRITY);
    unsigned char g[32] = {1};
    assert_int_equal(tlog_verify_consistency(3, 3, h, g, proof, 0, NULL), DFT_ERR_INTEGRITY);
    sqlite3_close(db);
}

static void
test_hash__decode_rejects_wrong_lengths(void **state)
{
    (void)state;
    unsigned char h[32];
    char b64[64];
    unsigned char raw[33] = {0};
    dft_b64_encode(b64, raw, 32);
    assert_int_equal(tlog_hash_decode(h, b64, strlen(b64), NULL), DFT_OK);
    dft_b64_encode(b64, raw, 31);
    assert_int_equal(tlog_hash_decode(h, b64, strlen(b64), NULL), DFT_ERR_INPUT);
    dft_b64_encode(b64, raw, 33);
    assert_int_equal(tlog_hash_decode(h, b64, strlen(b64), NULL), DFT_ERR_INPUT);
    assert_int_equal(tlog_hash_decode(h, "not base64 at all, not base64 at all, not ba", 44, NULL),
                     DFT_ERR_INPUT);
    dft_b64_encode(b64, raw, 32);
    b64[42] = 'B'; /* unused bits set: non-canonical */
    assert_int_equal(tlog_hash_decode(h, b64, strlen(b64), NULL), DFT_ERR_INPUT);
}

/* Feed the leaves of a 37-leaf tree to the checker; returns its result. */
static enum dft_err
run_check(sqlite3 *db, const unsigned char (*leaves)[32], uint64_t n, unsigned char root[32],
          struct dft_error *e)
{
    struct dft_tlog_check *c = NULL;
    enum dft_err rc = tlog_check_begin(db, &c, e);
    assert_int_equal(rc, DFT_OK);
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = tlog_check_add(c, leaves[i], e)) != DFT_OK) {
            tlog_check_free(c);
            return rc;
        }
    }
    uint64_t size = 0;
    rc = tlog_check_finish(c, &size, root, e);
    if (rc == DFT_OK) {
        assert_int_equal(size, n);
    }
    return rc;
}

static void
test_check__finds_every_kind_of_tampering(void **state)
{
    (void)state;
    enum { N = 37 };
    unsigned char leaves[N][32];
    sqlite3 *db = open_db();
    unsigned char root[32], want[32];
    assert_int_equal(run_check(db, NULL, 0, root, NULL), DFT_OK);
    tlog_hash_empty(want);
    assert_memory_equal(root, want, 32);
    for (uint64_t i = 0; i < N; i++) {
        crypto_leaf_hash(leaves[i], &i, sizeof i);
        assert_int_equal(tlog_append(db, i, leaves[i], NULL), DFT_OK);
    }
    const unsigned char(*L)[32] = (const unsigned char(*)[32])leaves;
    assert_int_equal(run_check(db, L, N, root, NULL), DFT_OK);
    assert_int_equal(tlog_root(db, N, want, NULL), DFT_OK);
    assert_memory_equal(root, want, 32);

    /* Fewer or more leaves than stored. */
    assert_int_equal(run_check(db, L, N - 1, root, NULL), DFT_ERR_INTEGRITY);
    /* A wrong leaf. */
    unsigned char bad[N][32];
    memcpy(bad, leaves, sizeof bad);
    bad[20][5] ^= 1;
    struct dft_error e = {0};
    assert_int_equal(run_check(db, (const unsigned char(*)[32])bad, N, root, &e),
                     DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "0/20"));

    static const char *const tamper[] = {
        "UPDATE tlog_nodes SET hash = zeroblob(32) WHERE id = 27" /* 2/3 */,
        "UPDATE tlog_nodes SET hash = zeroblob(31) WHERE id = 72" /* 0/36 */,
        "UPDATE tlog_nodes SET hash = 'text' WHERE id = 31" /* 5/0 */,
        "DELETE FROM tlog_nodes WHERE id = 69" /* 1/17 */,
        "INSERT INTO tlog_nodes VALUES (73, zeroblob(32))" /* 1/18 */,
        "INSERT INTO tlog_nodes VALUES (511, zeroblob(32))" /* 9/0 */,
        "INSERT INTO tlog_nodes VALUES (-1, zeroblob(32))",
        "INSERT INTO tlog_nodes VALUES (-2, zeroblob(32))",
    };
    for (size_t t = 0; t < sizeof tamper / sizeof tamper[0]; t++) {
        assert_int_equal(sqlite3_exec(db, "SAVEPOINT t", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, tamper[t], NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_changes(db), 1);
        dft_error_clear(&e);
        assert_int_equal(run_check(db, L, N, root, &e), DFT_ERR_INTEGRITY);
        assert_int_equal(sqlite3_exec(db, "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(run_check(db, L, N, root, NULL), DFT_OK);
    /* A tampered node also breaks proofs: generation reports a short hash. */
    assert_int_equal(
        sqlite3_exec(db, "UPDATE tlog_nodes SET hash = x'00' WHERE id = 31", NULL, NULL, NULL),
        SQLITE_OK);
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    assert_int_equal(tlog_prove_inclusion(db, 36, N, proof, &n, NULL), DFT_ERR_INTEGRITY);
    sqlite3_close(db);
}

/* A node table in the previous (level, idx) layout is moved into in-order ids at setup. */
static void
test_store__old_layout_is_migrated(void **state)
{
    (void)state;
    enum { M = 45 };
    unsigned char leaves[M][32], root[32], want[32];
    sqlite3 *db = open_db();
    for (uint64_t i = 0; i < M; i++) {
        crypto_leaf_hash(leaves[i], &i, sizeof i);
        assert_int_equal(tlog_append(db, i, leaves[i], NULL), DFT_OK);
    }
    assert_int_equal(tlog_root(db, M, want, NULL), DFT_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE v1(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
                                  " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
                                  "WITH RECURSIVE l(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM l"
                                  " WHERE n < 8) INSERT INTO v1 SELECT n, (id + 1) >> (n + 1), hash"
                                  " FROM tlog_nodes, l WHERE ((id + 1) >> n) & 1 = 1"
                                  " AND ((id + 1) & ((1 << n) - 1)) = 0;"
                                  "DROP TABLE tlog_nodes; ALTER TABLE v1 RENAME TO tlog_nodes",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct dft_error e = {0};
    assert_int_equal(tlog_setup(db, &e), DFT_OK);
    assert_int_equal(tlog_root(db, M, root, NULL), DFT_OK);
    assert_memory_equal(root, want, 32);
    assert_int_equal(run_check(db, (const unsigned char(*)[32])leaves, M, root, NULL), DFT_OK);
    assert_int_equal(tlog_setup(db, &e), DFT_OK); /* nothing left to migrate */
    sqlite3_close(db);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash__leaf_and_node_vectors),
        cmocka_unit_test(test_hash__decode_rejects_wrong_lengths),
        cmocka_unit_test(test_store__roots_and_nodes_match_vectors),
        cmocka_unit_test(test_store__append_out_of_order_changes_nothing),
        cmocka_unit_test(test_store__old_layout_is_migrated),
        cmocka_unit_test(test_inclusion__vectors_generate_verify_and_resist_mutation),
        cmocka_unit_test(test_consistency__vectors_generate_verify_and_resist_mutation),
        cmocka_unit_test(test_proofs__match_naive_reference_for_all_small_trees),
        cmocka_unit_test(test_proofs__bad_arguments_are_user_errors),
        cmocka_unit_test(test_check__finds_every_kind_of_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
