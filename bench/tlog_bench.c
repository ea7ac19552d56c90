/*
 * tlog_bench.c - transparency log figures: append throughput into the node table (1M leaves),
 * inclusion and consistency proof generation at 1M leaves, verification, root and full check;
 * beside a peer: recomputing a root from all leaf hashes in memory (what storing the complete
 * subtrees saves on every proof).
 *
 * Uses a plain temporary SQLite database (WAL, synchronous=FULL as the vault); the vault's
 * encrypting VFS adds its per-page AES-GCM cost on top. Proof generation goes through one
 * reader, whose cache of upper-level nodes warms up over the first proofs; CPU time is printed
 * beside wall time. Never run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "bench.h"
#include "log/tlog.h"

static void
die(const char *what, const struct dft_error *e)
{
    fprintf(stderr, "tlog_bench: %s: %s\n", what, e != NULL ? e->msg : "");
    exit(1);
}

static uint64_t
rnd(uint64_t bound)
{
    return ((uint64_t)randombytes_random() << 32 | randombytes_random()) % bound;
}

static void
peer_root(unsigned char out[32], unsigned char (*level)[32], uint64_t n)
{
    /* In place, level by level; an odd node moves up unchanged (RFC 6962 for the right edge). */
    while (n > 1) {
        uint64_t m = 0;
        for (uint64_t i = 0; i + 1 < n; i += 2) {
            tlog_hash_node(level[m++], level[i], level[i + 1]);
        }
        if (n % 2 == 1) {
            memcpy(level[m++], level[n - 1], 32);
        }
        n = m;
    }
    memcpy(out, level[0], 32);
}

int
main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const int reps = 20000;
    struct dft_error e = {0};
    if (sodium_init() < 0 || n < 2) {
        return 1;
    }
    char path[] = "/tmp/tlog_bench_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return 1;
    }
    close(fd);
    unlink(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK ||
        tlog_setup(db, &e) != DFT_OK) {
        die("open", &e);
    }
    unsigned char(*leaves)[32] = malloc(n * 32);
    if (leaves == NULL) {
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        crypto_leaf_hash(leaves[i], &i, sizeof i);
    }

    /* Append: one transaction with prepared statements (batch import, rebuild). */
    double t0 = bench_now();
    struct dft_tlog_writer *w = NULL;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        tlog_writer_open(db, &w, &e) != DFT_OK) {
        die("begin", &e);
    }
    uint64_t single = n / 10;
    for (uint64_t i = 0; i < n - single; i++) {
        if (tlog_writer_append(w, i, leaves[i], &e) != DFT_OK) {
            die("append", &e);
        }
    }
    tlog_writer_close(w);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        die("commit", NULL);
    }
    double t_bulk = bench_now() - t0;
    /* The vault's hook: tlog_append per envelope (statements prepared each call). */
    t0 = bench_now();
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        die("begin", NULL);
    }
    for (uint64_t i = n - single; i < n; i++) {
        if (tlog_append(db, i, leaves[i], &e) != DFT_OK) {
            die("append", &e);
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        die("commit", NULL);
    }
    double t_hook = bench_now() - t0;
    printf("tlog: append %llu leaves (writer, one transaction): %.2f s, %.0f leaves/s\n",
           (unsigned long long)(n - single), t_bulk, (double)(n - single) / t_bulk);
    printf("tlog: append %llu leaves (tlog_append hook, one transaction): %.2f s, %.0f "
           "leaves/s\n",
           (unsigned long long)single, t_hook, (double)single / t_hook);
    printf("tlog: (plain SQLite file, WAL, synchronous=FULL, exclusive lock, default 2 MB cache; "
           "the vault's encrypting VFS adds its "
           "per-page AES-256-GCM cost)\n");

    unsigned char root[32];
    t0 = bench_now();
    for (int r = 0; r < 1000; r++) {
        if (tlog_root(db, n - (uint64_t)r, root, &e) != DFT_OK) {
            die("root", &e);
        }
    }
    printf("tlog: root at ~%llu leaves from stored nodes: %.1f us\n", (unsigned long long)n,
           (bench_now() - t0) / 1000 * 1e6);
    if (tlog_root(db, n, root, &e) != DFT_OK) {
        die("root", &e);
    }

    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t plen = 0;
    struct dft_tlog_reader *rd = NULL;
    if (tlog_reader_open(db, &rd, &e) != DFT_OK) {
        die("reader", &e);
    }
    uint64_t *idx = malloc(sizeof *idx * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        idx[r] = rnd(n);
    }
    t0 = bench_now();
    double c0 = bench_cpu();
    for (int r = 0; r < reps; r++) {
        if (tlog_reader_prove_inclusion(rd, idx[r], n, proof, &plen, &e) != DFT_OK) {
            die("inclusion", &e);
        }
    }
    double t_inc = (bench_now() - t0) / reps * 1e6;
    double c_inc = (bench_cpu() - c0) / reps * 1e6;
    /* Verification of one proof, repeated. */
    uint64_t vi = idx[0];
    if (tlog_prove_inclusion(db, vi, n, proof, &plen, &e) != DFT_OK) {
        die("inclusion", &e);
    }
    t0 = bench_now();
    for (int r = 0; r < reps; r++) {
        if (tlog_verify_inclusion(vi, n, leaves[vi], (const unsigned char(*)[32])proof, plen, root,
                                  &e) != DFT_OK) {
            die("verify inclusion", &e);
        }
    }
    double t_vinc = (bench_now() - t0) / reps * 1e6;
    printf("tlog: inclusion proof at %llu leaves (reader): generate %.1f us (goal <= 50; %.1f us "
           "CPU), verify %.1f us (%zu hashes)\n",
           (unsigned long long)n, t_inc, c_inc, t_vinc, plen);

    for (int r = 0; r < reps; r++) {
        idx[r] = 1 + rnd(n - 1);
    }
    t0 = bench_now();
    c0 = bench_cpu();
    for (int r = 0; r < reps; r++) {
        if (tlog_reader_prove_consistency(rd, idx[r], n, proof, &plen, &e) != DFT_OK) {
            die("consistency", &e);
        }
    }
    double t_con = (bench_now() - t0) / reps * 1e6;
    double c_con = (bench_cpu() - c0) / reps * 1e6;
    uint64_t old = idx[0];
    unsigned char old_root[32];
    if (tlog_root(db, old, old_root, &e) != DFT_OK ||
        tlog_prove_consistency(db, old, n, proof, &plen, &e) != DFT_OK) {
        die("consistency", &e);
    }
    t0 = bench_now();
    for (int r = 0; r < reps; r++) {
        if (tlog_verify_consistency(old, n, old_root, root, (const unsigned char(*)[32])proof, plen,
                                    &e) != DFT_OK) {
            die("verify consistency", &e);
        }
    }
    double t_vcon = (bench_now() - t0) / reps * 1e6;
    printf("tlog: consistency proof to %llu leaves (reader): generate %.1f us (goal <= 50; %.1f "
           "us CPU), verify %.1f us (%zu hashes)\n",
           (unsigned long long)n, t_con, c_con, t_vcon, plen);

    /* One-shot calls (statements prepared per call), as the CLI makes them. */
    t0 = bench_now();
    for (int r = 0; r < reps / 10; r++) {
        if (tlog_prove_inclusion(db, idx[r] - 1, n, proof, &plen, &e) != DFT_OK) {
            die("inclusion", &e);
        }
    }
    printf("tlog: inclusion proof at %llu leaves, one-shot tlog_prove_inclusion: %.1f us\n",
           (unsigned long long)n, (bench_now() - t0) / (reps / 10) * 1e6);
    tlog_reader_close(rd);

    /* Full check, as `defter verify` does (leaf hashes supplied by the caller). */
    t0 = bench_now();
    struct dft_tlog_check *c = NULL;
    if (tlog_check_begin(db, &c, &e) != DFT_OK) {
        die("check", &e);
    }
    for (uint64_t i = 0; i < n; i++) {
        if (tlog_check_add(c, leaves[i], &e) != DFT_OK) {
            die("check", &e);
        }
    }
    unsigned char croot[32];
    if (tlog_check_finish(c, NULL, croot, &e) != DFT_OK || memcmp(croot, root, 32) != 0) {
        die("check", &e);
    }
    printf("tlog: full tree check of %llu leaves against stored nodes: %.2f s\n",
           (unsigned long long)n, bench_now() - t0);

    /* Peer: no stored nodes, recompute the root from every leaf hash in memory. */
    t0 = bench_now();
    unsigned char peer[32];
    peer_root(peer, leaves, n);
    double t_peer = bench_now() - t0;
    if (memcmp(peer, root, 32) != 0) {
        die("peer root differs", NULL);
    }
    printf("tlog: peer (recompute root from %llu leaf hashes in memory, no node store): %.1f ms "
           "per root or proof\n",
           (unsigned long long)n, t_peer * 1e3);
    sqlite3_int64 pages = 0, page_size = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT page_count * page_size FROM pragma_page_count, "
                           "pragma_page_size",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        pages = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    (void)page_size;
    printf("tlog: node table size at %llu leaves: %.1f MB\n", (unsigned long long)n,
           (double)pages / 1e6);
    free(idx);
    free(leaves);
    sqlite3_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return 0;
}
