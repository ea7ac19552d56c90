/*
 * coercion_bench.c - issue 14 figures: the time of an unlock (read the header, Argon2id at the
 * interactive level, try every slot, rewrite the header) with the real, a wrong and the duress
 * passphrase, side by side; and `defter panic` beside `shred -u` of the header and `rm -rf` of
 * the vault folder.
 *
 * Usage: coercion_bench [UNLOCKS (200)] [FOLDER MiB (256)]. Needs `shred` and `rm` (coreutils).
 * Prints, for each kind, mean, median, standard deviation, min and max of wall and CPU time,
 * and the difference of its median against the real passphrase's in % with a 95 % bootstrap
 * confidence interval (goal: within 1 %).
 * Each duress unlock starts from the same header bytes (restored outside the timed part), so
 * every one of them shreds. The decoy passphrase opens the second compartment.
 *
 * coercion_bench panic [GiB...] (default 1): the panic part alone for vault folders of each
 * size (in $TMPDIR, default /tmp; made with ciphertext-like data, synced), beside the peers
 * that make the same folder unreadable or gone: `dd conv=notrunc,fsync` over all its data
 * (what overwriting the data itself costs), `shred -u` of the header and `rm -rf` of the
 * folder. Check the free disk space first: each size is made, measured and removed in turn.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "defter/coercion.h"
#include "defter/vault.h"
#include "vault/header.h"
#include "vault/vault_internal.h"

static const char pass[] = "bench passphrase";
static const char duress[] = "bench duress";
static const char decoy[] = "bench decoy";

/* The samples of one kind of unlock: wall and CPU seconds. */
struct samples {
    const char *name;
    double *wall, *cpu;
    int n;
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        s += x[i];
    }
    return s / n;
}

static double
sd_of(const double *x, int n)
{
    double m = mean_of(x, n), s = 0;
    for (int i = 0; i < n; i++) {
        s += (x[i] - m) * (x[i] - m);
    }
    return n > 1 ? sqrt(s / (n - 1)) : 0;
}

/* Median of n values (x is not changed). */
static double
median_of(const double *x, int n, double *tmp)
{
    memcpy(tmp, x, (size_t)n * sizeof *x);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

#define BOOT 2000

/*
 * The difference of medians of b against a, in % of a's median, and its 95 % bootstrap
 * interval (BOOT resamples of each side, percentile method).
 */
static void
median_diff(const double *a, const double *b, int n, double *d, double *lo, double *hi)
{
    double *ra = malloc((size_t)n * sizeof *ra), *rb = malloc((size_t)n * sizeof *rb);
    double *tmp = malloc((size_t)n * sizeof *tmp), *ds = malloc(BOOT * sizeof *ds);
    if (ra == NULL || rb == NULL || tmp == NULL || ds == NULL) {
        exit(1);
    }
    double ma = median_of(a, n, tmp);
    *d = (median_of(b, n, tmp) / ma - 1) * 100;
    for (int r = 0; r < BOOT; r++) {
        for (int i = 0; i < n; i++) {
            ra[i] = a[randombytes_uniform((uint32_t)n)];
            rb[i] = b[randombytes_uniform((uint32_t)n)];
        }
        ds[r] = (median_of(rb, n, tmp) / median_of(ra, n, tmp) - 1) * 100;
    }
    qsort(ds, BOOT, sizeof *ds, cmp_double);
    *lo = ds[BOOT * 25 / 1000];
    *hi = ds[BOOT * 975 / 1000 - 1];
    free(ra);
    free(rb);
    free(tmp);
    free(ds);
}

/*
 * Paired: the median over rounds of b[r] / a[r] - 1 (the same round ran both, a few hundred ms
 * apart, so slow drift of the machine cancels), in %, and its 95 % bootstrap interval over
 * rounds.
 */
static void
paired_diff(const double *a, const double *b, int n, double *d, double *lo, double *hi)
{
    double *q = malloc((size_t)n * sizeof *q), *rs = malloc((size_t)n * sizeof *rs);
    double *tmp = malloc((size_t)n * sizeof *tmp), *ds = malloc(BOOT * sizeof *ds);
    if (q == NULL || rs == NULL || tmp == NULL || ds == NULL) {
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        q[i] = (b[i] / a[i] - 1) * 100;
    }
    *d = median_of(q, n, tmp);
    for (int r = 0; r < BOOT; r++) {
        for (int i = 0; i < n; i++) {
            rs[i] = q[randombytes_uniform((uint32_t)n)];
        }
        ds[r] = median_of(rs, n, tmp);
    }
    qsort(ds, BOOT, sizeof *ds, cmp_double);
    *lo = ds[BOOT * 25 / 1000];
    *hi = ds[BOOT * 975 / 1000 - 1];
    free(q);
    free(rs);
    free(tmp);
    free(ds);
}

/* One table: the four kinds side by side, each against the real passphrase. */
static void
print_table(const char *what, struct samples *k, int nk, int cpu)
{
    int n = k[0].n;
    double *tmp = malloc((size_t)n * sizeof *tmp);
    if (tmp == NULL) {
        exit(1);
    }
    printf("  %s\n", what);
    printf("  %-16s %8s %8s %8s %8s %8s  %-26s %-26s\n", "passphrase", "mean ms", "median", "sd ms",
           "min", "max", "medians vs real [95% CI]", "paired, per round [95% CI]");
    for (int i = 0; i < nk; i++) {
        const double *x = cpu ? k[i].cpu : k[i].wall;
        double mn = x[0], mx = x[0];
        for (int j = 1; j < n; j++) {
            mn = x[j] < mn ? x[j] : mn;
            mx = x[j] > mx ? x[j] : mx;
        }
        printf("  %-16s %8.2f %8.2f %8.2f %8.2f %8.2f  ", k[i].name, mean_of(x, n) * 1e3,
               median_of(x, n, tmp) * 1e3, sd_of(x, n) * 1e3, mn * 1e3, mx * 1e3);
        if (i == 0) {
            printf("%-26s %-26s\n", "-", "-");
        } else {
            const double *a = cpu ? k[0].cpu : k[0].wall;
            double d, lo, hi, pd, plo, phi;
            median_diff(a, x, n, &d, &lo, &hi);
            paired_diff(a, x, n, &pd, &plo, &phi);
            printf("%+6.2f %% [%+6.2f, %+6.2f]   %+6.2f %% [%+6.2f, %+6.2f]\n", d, lo, hi, pd, plo,
                   phi);
        }
    }
    free(tmp);
}

static int
restore(const char *path, const unsigned char *p, size_t n)
{
    return header_write_raw(p, n, path, NULL) == DFT_OK ? 0 : -1;
}

/* One unlock from path's header, timed: wall and CPU seconds of this thread. */
static void
one_unlock(const char *path, const char *pw, double *wall, double *cpu)
{
    struct dft_header *h = calloc(1, sizeof *h);
    struct dft_keys *k = keys_new();
    double c0 = bench_cpu(), t0 = bench_now();
    enum dft_err rc = header_read(h, path, NULL);
    if (rc == DFT_OK) {
        rc = header_unlock_at(h, k, pw, strlen(pw), path, NULL); /* any answer is timed */
    }
    *wall = bench_now() - t0;
    *cpu = bench_cpu() - c0;
    (void)rc;
    keys_free(k);
    free(h);
}

static double
run(const char *cmd)
{
    double t0 = bench_now();
    if (system(cmd) != 0) {
        return -1;
    }
    return bench_now() - t0;
}

/* Panic against its peers for folders of each size in GiB (argv). */
static int
panic_sizes(int argc, char **argv)
{
    struct dft_error err = {0};
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char dir[512], vdir[600], path[700], cmd[2048];
    printf("panic of a vault folder, beside the peers (each on the same folder, in turn):\n");
    printf("  %-8s %14s %18s %16s %14s\n", "size", "panic ms", "dd overwrite ms", "shred -u hdr ms",
           "rm -rf ms");
    for (int i = 0; i < (argc > 0 ? argc : 1); i++) {
        int gib = argc > 0 ? (int)strtol(argv[i], NULL, 10) : 1;
        snprintf(dir, sizeof dir, "%s/dft-panic-bench-XXXXXX", tmp);
        if (gib < 1 || mkdtemp(dir) == NULL) {
            return 1;
        }
        snprintf(vdir, sizeof vdir, "%s/v", dir);
        snprintf(path, sizeof path, "%s/header", vdir);
        if (dft_vault_create(vdir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        /* the data: GiB files of 1 GiB of random bytes, like evidence objects */
        for (int g = 0; g < gib; g++) {
            snprintf(cmd, sizeof cmd,
                     "openssl enc -aes-256-ctr -pass pass:fill%d -nosalt -pbkdf2 </dev/zero "
                     "2>/dev/null | head -c 1G >%s/objects/fill%d",
                     g, vdir, g);
            if (system(cmd) != 0) {
                return 1;
            }
        }
        if (system("sync") != 0) {
            return 1;
        }
        double t0 = bench_now();
        struct dft_panic_result res;
        if (dft_vault_panic(vdir, &res, &err) != DFT_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        double tp = bench_now() - t0;
        snprintf(cmd, sizeof cmd,
                 "for f in %s/objects/fill*; do dd if=/dev/zero of=$f bs=4M count=256 "
                 "conv=notrunc,fsync status=none || exit 1; done",
                 vdir);
        double td = run(cmd);
        snprintf(cmd, sizeof cmd, "shred -u %s", path);
        double ts = run(cmd);
        snprintf(cmd, sizeof cmd, "rm -rf %s", vdir);
        double tr = run(cmd);
        rmdir(dir);
        printf("  %3d GiB %14.2f %18.2f %16.2f %14.2f\n", gib, tp * 1e3, td * 1e3, ts * 1e3,
               tr * 1e3);
        fflush(stdout);
    }
    printf("  panic: keys gone and fsynced (ciphertext stays, unreadable); dd: every data byte\n"
           "  overwritten and fsynced; shred -u: the header only (no fsync of the folder);\n"
           "  rm -rf: unlinks only, the data stays on the disk.\n");
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "panic") == 0) {
        struct dft_error e = {0};
        return dft_crypto_init(&e) == DFT_OK ? panic_sizes(argc - 2, argv + 2) : 1;
    }
    int unlocks = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
    int mib = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 256;
    struct dft_error err = {0};
    char dir[] = "/tmp/dft-coercion-bench-XXXXXX";
    if (dft_crypto_init(&err) != DFT_OK || mkdtemp(dir) == NULL) {
        return 1;
    }
    char vdir[128], path[160], cmd[512];
    snprintf(vdir, sizeof vdir, "%s/v", dir);
    snprintf(path, sizeof path, "%s/header", vdir);
    struct dft_vault *v = NULL;
    if (dft_vault_create(vdir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
        dft_vault_open(&v, vdir, pass, strlen(pass), &err) != DFT_OK ||
        dft_vault_duress_set(v, DFT_DURESS_DECOY, decoy, strlen(decoy), pass, strlen(pass), NULL, 0,
                             &err) != DFT_OK ||
        dft_vault_duress_set(v, DFT_DURESS_SHRED, duress, strlen(duress), pass, strlen(pass), NULL,
                             0, &err) != DFT_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    dft_vault_close(v);
    static unsigned char orig[DFT_HEADER_MAX_BYTES];
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(orig, 1, sizeof orig, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    struct samples kinds[4] = {{"real", NULL, NULL, 0},
                               {"wrong", NULL, NULL, 0},
                               {"decoy", NULL, NULL, 0},
                               {"duress (shred)", NULL, NULL, 0}};
    const char *pws[4] = {pass, "not the passphrase", decoy, duress};
    for (int i = 0; i < 4; i++) {
        kinds[i].wall = calloc((size_t)unlocks, sizeof(double));
        kinds[i].cpu = calloc((size_t)unlocks, sizeof(double));
        if (kinds[i].wall == NULL || kinds[i].cpu == NULL) {
            return 1;
        }
    }
    /* interleaved in a fresh random order each round, each from the same header bytes
     * (restored outside the timed part), so drift on a shared machine hits all four alike */
    double start = bench_now();
    for (int r = 0; r < unlocks; r++) {
        int order[4] = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = (int)randombytes_uniform((uint32_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < 4; i++) {
            struct samples *k = &kinds[order[i]];
            one_unlock(path, pws[order[i]], &k->wall[k->n], &k->cpu[k->n]);
            k->n++;
            if (restore(path, orig, n) != 0) {
                return 1;
            }
        }
    }
    printf("unlock, %d each, interactive Argon2id (read, derive, 8 slots, rewrite + 2 fdatasync),\n"
           "interleaved in random order (%.0f s in all); 95 %% CI by bootstrap (%d resamples):\n",
           unlocks, bench_now() - start, BOOT);
    print_table("wall time", kinds, 4, 0);
    print_table("CPU time of the process (steadier on a shared machine)", kinds, 4, 1);
    printf("  goal: every kind within 1 %% of real; 'paired' compares the unlocks of one round\n");
    for (int i = 0; i < 4; i++) {
        free(kinds[i].wall);
        free(kinds[i].cpu);
    }

    /* panic beside shred -u and rm -rf, on a folder with MiB of ciphertext-like data */
    snprintf(cmd, sizeof cmd, "head -c %dM /dev/urandom >%s/objects/fill && sync", mib, vdir);
    if (system(cmd) != 0) {
        return 1;
    }
    double t0 = bench_now();
    struct dft_panic_result res;
    if (dft_vault_panic(vdir, &res, &err) != DFT_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double tp = bench_now() - t0;
    snprintf(cmd, sizeof cmd, "shred -u %s", path);
    double ts = run(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", vdir);
    double tr = run(cmd);
    printf("wipe of a vault folder with %d MiB of data:\n", mib);
    printf("  %-40s %10.2f ms  (keys gone, fsynced)\n", "defter panic", tp * 1e3);
    printf("  %-40s %10.2f ms  (header only; no fsync of the folder)\n", "shred -u header",
           ts * 1e3);
    printf("  %-40s %10.2f ms  (unlinks; the data stays on the disk)\n", "rm -rf folder", tr * 1e3);
    rmdir(dir);
    return 0;
}
