/*
 * search_dev.c - development harness and bench for cross-script search, without the vault.
 *
 *   search_dev [--dir DIR] [--filler N] [--run RUN.tsv] [--seed S]
 *       index every spelling of the dev set (names.tsv, distractors.tsv) plus N filler persons
 *       (default 20000) in an in-memory SQLite database, run every query (type person, limit
 *       10), write RUN.tsv for score.py and print the scores and the time per query.
 *   search_dev            (no arguments, as bench/run.sh runs it) both of the above, with
 *       RUN.tsv in build/release and 1,000,000 persons
 *   search_dev --bench N [--queries Q] [--db PATH]
 *       index N synthetic persons in a database file, print the build rate, the database size
 *       beside a plain FTS5 trigram index of the same names, and query latency p50/p99 of Q
 *       queries (exact, lower-case ASCII, one typo, surname first) beside the trigram peer.
 * Never reads or writes anything but its own database files and RUN.tsv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "search/search.h"
#include "../tests/search/devset.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU milliseconds of the calling thread */
static double
thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
    if (n == 0) {
        return 0.0;
    }
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void
die(const char *what, const struct dft_error *err)
{
    fprintf(stderr, "search_dev: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void
put_person(sqlite3 *db, const char *id, const char *name)
{
    struct dft_error err;
    dft_error_clear(&err);
    json_t *f = json_pack("{s:s}", "name", name);
    if (search_put(db, id, "person", name, f, &err) != DFT_OK) {
        die("put", &err);
    }
    json_decref(f);
}

/* Skip filler that spells a dev-set person (same keys in any order): filler is unrelated. */
struct keyset {
    char keys[4][DFT_SEARCH_TOKEN_MAX];
    int n;
};

static void
keys_of(const char *s, struct keyset *k)
{
    struct dft_search_token t[8];
    int n = search_tokenize(s, strlen(s), t, 8);
    k->n = 0;
    for (int i = 0; i < n && k->n < 4; i++) {
        if (!(t[i].flags & DFT_SEARCH_TOK_PATRONYMIC)) {
            memcpy(k->keys[k->n++], t[i].key, DFT_SEARCH_TOKEN_MAX);
        }
    }
}

static int
same_keys(const struct keyset *a, const struct keyset *b)
{
    if (a->n < 2 || b->n < 2) {
        return 0;
    }
    int hit = 0;
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < b->n; j++) {
            if (strcmp(a->keys[i], b->keys[j]) == 0) {
                hit++;
                break;
            }
        }
    }
    return hit >= 2;
}

static int
dev_mode(const char *dir, int filler, const char *run_path, unsigned long long seed)
{
    static struct devset ds;
    if (dev_load(&ds, dir) != 0) {
        fprintf(stderr, "search_dev: cannot read the dev set in %s\n", dir);
        return 1;
    }
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || search_setup(db, &err) != DFT_OK) {
        die("setup", &err);
    }
    static struct keyset devkeys[DEV_MAX];
    for (int i = 0; i < ds.nnames; i++) {
        keys_of(ds.names[i].text, &devkeys[i]);
    }
    double t0 = now_ms();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    char id[32];
    for (int i = 0; i < ds.nnames; i++) {
        snprintf(id, sizeof id, "n%d", i);
        put_person(db, id, ds.names[i].text);
    }
    struct fill_rng r = {seed};
    int skipped = 0;
    for (int i = 0; i < filler; i++) {
        char name[256];
        fill_name(&r, name, sizeof name);
        struct keyset k;
        keys_of(name, &k);
        int clash = 0;
        for (int j = 0; j < ds.nnames && !clash; j++) {
            clash = same_keys(&k, &devkeys[j]);
        }
        if (clash) {
            skipped++;
            i--;
            continue;
        }
        snprintf(id, sizeof id, "f%d", i);
        put_person(db, id, name);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t1 = now_ms();
    printf("indexed %d dev spellings + %d filler (%d clashing filler skipped) in %.0f ms\n",
           ds.nnames, filler, skipped, t1 - t0);
    FILE *run = run_path ? fopen(run_path, "w") : NULL;
    static char titles[DEV_MAX][10][160];
    memset(titles, 0, sizeof titles);
    double *lat = calloc((size_t)ds.nqueries, sizeof *lat);
    for (int q = 0; q < ds.nqueries; q++) {
        json_t *res = NULL;
        double a = now_ms();
        if (search_query(db, ds.queries[q].text, "person", 10, &res, &err) != DFT_OK) {
            die("query", &err);
        }
        lat[q] = now_ms() - a;
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(res, "hits"), i, h)
        {
            const char *t = json_string_value(json_object_get(h, "title"));
            if (i < 10) {
                snprintf(titles[q][i], sizeof titles[q][i], "%s", t);
            }
            if (run) {
                fprintf(run, "%d\t%zu\t%s\n", q + 1, i + 1, t);
            }
            if (getenv("SEARCH_DEV_VERBOSE") && i < 10) {
                printf("  q%d %s [%s] #%zu %s %.3f %s\n", q + 1, ds.queries[q].text,
                       ds.queries[q].owner, i + 1, t, json_real_value(json_object_get(h, "score")),
                       json_string_value(json_object_get(h, "why")));
            }
        }
        json_decref(res);
    }
    if (run) {
        fclose(run);
    }
    struct dev_metrics m;
    dev_score(&ds, titles, &m);
    qsort(lat, (size_t)ds.nqueries, sizeof *lat, cmp_double);
    printf("filler %d: hit@1 %.3f recall@10 %.3f mrr %.3f variant_recall@10 %.3f R_prec %.3f "
           "distr@R %.3f\n",
           filler, m.hit1, m.recall, m.mrr, m.vrecall, m.rprec, m.distr);
    printf("query latency: p50 %.3f ms, p95 %.3f ms, max %.3f ms\n",
           pct(lat, (size_t)ds.nqueries, 0.5), pct(lat, (size_t)ds.nqueries, 0.95),
           lat[ds.nqueries - 1]);
    free(lat);
    sqlite3_close(db);
    return 0;
}

static long long
db_bytes(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long pages = 0, size = 0;
    sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) {
        pages = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) {
        size = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return pages * size;
}

/* A query as people type it: as stored, lower-case ASCII, one typo, or surname first. */
static void
perturb(struct fill_rng *r, const char *name, char *out, size_t cap)
{
    unsigned how = fill_next(r, 4);
    snprintf(out, cap, "%s", name);
    size_t n = strlen(out);
    if (how == 1) {
        char f[DFT_SEARCH_TOKEN_MAX];
        struct dft_search_token t[4];
        int k = search_tokenize(name, n, t, 4);
        out[0] = '\0';
        for (int i = 0; i < k; i++) {
            snprintf(f, sizeof f, "%s", t[i].folded);
            size_t o = strlen(out);
            snprintf(out + o, cap - o, "%s%s", i ? " " : "", f);
        }
    } else if (how == 2 && n > 4) {
        size_t p = 1 + fill_next(r, (unsigned)(n - 2));
        while (p < n && ((unsigned char)out[p] & 0xC0) == 0x80) {
            p++;
        }
        if (p < n && out[p] != ' ') {
            size_t cl = 1;
            while (p + cl < n && ((unsigned char)out[p + cl] & 0xC0) == 0x80) {
                cl++;
            }
            memmove(out + p, out + p + cl, n - p - cl + 1); /* drop one letter */
        }
    } else if (how == 3) {
        const char *sp = strchr(name, ' ');
        if (sp != NULL) {
            snprintf(out, cap, "%s %.*s", sp + 1, (int)(sp - name), name);
        }
    }
}

#define BATCH      100000 /* records per batch, as one `add --from-json` */
#define SINGLE_MAX 200000 /* names put one at a time for the comparison */

/* Record ids: short, as the figures of the first sessions were measured. */
static void
id_of(int i, char out[32])
{
    snprintf(out, 32, "p%d", i);
}

/*
 * names/s of n puts one at a time through one writer into a database file of its own; *cpu
 * gets the CPU microseconds a name
 */
static double
single_rate(char **names, int n, const char *path, double *cpu)
{
    char p[512];
    snprintf(p, sizeof p, "%s.single", path);
    unlink(p);
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    if (sqlite3_open(p, &db) != SQLITE_OK || search_setup(db, &err) != DFT_OK) {
        die("setup", &err);
    }
    sqlite3_exec(db,
                 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                 " PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144",
                 NULL, NULL, NULL);
    double t0 = now_ms(), c0 = bench_cpu();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    struct dft_search_writer *w = NULL;
    if (search_writer_open(db, &w, &err) != DFT_OK) {
        die("writer", &err);
    }
    char id[32];
    for (int i = 0; i < n; i++) {
        id_of(i, id);
        json_t *f = json_pack("{s:s}", "name", names[i]);
        if (search_writer_put(w, id, "person", names[i], f, &err) != DFT_OK) {
            die("put", &err);
        }
        json_decref(f);
    }
    search_writer_close(w);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t = now_ms() - t0;
    *cpu = (bench_cpu() - c0) * 1e6 / n;
    sqlite3_close(db);
    unlink(p);
    return n / (t / 1e3);
}

static int
bench_mode(int n, int nq, const char *path)
{
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s.defter", path);
    snprintf(p2, sizeof p2, "%s.trigram", path);
    unlink(p1);
    unlink(p2);
    sqlite3 *db = NULL, *tri = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    if (sqlite3_open(p1, &db) != SQLITE_OK || search_setup(db, &err) != DFT_OK ||
        sqlite3_open(p2, &tri) != SQLITE_OK) {
        die("setup", &err);
    }
    /* as the vault: WAL, exclusive locking; both sides get the same page cache */
    static const char pragmas[] = "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                                  " PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144";
    sqlite3_exec(db, pragmas, NULL, NULL, NULL);
    sqlite3_exec(tri, pragmas, NULL, NULL, NULL);
    sqlite3_exec(tri, "CREATE VIRTUAL TABLE tri USING fts5(name, tokenize='trigram')", NULL, NULL,
                 NULL);
    char **names = calloc((size_t)n, sizeof *names);
    struct fill_rng r = {42};
    for (int i = 0; i < n; i++) {
        char name[256];
        fill_name(&r, name, sizeof name);
        names[i] = strdup(name);
    }
    /* the same names put one by one through a writer (the vault's form so far), apart */
    int nsingle = n < SINGLE_MAX ? n : SINGLE_MAX;
    double single_cpu = 0.0;
    double single = single_rate(names, nsingle, path, &single_cpu);
    char id[32];
    double t0 = now_ms(), c0 = bench_cpu();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    /* as the vault's batches: one writer, records put many at once */
    struct dft_search_writer *wr = NULL;
    if (search_writer_open(db, &wr, &err) != DFT_OK) {
        die("writer", &err);
    }
    struct dft_search_record *recs = calloc(BATCH, sizeof *recs);
    char(*ids)[32] = calloc(BATCH, sizeof *ids);
    for (int at = 0; at < n; at += BATCH) {
        int m = n - at < BATCH ? n - at : BATCH;
        for (int i = 0; i < m; i++) {
            id_of(at + i, ids[i]);
            recs[i] = (struct dft_search_record){ids[i], "person", names[at + i],
                                                 json_pack("{s:s}", "name", names[at + i])};
        }
        if (dft_search_writer_put_many(wr, recs, (size_t)m, &err) != DFT_OK) {
            die("put", &err);
        }
        for (int i = 0; i < m; i++) {
            json_decref((json_t *)(uintptr_t)recs[i].fields);
        }
    }
    free(recs);
    free(ids);
    search_writer_close(wr);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t1 = now_ms(), c1 = bench_cpu();
    sqlite3_stmt *st = NULL;
    sqlite3_exec(tri, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(tri, "INSERT INTO tri(name) VALUES(?1)", -1, &st, NULL);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(tri, "COMMIT", NULL, NULL, NULL);
    double t2 = now_ms(), c2 = bench_cpu();
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_exec(tri, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    printf("index %d persons: defter %.0f names/s (%.1f s, %.1f us CPU a name over both threads; "
           "batches of %d folded on a worker thread), plain fts5 trigram %.0f names/s (%.1f us "
           "CPU a name); ratio %.2f wall, %.2f CPU; one put at a time %.0f names/s, %.1f us CPU "
           "a name (first %d)\n",
           n, n / ((t1 - t0) / 1e3), (t1 - t0) / 1e3, (c1 - c0) * 1e6 / n, BATCH,
           n / ((t2 - t1) / 1e3), (c2 - c1) * 1e6 / n, (t1 - t0) / (t2 - t1), (c1 - c0) / (c2 - c1),
           single, single_cpu, nsingle);
    printf("database size: defter %.1f MB (names, tokens and both fts5 indexes), trigram %.1f MB "
           "(names and index); ratio %.2f\n",
           (double)db_bytes(db) / 1e6, (double)db_bytes(tri) / 1e6,
           (double)db_bytes(db) / (double)db_bytes(tri));
    double *lat = calloc((size_t)nq, sizeof *lat);
    double *tlat = calloc((size_t)nq, sizeof *tlat);
    double *clat = calloc((size_t)nq, sizeof *clat);
    double *tclat = calloc((size_t)nq, sizeof *tclat);
    struct fill_rng qr = {7};
    sqlite3_prepare_v2(tri, "SELECT rowid FROM tri WHERE tri MATCH ?1 ORDER BY rank LIMIT 10", -1,
                       &st, NULL);
    size_t found = 0;
    for (int q = 0; q < nq; q++) {
        int target = (int)fill_next(&qr, (unsigned)n);
        char query[256];
        perturb(&qr, names[target], query, sizeof query);
        json_t *res = NULL;
        double a = now_ms(), ca = thread_cpu_ms();
        if (search_query(db, query, "person", 10, &res, &err) != DFT_OK) {
            die("query", &err);
        }
        lat[q] = now_ms() - a;
        clat[q] = thread_cpu_ms() - ca;
        id_of(target, id);
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(res, "hits"), i, h)
        {
            if (strcmp(json_string_value(json_object_get(h, "id")), id) == 0) {
                found++;
                break;
            }
        }
        json_decref(res);
        /* peer: trigram OR over the words (as the simple pipeline's prefilter) */
        char expr[600] = "";
        size_t o = 0;
        const char *w = query;
        while (*w != '\0' && o + 80 < sizeof expr) {
            size_t wl = strcspn(w, " ");
            if (wl >= 3) {
                o += (size_t)snprintf(expr + o, sizeof expr - o, "%s\"%.*s\"", o ? " OR " : "",
                                      (int)wl, w);
            }
            w += wl;
            w += strspn(w, " ");
        }
        a = now_ms();
        ca = thread_cpu_ms();
        if (o > 0) {
            sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
            }
            sqlite3_reset(st);
        }
        tlat[q] = now_ms() - a;
        tclat[q] = thread_cpu_ms() - ca;
    }
    sqlite3_finalize(st);
    qsort(lat, (size_t)nq, sizeof *lat, cmp_double);
    qsort(tlat, (size_t)nq, sizeof *tlat, cmp_double);
    qsort(clat, (size_t)nq, sizeof *clat, cmp_double);
    qsort(tclat, (size_t)nq, sizeof *tclat, cmp_double);
    printf("query latency over %d queries: defter p50 %.3f ms p99 %.3f ms (target in top 10: "
           "%.1f%%); fts5 trigram OR p50 %.3f ms p99 %.3f ms\n",
           nq, pct(lat, (size_t)nq, 0.5), pct(lat, (size_t)nq, 0.99), 100.0 * (double)found / nq,
           pct(tlat, (size_t)nq, 0.5), pct(tlat, (size_t)nq, 0.99));
    printf("query CPU time (steadier on a shared machine): defter p50 %.3f ms p99 %.3f ms; fts5 "
           "trigram OR p50 %.3f ms p99 %.3f ms\n",
           pct(clat, (size_t)nq, 0.5), pct(clat, (size_t)nq, 0.99), pct(tclat, (size_t)nq, 0.5),
           pct(tclat, (size_t)nq, 0.99));
    free(lat);
    free(tlat);
    free(clat);
    free(tclat);
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    sqlite3_close(db);
    sqlite3_close(tri);
    if (getenv("SEARCH_BENCH_KEEP") == NULL) {
        unlink(p1);
        unlink(p2);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *dir = "data/search-dev", *run = "RUN.tsv", *dbpath = "/tmp/search_bench";
    int filler = 20000, bench = 0, nq = 2000;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--dir") == 0 && v) {
            dir = v;
            i++;
        } else if (strcmp(a, "--filler") == 0 && v) {
            filler = (int)strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--run") == 0 && v) {
            run = v;
            i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            seed = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--bench") == 0 && v) {
            bench = (int)strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--queries") == 0 && v) {
            nq = (int)strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--db") == 0 && v) {
            dbpath = v;
            i++;
        } else {
            fprintf(stderr, "usage: search_dev [--dir DIR] [--filler N] [--run RUN.tsv] "
                            "[--seed S] | --bench N [--queries Q] [--db PATH]\n");
            return 2;
        }
    }
    if (argc == 1) {
        /* bench/run.sh: the dev set with filler, then the million-person bench */
        int rc = dev_mode(dir, filler, "build/release/RUN.tsv", seed);
        return rc != 0 ? rc : bench_mode(1000000, nq, dbpath);
    }
    if (bench > 0) {
        return bench_mode(bench, nq, dbpath);
    }
    return dev_mode(dir, filler, run, seed);
}
