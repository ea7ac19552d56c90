/*
 * coercion_bench.c - issue 14 figures: the time of an unlock (read the header, Argon2id at the
 * interactive level, try every slot, rewrite the header) with the real, a wrong and the duress
 * passphrase, side by side; and `defter panic` beside `shred -u` of the header and `rm -rf` of
 * the vault folder.
 *
 * Usage: coercion_bench [UNLOCKS (200)] [FOLDER MiB (256)]. Needs `shred` and `rm` (coreutils).
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

struct stat_acc {
    double sum, sq;
    int n;
};

static void
acc(struct stat_acc *a, double x)
{
    a->sum += x;
    a->sq += x * x;
    a->n++;
}

static double
mean(const struct stat_acc *a)
{
    return a->sum / a->n;
}

static double
sd(const struct stat_acc *a)
{
    double m = mean(a);
    double v = a->sq / a->n - m * m;
    return v > 0 ? sqrt(v) : 0;
}

static int
restore(const char *path, const unsigned char *p, size_t n)
{
    return header_write_raw(p, n, path, NULL) == DFT_OK ? 0 : -1;
}

static double
one_unlock(const char *path, const char *pw)
{
    struct dft_header *h = calloc(1, sizeof *h);
    struct dft_keys *k = keys_new();
    double t0 = bench_now();
    enum dft_err rc = header_read(h, path, NULL);
    if (rc == DFT_OK) {
        rc = header_unlock_at(h, k, pw, strlen(pw), path, NULL); /* any answer is timed */
    }
    double t = bench_now() - t0;
    (void)rc;
    keys_free(k);
    free(h);
    return t;
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
    struct stat_acc real = {0}, wrong = {0}, dur = {0}, dec = {0};
    /* interleaved, so drift on a shared machine hits all three alike */
    for (int i = 0; i < unlocks; i++) {
        acc(&real, one_unlock(path, pass));
        acc(&wrong, one_unlock(path, "not the passphrase"));
        acc(&dec, one_unlock(path, decoy));
        acc(&dur, one_unlock(path, duress));
        if (restore(path, orig, n) != 0) {
            return 1;
        }
    }
    printf(
        "unlock, %d each, interactive Argon2id (read, derive, 8 slots, rewrite + 2 fdatasync):\n",
        unlocks);
    printf("  %-22s %10s %10s %9s\n", "passphrase", "mean ms", "sd ms", "vs real");
    printf("  %-22s %10.2f %10.2f %9s\n", "real", mean(&real) * 1e3, sd(&real) * 1e3, "-");
    printf("  %-22s %10.2f %10.2f %+8.2f%%\n", "wrong", mean(&wrong) * 1e3, sd(&wrong) * 1e3,
           (mean(&wrong) / mean(&real) - 1) * 100);
    printf("  %-22s %10.2f %10.2f %+8.2f%%\n", "duress (shred)", mean(&dur) * 1e3, sd(&dur) * 1e3,
           (mean(&dur) / mean(&real) - 1) * 100);
    printf("  %-22s %10.2f %10.2f %+8.2f%%\n", "decoy", mean(&dec) * 1e3, sd(&dec) * 1e3,
           (mean(&dec) / mean(&real) - 1) * 100);

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
