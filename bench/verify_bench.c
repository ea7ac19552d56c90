/*
 * verify_bench.c - full `verify` of a vault of N person records (default 1,000,000; goal
 * <= 20 s on 2 cores) beside plain SQLite's `PRAGMA integrity_check` of the same JSON rows.
 *
 * Usage: verify_bench [N [BATCH [DIR]]] (BATCH records per envelope, default 100000). The vault is
 * filled first (timed too, as records/s), then closed, reopened (one unlock) and verified:
 * every page authenticated, every envelope's hash, signature and disclosure root, the view and
 * the search index rebuilt in memory and compared. Figures, not pass/fail. With DIR, the vault
 * and the plain file are kept there and reused by the next run with the same DIR (a 1M vault
 * takes minutes to fill): the fill is then not timed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "bench.h"
#include "people.h"
#include "defter/vault.h"

/* CPU seconds of the calling thread (verify's own thread: the rest ran on its helpers). */
static double
thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same rows in a plain SQLite file; returns the seconds of its integrity_check. */
static double
plain_check(const char *dir, size_t n, size_t batch, int reuse)
{
    char path[512];
    snprintf(path, sizeof path, "%s/plain.db", dir);
    sqlite3 *db = NULL;
    if (reuse && access(path, F_OK) == 0) {
        n = 0;
    }
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE r(id INTEGER PRIMARY KEY, type TEXT, json TEXT)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO r(type, json) VALUES('person', ?)", -1, &st, NULL);
    for (size_t from = 0; from < n; from += batch) {
        json_t *people = bench_people(from, from + batch <= n ? batch : n - from);
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        size_t i;
        json_t *p;
        json_array_foreach(people, i, p)
        {
            char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
            sqlite3_bind_text(st, 1, s, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
            sqlite3_reset(st);
            free(s);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        json_decref(people);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    sqlite3_open(path, &db);
    double t0 = bench_now();
    sqlite3_exec(db, "PRAGMA integrity_check", NULL, NULL, NULL);
    double t = bench_now() - t0;
    sqlite3_close(db);
    return t;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
    size_t batch = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 100000;
    if (n == 0 || batch == 0) {
        return 2;
    }
    char tmp[] = "/tmp/defter-verify-bench.XXXXXX";
    const char *dir = argc > 3 ? argv[3] : mkdtemp(tmp);
    int keep = argc > 3;
    if (dir == NULL) {
        return 1;
    }
    char vault[600];
    snprintf(vault, sizeof vault, "%s/vault", dir);
    int reuse = keep && access(vault, F_OK) == 0;
    struct dft_error err = {0};
    const char pass[] = "bench passphrase";
    struct dft_vault *v = NULL;
    if (!reuse &&
        (dft_vault_create(vault, pass, sizeof pass - 1, DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
         dft_vault_open(&v, vault, pass, sizeof pass - 1, &err) != DFT_OK)) {
        fprintf(stderr, "vault: %s\n", err.msg);
        return 1;
    }
    double t_add = 0;
    for (size_t from = 0; !reuse && from < n; from += batch) {
        json_t *people = bench_people(from, from + batch <= n ? batch : n - from);
        json_t *ids = NULL;
        double t0 = bench_now();
        if (dft_vault_add(v, people, &ids, &err) != DFT_OK) {
            fprintf(stderr, "add: %s\n", err.msg);
            return 1;
        }
        t_add += bench_now() - t0;
        json_decref(ids);
        json_decref(people);
    }
    if (v != NULL) {
        dft_vault_close(v);
        v = NULL;
    }
    double t0 = bench_now();
    if (dft_vault_open(&v, vault, pass, sizeof pass - 1, &err) != DFT_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    double t_open = bench_now() - t0;
    json_t *report = NULL;
    double c0 = bench_cpu(), m0 = thread_cpu();
    t0 = bench_now();
    enum dft_err rc = dft_vault_verify(v, 0, &report, &err);
    double t_verify = bench_now() - t0;
    double c_verify = bench_cpu() - c0;
    double m_verify = thread_cpu() - m0;
    if (rc != DFT_OK) {
        fprintf(stderr, "verify: %s\n", err.msg);
        return 1;
    }
    json_decref(report);
    dft_vault_close(v);
    double t_plain = plain_check(dir, n, batch, keep);
    printf("verify: %zu person records in %zu envelopes\n", n, (n + batch - 1) / batch);
    if (reuse) {
        printf("  reused the vault in %s (not filled again)\n", dir);
    } else {
        printf("  filled at %.0f records/s (defter add, %zu per envelope)\n", (double)n / t_add,
               batch);
    }
    printf("  defter verify (pages, signatures, roots, view and index rebuilt): %8.3f s"
           " (cpu %.3f s; goal <= 20 s at 1M)\n",
           t_verify, c_verify);
    printf("  of that cpu, verify's own thread: %.3f s (the floor of the wall time), helpers: "
           "%.3f s\n",
           m_verify, c_verify - m_verify);
    printf("  plain SQLite PRAGMA integrity_check of the same rows:            %8.3f s\n", t_plain);
    printf("  ratio verify/integrity_check: %.1fx; unlock (not counted): %.3f s\n",
           t_verify / t_plain, t_open);
    if (keep) {
        return 0;
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
