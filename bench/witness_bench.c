/*
 * witness_bench.c - add-checkpoint/s of `defter witness serve` (the library's server, in this
 * process, on 127.0.0.1 with a port the system picks) for 1 log and for 100 logs, beside plain
 * SQLite doing the same durable read-check-update (WAL, synchronous=FULL, one IMMEDIATE
 * transaction per update) in a loop. Goal: the witness at >= 70 % of the peer.
 *
 * Every request is a real one: a checkpoint signed by its log, a consistency proof from the
 * previous size, verified, checked, stored and cosigned. Checkpoints and proofs are made
 * before the clock starts. One request per log is in flight at a time (libcurl multi): 1 log
 * is a sequential chain, 100 logs keep up to 100 requests in flight. Never run by the tests.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>

#include "crypto/hash.h"
#include "bench.h"
#include "log/tlog.h"
#include "log/witness_req.h"
#include "server/witness.h"

#define STEPS 300 /* requests per log for 1 log */

static void
die(const char *what, const struct dft_error *e)
{
    fprintf(stderr, "witness_bench: %s: %s\n", what, e != NULL ? e->msg : "");
    exit(1);
}

struct req {
    struct dft_buf body;
};

struct log {
    char origin[64];
    unsigned char sk[64];
    struct req *reqs; /* steps of them */
    size_t next;
    CURL *easy;
};

static sqlite3 *tree; /* one tree of leaves shared by every log (origins differ) */

static void
make_tree(size_t n)
{
    struct dft_error e = {0};
    if (sqlite3_open(":memory:", &tree) != SQLITE_OK || tlog_setup(tree, &e) != DFT_OK) {
        die("tree", &e);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char leaf[32];
        char data[32];
        snprintf(data, sizeof data, "entry %zu", i);
        crypto_leaf_hash(leaf, data, strlen(data));
        if (tlog_append(tree, i, leaf, &e) != DFT_OK) {
            die("append", &e);
        }
    }
}

/* The request taking log l from size old to size new. */
static void
make_req(struct log *l, struct req *r, uint64_t old, uint64_t new_size)
{
    struct dft_error e = {0};
    struct dft_checkpoint c;
    struct dft_buf note;
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t np = 0;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", l->origin);
    c.size = new_size;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&r->body, WITNESS_BODY_MAX, 0);
    if (tlog_root(tree, new_size, c.root, &e) != DFT_OK ||
        (old > 0 && tlog_prove_consistency(tree, old, new_size, proof, &np, &e) != DFT_OK) ||
        checkpoint_sign(&note, &c, l->sk, &e) != DFT_OK ||
        witness_req_format(&r->body, old, (const unsigned char(*)[32])proof, np,
                           (const char *)note.data, note.len, &e) != DFT_OK) {
        die("request", &e);
    }
    dft_buf_release(&note);
}

static size_t
discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static void
start(CURLM *m, struct log *l, const char *url)
{
    struct req *r = &l->reqs[l->next];
    curl_easy_setopt(l->easy, CURLOPT_URL, url);
    curl_easy_setopt(l->easy, CURLOPT_POSTFIELDS, r->body.data);
    curl_easy_setopt(l->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    curl_easy_setopt(l->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(l->easy, CURLOPT_PRIVATE, l);
    curl_multi_add_handle(m, l->easy);
}

/* Send every log's requests, one in flight per log; returns requests per second. */
static double
run_witness(const char *dir, size_t nlogs, size_t steps)
{
    struct dft_error e = {0};
    struct dft_witness_opts o;
    struct witness_server *s = NULL;
    char vkey[DFT_NOTE_VKEY_MAX], url[256];
    struct log *logs = calloc(nlogs, sizeof *logs);
    static int serial;
    serial++;
    dft_witness_opts_default(&o);
    o.rate_ip = 0;
    o.rate_origin = 0;
    for (size_t i = 0; i < nlogs; i++) {
        struct log *l = &logs[i];
        unsigned char pk[32];
        struct dft_note_verifier v;
        snprintf(l->origin, sizeof l->origin, "bench.test/log%zu-%zu-%d", nlogs, i, serial);
        crypto_sign_keypair(pk, l->sk);
        tlog_log_verifier(&v, pk);
        if (note_verifier_init(&v, l->origin, DFT_NOTE_ALG_ED25519, pk, &e) != DFT_OK) {
            die("verifier", &e);
        }
        note_verifier_format(&v, vkey);
        if (witness_trust(dir, l->origin, vkey, &e) != DFT_OK) {
            die("trust", &e);
        }
        l->reqs = calloc(steps, sizeof *l->reqs);
        for (size_t k = 0; k < steps; k++) {
            make_req(l, &l->reqs[k], k, k + 1);
        }
        l->easy = curl_easy_init();
    }
    if (witness_server_start(&s, dir, &o, &e) != DFT_OK) {
        die("server", &e);
    }
    snprintf(url, sizeof url, "%s/add-checkpoint", witness_server_url(s));
    CURLM *m = curl_multi_init();
    size_t done = 0, total = nlogs * steps;
    double t0 = bench_now();
    for (size_t i = 0; i < nlogs; i++) {
        start(m, &logs[i], url);
    }
    while (done < total) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            struct log *l = NULL;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&l);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200) {
                fprintf(stderr, "witness_bench: request failed: %ld\n", code);
                exit(1);
            }
            curl_multi_remove_handle(m, l->easy);
            done++;
            if (++l->next < steps) {
                start(m, l, url);
            }
        }
        if (done < total) {
            curl_multi_poll(m, NULL, 0, 100, NULL);
        }
    }
    double dt = bench_now() - t0;
    curl_multi_cleanup(m);
    witness_server_free(s);
    for (size_t i = 0; i < nlogs; i++) {
        for (size_t k = 0; k < steps; k++) {
            dft_buf_release(&logs[i].reqs[k].body);
        }
        free(logs[i].reqs);
        curl_easy_cleanup(logs[i].easy);
        sodium_memzero(logs[i].sk, sizeof logs[i].sk);
    }
    free(logs);
    return (double)total / dt;
}

/* The peer: the same durable read-check-update in plain SQLite, no HTTP, no crypto. */
static double
run_peer(const char *dir, size_t nlogs, size_t steps, int round)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    unsigned char root[32];
    snprintf(path, sizeof path, "%s/peer-%zu-%d.db", dir, nlogs, round);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE logs(origin TEXT PRIMARY KEY, size INTEGER, root BLOB,"
                     " note BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        die("peer db", NULL);
    }
    for (size_t i = 0; i < nlogs; i++) {
        char q[128];
        snprintf(q, sizeof q, "INSERT INTO logs VALUES ('bench.test/log%zu', 0, NULL, NULL)", i);
        sqlite3_exec(db, q, NULL, NULL, NULL);
    }
    sqlite3_prepare_v2(db, "SELECT size, root FROM logs WHERE origin = ?1", -1, &sel, NULL);
    sqlite3_prepare_v2(db, "UPDATE logs SET size = ?2, root = ?3, note = ?4 WHERE origin = ?1", -1,
                       &upd, NULL);
    char note[400];
    memset(note, 'n', sizeof note);
    randombytes_buf(root, sizeof root);
    double t0 = bench_now();
    for (size_t k = 0; k < steps; k++) {
        for (size_t i = 0; i < nlogs; i++) {
            char origin[64];
            snprintf(origin, sizeof origin, "bench.test/log%zu", i);
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
            sqlite3_bind_text(sel, 1, origin, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(sel) != SQLITE_ROW || (size_t)sqlite3_column_int64(sel, 0) != k) {
                die("peer check", NULL);
            }
            sqlite3_reset(sel);
            sqlite3_bind_text(upd, 1, origin, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(upd, 2, (sqlite3_int64)k + 1);
            sqlite3_bind_blob(upd, 3, root, 32, SQLITE_STATIC);
            sqlite3_bind_blob(upd, 4, note, sizeof note, SQLITE_STATIC);
            if (sqlite3_step(upd) != SQLITE_DONE) {
                die("peer update", NULL);
            }
            sqlite3_reset(upd);
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
    }
    double dt = bench_now() - t0;
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_close(db);
    return (double)(nlogs * steps) / dt;
}

int
main(void)
{
    char dir[] = "/tmp/defter-witness-bench.XXXXXX";
    char wdir[PATH_MAX], vkey[DFT_NOTE_VKEY_MAX], cmd[PATH_MAX + 16];
    struct dft_error e = {0};
    sigset_t set;
    if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
        die("setup", NULL);
    }
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(wdir, sizeof wdir, "%s/w", dir);
    if (witness_init(wdir, "bench.test/witness", vkey, &e) != DFT_OK) {
        die("init", &e);
    }
    make_tree(STEPS + 1);
    printf("add-checkpoint, durable (fsync per update), 127.0.0.1, release build, best of 3\n");
    printf("%-24s %12s %12s %8s\n", "", "witness/s", "sqlite/s", "ratio");
    static const size_t nlogs[2] = {1, 100};
    static const size_t steps[2] = {STEPS, 3};
    for (int i = 0; i < 2; i++) {
        /* best of 3, alternating, so both see the same disk weather */
        double w = 0, p = 0;
        for (int round = 0; round < 3; round++) {
            double a = run_witness(wdir, nlogs[i], steps[i]);
            double b = run_peer(dir, nlogs[i], steps[i], round);
            w = a > w ? a : w;
            p = b > p ? b : p;
        }
        char label[32];
        snprintf(label, sizeof label, "%zu log%s, %zu adds", nlogs[i], nlogs[i] > 1 ? "s" : "",
                 nlogs[i] * steps[i]);
        printf("%-24s %12.0f %12.0f %7.0f%%\n", label, w, p, 100 * w / p);
    }
    sqlite3_close(tree);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "witness_bench: cannot remove %s\n", dir);
    }
    return 0;
}
