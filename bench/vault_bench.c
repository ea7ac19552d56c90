/*
 * vault_bench.c - batch add of N person records (signed, sealed, stored, durable) against plain
 * SQLite inserting the same JSON unencrypted, side by side in one run.
 *
 * Usage: vault_bench [N] (default 100000). Prints records/s for both and the ratio. Never part
 * of the tests: figures, not pass/fail.
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

/* CPU seconds of the calling thread: the SQLite writer, which no other thread can relieve */
static double
thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
bench_plain(const char *dir, const json_t *people)
{
    char path[512];
    snprintf(path, sizeof path, "%s/plain.db", dir);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE r(id INTEGER PRIMARY KEY, type TEXT, json TEXT)",
                 NULL, NULL, NULL);
    double t0 = bench_now();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO r(type, json) VALUES('person', ?)", -1, &st, NULL);
    size_t i;
    json_t *p;
    json_array_foreach((json_t *)(uintptr_t)people, i, p)
    {
        char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        sqlite3_bind_text(st, 1, s, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
        free(s);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t = bench_now() - t0;
    sqlite3_close(db);
    return t;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
    char dir[] = "/tmp/defter-bench.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    char vault[600];
    snprintf(vault, sizeof vault, "%s/vault", dir);
    json_t *people = bench_people(0, n);
    struct dft_error err = {0};
    const char pass[] = "bench passphrase";
    if (dft_vault_create(vault, pass, sizeof pass - 1, DFT_KDF_INTERACTIVE, &err) != DFT_OK) {
        fprintf(stderr, "create: %s\n", err.msg);
        return 1;
    }
    struct dft_vault *v = NULL;
    if (dft_vault_open(&v, vault, pass, sizeof pass - 1, &err) != DFT_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    double c0 = bench_cpu();
    double t_plain = bench_plain(dir, people);
    double c_plain = bench_cpu() - c0;
    double t0 = bench_now();
    c0 = bench_cpu();
    double m0 = thread_cpu();
    json_t *ids = NULL;
    if (dft_vault_add(v, people, &ids, &err) != DFT_OK) {
        fprintf(stderr, "add: %s\n", err.msg);
        return 1;
    }
    double t_add = bench_now() - t0;
    double c_add = bench_cpu() - c0;
    double m_add = thread_cpu() - m0;
    dft_vault_close(v);
    printf("vault batch add: %zu person records in one envelope\n", n);
    printf("  defter add (sign, seal, view, index, fsync): %8.3f s  %9.0f records/s\n", t_add,
           (double)n / t_add);
    printf("  plain SQLite insert of the same JSON:        %8.3f s  %9.0f records/s\n", t_plain,
           (double)n / t_plain);
    printf("  cpu time: defter %.3f s (%.0f records/s), plain %.3f s\n", c_add, (double)n / c_add,
           c_plain);
    printf(
        "  defter's calling thread (the writer, the critical path with 2 free cores): %.3f s cpu "
        "(%.0f records/s)\n",
        m_add, (double)n / m_add);
    printf("  ratio defter/plain wall time: %.2fx (goal: >= 30000 records/s)\n", t_add / t_plain);
    json_decref(ids);
    json_decref(people);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
