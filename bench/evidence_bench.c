/*
 * evidence_bench.c - evidence import and extract beside the tools a user would otherwise
 * script: `openssl dgst -sha256` (hashing alone), `dd conv=fsync` (a durable copy alone; also
 * with `oflag=direct`, the cheapest durable copy, as extract writes) and `sha256sum` followed by
 * `age -r`. The import goal is <= 1.1x the slower of dgst and the dd
 * copy (it does both: hash, and write durably); extract <= 1.2x dgst.
 *
 * Usage: evidence_bench [DIR...]  (default: build/bench-evidence and /dev/shm). For each DIR
 * it writes a random file (EVIDENCE_BENCH_MIB, default 1024), warms the page cache, and
 * prints the best of 3 runs of each command, the ratios against the goals, and the peak RSS
 * (ru_maxrss of a child process) of import and extract. Then a sparse file of
 * EVIDENCE_BENCH_SPARSE_GIB (default 5; 0 skips) goes through import and extract to show
 * 64-bit offsets work. EVIDENCE_BENCH_PROFILE=1 runs only the extract, in this process, for
 * a profiler. Never touches anything outside DIR/defter-bench-*.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "evidence/evidence.h"

#define RUNS 3

static struct dft_keys *keys;
static double last_cpu;    /* user + system seconds of the last child */
static double *child_main; /* shared with children: CPU seconds of the child's calling thread */

/* CPU seconds of the calling thread. */
static double
thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

struct job {
    const char *objects;
    const char *in;     /* import: the file */
    const char *object; /* extract: the object id */
    const char *out;    /* extract: the output */
};

/* Run fn in a child; wall time in *secs and peak RSS in KiB in *rss_kib. 0 on success. */
static int
in_child(int (*fn)(const struct job *), const struct job *j, double *secs, long *rss_kib)
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        _exit(fn(j) == 0 ? 0 : 1);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) {
        return -1;
    }
    *secs = bench_now() - t0;
    *rss_kib = ru.ru_maxrss;
    last_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
do_import(const struct job *j)
{
    struct dft_evidence_info info;
    struct dft_error err = {0};
    double t0 = thread_cpu();
    if (evidence_import(j->objects, keys, j->in, NULL, NULL, &info, &err) != DFT_OK) {
        fprintf(stderr, "import: %s\n", err.msg);
        return -1;
    }
    *child_main = thread_cpu() - t0;
    evidence_info_release(&info);
    return 0;
}

static int
do_extract(const struct job *j)
{
    struct dft_error err = {0};
    double t0 = thread_cpu();
    if (evidence_extract(j->objects, keys, j->object, NULL, j->out, NULL, NULL, NULL, &err) !=
        DFT_OK) {
        fprintf(stderr, "extract: %s\n", err.msg);
        return -1;
    }
    *child_main = thread_cpu() - t0;
    return 0;
}

static const char *shell_cmd;

static int
do_shell(const struct job *j)
{
    (void)j;
    execl("/bin/sh", "sh", "-c", shell_cmd, (char *)NULL);
    return -1;
}

static double
best_shell(const char *cmd)
{
    double best = 1e30;
    for (int i = 0; i < RUNS; i++) {
        double s;
        long rss;
        shell_cmd = cmd;
        if (in_child(do_shell, NULL, &s, &rss) != 0) {
            fprintf(stderr, "peer command failed: %s\n", cmd);
            return -1;
        }
        best = s < best ? s : best;
    }
    return best;
}

static int
write_random(const char *path, uint64_t bytes)
{
    static unsigned char buf[1 << 20];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return -1;
    }
    for (uint64_t done = 0; done < bytes; done += sizeof buf) {
        randombytes_buf(buf, sizeof buf);
        size_t n = bytes - done < sizeof buf ? (size_t)(bytes - done) : sizeof buf;
        if (write(fd, buf, n) != (ssize_t)n) {
            close(fd);
            return -1;
        }
    }
    return close(fd);
}

static int
suite(const char *base, uint64_t mib)
{
    char dir[512], in[600], objects[600], out[600], cmd[4096], keyf[600], tmp[600];
    snprintf(dir, sizeof dir, "%s/defter-bench-%d", base, (int)getpid());
    if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(in, sizeof in, "%s/input.bin", dir);
    snprintf(objects, sizeof objects, "%s/objects", dir);
    snprintf(out, sizeof out, "%s/extracted.bin", dir);
    snprintf(keyf, sizeof keyf, "%s/age.key", dir);
    int rc = -1;
    if (write_random(in, mib << 20) != 0) {
        fprintf(stderr, "cannot write %s\n", in);
        goto out;
    }
    /* warm the page cache */
    snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", in);
    if (system(cmd) != 0) {
        goto out;
    }

    struct dft_evidence_info info;
    struct dft_error err = {0};
    if (evidence_import(objects, keys, in, NULL, NULL, &info, &err) != DFT_OK) {
        fprintf(stderr, "import: %s\n", err.msg);
        goto out;
    }
    char obj_path[800];
    snprintf(obj_path, sizeof obj_path, "%s/%.2s/%s", objects, info.object, info.object);
    struct job j = {objects, in, info.object, out};
    if (getenv("EVIDENCE_BENCH_PROFILE") != NULL) {
        /* profiling (perf, strace): extract only, in this process, 3 times */
        for (int i = 0; i < RUNS; i++) {
            unlink(out);
            double t0 = bench_now();
            if (do_extract(&j) != 0) {
                goto out;
            }
            printf("[%s] extract %.3f s\n", base, bench_now() - t0);
        }
        evidence_info_release(&info);
        rc = 0;
        goto out;
    }

    /* interleaved rounds, so load from other processes hits every command alike */
    char dgst[1024], ddcopy[1400], dddirect[2800], ddout[620];
    snprintf(dgst, sizeof dgst, "openssl dgst -sha256 '%s' > /dev/null", in);
    snprintf(ddout, sizeof ddout, "%s/dd.bin", dir);
    snprintf(ddcopy, sizeof ddcopy, "dd if='%s' of='%s' bs=1M conv=fsync status=none", in, ddout);
    /* the cheapest durable copy: the same with direct writes (what extract does where it can) */
    snprintf(dddirect, sizeof dddirect,
             "dd if='%s' of='%s' bs=1M oflag=direct conv=fsync status=none 2>/dev/null || "
             "dd if='%s' of='%s' bs=1M conv=fsync status=none",
             in, ddout, in, ddout);
    double t_dgst = 1e30, t_imp = 1e30, t_ext = 1e30, c_dgst = 1e30, c_imp = 1e30, c_ext = 1e30;
    double t_dd = 1e30, t_ddd = 1e30, b_imp = 1e30, b_ext = 1e30; /* b: see the printf */
    long rss_imp = 0, rss_ext = 0;
    for (int i = 0; i < RUNS; i++) {
        double s;
        long rss;
        shell_cmd = dgst;
        if (in_child(do_shell, &j, &s, &rss) != 0) {
            goto out;
        }
        t_dgst = s < t_dgst ? s : t_dgst;
        c_dgst = last_cpu < c_dgst ? last_cpu : c_dgst;
        unlink(ddout);
        shell_cmd = ddcopy;
        if (in_child(do_shell, &j, &s, &rss) != 0) {
            goto out;
        }
        t_dd = s < t_dd ? s : t_dd;
        unlink(ddout);
        shell_cmd = dddirect;
        if (in_child(do_shell, &j, &s, &rss) != 0) {
            goto out;
        }
        t_ddd = s < t_ddd ? s : t_ddd;
        unlink(ddout);
        unlink(obj_path); /* a real import each time, not a dedup hit */
        if (in_child(do_import, &j, &s, &rss) != 0) {
            goto out;
        }
        t_imp = s < t_imp ? s : t_imp;
        c_imp = last_cpu < c_imp ? last_cpu : c_imp;
        double busy = *child_main > last_cpu - *child_main ? *child_main : last_cpu - *child_main;
        b_imp = busy < b_imp ? busy : b_imp;
        rss_imp = rss > rss_imp ? rss : rss_imp;
        unlink(out);
        if (in_child(do_extract, &j, &s, &rss) != 0) {
            goto out;
        }
        t_ext = s < t_ext ? s : t_ext;
        c_ext = last_cpu < c_ext ? last_cpu : c_ext;
        busy = *child_main > last_cpu - *child_main ? *child_main : last_cpu - *child_main;
        b_ext = busy < b_ext ? busy : b_ext;
        rss_ext = rss > rss_ext ? rss : rss_ext;
    }
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", in, out);
    int same = system(cmd) == 0;

    snprintf(cmd, sizeof cmd, "age-keygen -o '%s' 2>/dev/null", keyf);
    double t_age = -1;
    if (system(cmd) == 0) {
        snprintf(tmp, sizeof tmp, "%s/age.out", dir);
        snprintf(cmd, sizeof cmd,
                 "sha256sum '%s' > /dev/null && age -r \"$(age-keygen -y '%s')\" -o '%s' '%s'", in,
                 keyf, tmp, in);
        t_age = best_shell(cmd);
    }

    double gb = (double)(mib << 20) / 1e9;
    printf("\n[%s] %llu MiB random file, page cache warm, best of %d\n", base,
           (unsigned long long)mib, RUNS);
    printf("  openssl dgst -sha256      %7.3f s  %5.2f GB/s\n", t_dgst, gb / t_dgst);
    double peer = t_dd > t_dgst ? t_dd : t_dgst;
    printf("  dd conv=fsync copy        %7.3f s  %5.2f GB/s\n", t_dd, gb / t_dd);
    printf("  defter import (attach)    %7.3f s  %5.2f GB/s  import/dgst = %.2f, import/dd = %.2f,"
           " import/max(dgst, dd) = %.2f (goal <= 1.1)\n",
           t_imp, gb / t_imp, t_imp / t_dgst, t_imp / t_dd, t_imp / peer);
    if (t_age > 0) {
        printf(
            "  sha256sum + age -r        %7.3f s  %5.2f GB/s  import is %.1fx faster (goal >= 5)\n",
            t_age, gb / t_age, t_age / t_imp);
    } else {
        printf("  sha256sum + age -r        not run (age missing)\n");
    }
    double peer_d = t_ddd > t_dgst ? t_ddd : t_dgst;
    printf("  dd oflag=direct conv=fsync %6.3f s  %5.2f GB/s  (the same durable copy, direct "
           "writes)\n",
           t_ddd, gb / t_ddd);
    printf("  defter extract            %7.3f s  %5.2f GB/s  extract/dgst = %.2f (goal <= 1.2),"
           " extract/max(dgst, dd) = %.2f, extract/max(dgst, dd direct) = %.2f%s\n",
           t_ext, gb / t_ext, t_ext / t_dgst, t_ext / peer, t_ext / peer_d,
           same ? "" : "  OUTPUT DIFFERS");
    printf("  cpu (user+sys): dgst %.3f s, import %.3f s, extract %.3f s (all threads)\n", c_dgst,
           c_imp, c_ext);
    /* On a shared machine wall times follow the load; the larger of the calling thread's CPU
     * and the other threads' together is what bounds the wall time on two free cores, beside
     * dgst's CPU (one thread). Extract has two other threads: hashing, and writing (direct
     * writes cost little CPU; buffered ones the copy into the page cache). */
    printf("  max(calling thread, other threads) CPU (the wall time on 2 free cores is about "
           "this): import %.3f s = %.2fx dgst CPU, extract "
           "%.3f s = %.2fx dgst CPU\n",
           b_imp, b_imp / c_dgst, b_ext, b_ext / c_dgst);
    printf("  peak RSS: import %.1f MiB, extract %.1f MiB (goal <= 32)\n", (double)rss_imp / 1024.0,
           (double)rss_ext / 1024.0);
    evidence_info_release(&info);
    rc = same ? 0 : -1;
out:
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* A sparse file above 4 GiB: import, extract, same SHA-256 as openssl computes. */
static int
sparse(const char *base, uint64_t gib)
{
    char dir[512], in[600], objects[600], out[600], cmd[1400];
    snprintf(dir, sizeof dir, "%s/defter-bench-sparse-%d", base, (int)getpid());
    if (mkdir(dir, 0700) != 0) {
        return -1;
    }
    snprintf(in, sizeof in, "%s/sparse.bin", dir);
    snprintf(objects, sizeof objects, "%s/objects", dir);
    snprintf(out, sizeof out, "%s/extracted.bin", dir);
    int rc = -1;
    uint64_t size = (gib << 30) + 12345;
    int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        goto out;
    }
    static const uint64_t at[] = {0, (UINT64_C(1) << 32) - 7, (UINT64_C(1) << 32) + 999};
    for (size_t i = 0; i < 3; i++) {
        if (at[i] + 16 < size && pwrite(fd, "defter sparse!!", 16, (off_t)at[i]) != 16) {
            close(fd);
            goto out;
        }
    }
    if (pwrite(fd, "tail", 4, (off_t)(size - 4)) != 4) {
        close(fd);
        goto out;
    }
    close(fd);

    struct dft_evidence_info info;
    struct dft_error err = {0};
    double t0 = bench_now();
    if (evidence_import(objects, keys, in, NULL, NULL, &info, &err) != DFT_OK) {
        fprintf(stderr, "sparse import: %s\n", err.msg);
        goto out;
    }
    double t1 = bench_now();
    unsigned char sha[32];
    if (evidence_extract(objects, keys, info.object, info.sha256, out, NULL, NULL, sha, &err) !=
        DFT_OK) {
        fprintf(stderr, "sparse extract: %s\n", err.msg);
        evidence_info_release(&info);
        goto out;
    }
    double t2 = bench_now();
    char line[256] = {0};
    snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -r '%s'", out);
    FILE *p = popen(cmd, "r");
    if (p == NULL || fgets(line, sizeof line, p) == NULL) {
        if (p) {
            pclose(p);
        }
        evidence_info_release(&info);
        goto out;
    }
    pclose(p);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", in, out);
    int same = system(cmd) == 0 && strncmp(line, info.sha256_hex, 64) == 0;
    printf("\n[%s] sparse %.2f GiB file: import %.1f s, extract %.1f s, round trip %s\n", base,
           (double)size / (1 << 30), t1 - t0, t2 - t1,
           same ? "byte-exact, sha256 matches openssl" : "FAILED");
    evidence_info_release(&info);
    rc = same ? 0 : -1;
out:
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *env = getenv("EVIDENCE_BENCH_MIB");
    uint64_t mib = env ? strtoull(env, NULL, 10) : 1024;
    env = getenv("EVIDENCE_BENCH_SPARSE_GIB");
    uint64_t sparse_gib = env ? strtoull(env, NULL, 10) : 5;
    const char *defaults[] = {"build/bench-evidence", "/dev/shm"};
    const char *dirs[16];
    int ndirs = 0;
    for (int i = 1; i < argc && ndirs < 16; i++) {
        dirs[ndirs++] = argv[i];
    }
    if (ndirs == 0) {
        dirs[ndirs++] = defaults[0];
        dirs[ndirs++] = defaults[1];
    }
    int rc = 0;

    child_main =
        mmap(NULL, sizeof *child_main, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (child_main == MAP_FAILED || dft_crypto_init(NULL) != DFT_OK ||
        (keys = keys_new()) == NULL) {
        return 1;
    }
    randombytes_buf(keys->master, sizeof keys->master);
    keys_derive(keys);
    mkdir("build/bench-evidence", 0700);
    printf("evidence bench: chunk %u KiB, AES-256-GCM + SHA-256 on two threads\n",
           DFT_EVIDENCE_CHUNK_BYTES >> 10);
    for (int i = 0; i < ndirs; i++) {
        struct stat st;
        if (stat(dirs[i], &st) != 0) {
            continue;
        }
        if (suite(dirs[i], mib) != 0) {
            rc = 1;
        }
    }
    if (sparse_gib > 0 && sparse(dirs[0], sparse_gib) != 0) {
        rc = 1;
    }
    keys_free(keys);
    return rc;
}
