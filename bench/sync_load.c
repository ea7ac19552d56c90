/*
 * sync_load.c - `defter serve` under load beside its own store: C clients (threads, each its
 * own device key, an editor of one collection) push 1 KiB envelopes, one per signed request,
 * and pull what is new every 50 pushes, against a `defter serve` child process. Printed:
 * durable envelopes/s (a push is answered only once its append is durable), p50/p99 push and
 * pull latency, the server's RSS (peak and at the end), beside the same envelopes appended
 * straight into the same kind of store (one append per envelope, one thread) and the ratio.
 * With SYNC_LOAD_S3 (an s3:// URL) also 1 MiB chunk uploads through the S3 store beside
 * `curl --aws-sigv4` putting the same chunks (one curl process, connection reused).
 *
 * Usage: sync_load [DEFTER_BIN]   (bench/sync-load builds and runs it)
 * Environment: SYNC_LOAD_CLIENTS (50), SYNC_LOAD_PUSHES (per client, 2000), SYNC_LOAD_SECONDS
 * (bound on the push phase, 120), SYNC_LOAD_DB (a postgresql:// URL for --db and the direct
 * figure), SYNC_LOAD_S3, SYNC_LOAD_SOAK=1 (loop the load for SYNC_LOAD_SECONDS, print the
 * server's RSS each minute and its growth after the first minute; `make soak`),
 * SYNC_LOAD_PAUSE_MS (a pause after each push: a steady load for the soak).
 * Never touches anything outside its temp dir; kills only the server it started.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bench.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "sync/client.h"
#include "sync/member.h"
#include "sync/storage.h"

#define ENV_BYTES  1024
#define PULL_EVERY 50

struct dev {
    unsigned char pk[32], sk[64], xpk[32], xsk[32];
    char b64[64];
};

static char url[128], cid[33], dir[256];
static const char *db_url;
static struct member_chain chain;
static pid_t server;
static volatile int stop_all;
static long pause_ms; /* between a client's pushes (soak: a steady load, not a flood) */
static double deadline;

static enum dft_err
sign_dev(void *ctx, const unsigned char *msg, size_t n, unsigned char sig[64],
         struct dft_error *err)
{
    const struct dev *d = ctx;
    (void)err;
    crypto_sign_detached(sig, NULL, msg, n, d->sk);
    return DFT_OK;
}

static void
dev_new(struct dev *d)
{
    crypto_sign_keypair(d->pk, d->sk);
    crypto_box_keypair(d->xpk, d->xsk);
    dft_b64_encode(d->b64, d->pk, 32);
}

static void
die(const char *what)
{
    fprintf(stderr, "sync_load: %s\n", what);
    if (server > 0) {
        kill(server, SIGKILL);
    }
    exit(1);
}

static long
call(const struct dev *d, const char *method, const char *path, const unsigned char *body, size_t n,
     struct dft_buf *resp)
{
    struct sync_http h;
    struct sync_http_meta m;
    if (sync_http_init(&h, url, d->pk, sign_dev, (void *)(uintptr_t)d, NULL) != DFT_OK ||
        sync_http_raw(&h, method, path, body, n, NULL, &m, resp, NULL) != DFT_OK) {
        die("a request failed");
    }
    sync_http_release(&h);
    return m.status;
}

static void
post_op(const struct dev *signer, const struct dev *by, json_t *op, const char *path, long want)
{
    struct dft_buf p, resp;
    dft_buf_init(&p, MEMBER_JSON_MAX + 1024, 0);
    dft_buf_init(&resp, 1 << 20, 0);
    json_object_set_new(op, "by", json_string(signer->b64));
    if (member_seal_op(&chain, op, sign_dev, (void *)(uintptr_t)signer, &p, NULL) != DFT_OK) {
        die("cannot seal a membership operation");
    }
    json_decref(op);
    if (call(by, "POST", path, p.data, p.len, &resp) != want) {
        die("the server refused a membership operation");
    }
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
    uint64_t index = (uint64_t)json_integer_value(json_object_get(j, "index"));
    json_decref(j);
    if (member_apply(&chain, p.data, p.len, index, 0, NULL, NULL) != DFT_OK) {
        die("the chain refused our own operation");
    }
    dft_buf_release(&p);
    dft_buf_release(&resp);
}

static json_t *
sealed_for(const struct dev *d)
{
    unsigned char keys[64], box[MEMBER_SEALED_BYTES];
    char s[dft_b64_len(MEMBER_SEALED_BYTES)];
    randombytes_buf(keys, sizeof keys);
    crypto_box_seal(box, keys, sizeof keys, d->xpk);
    dft_b64_encode(s, box, sizeof box);
    json_t *o = json_object();
    json_object_set_new(o, d->b64, json_string(s));
    return o;
}

static void
make_collection(struct dev *owner, struct dev *devs, int n)
{
    unsigned char in[64], h[32], drop[32], nonce[32];
    char xk[64], dk[64], nk[64], path[128];
    randombytes_buf(nonce, sizeof nonce);
    memcpy(in, owner->pk, 32);
    memcpy(in + 32, nonce, 32);
    crypto_sha256_once(h, in, sizeof in);
    dft_hex_encode(cid, h, 16);
    member_chain_init(&chain, cid);
    randombytes_buf(drop, sizeof drop);
    dft_b64_encode(xk, owner->xpk, 32);
    dft_b64_encode(dk, drop, 32);
    dft_b64_encode(nk, nonce, 32);
    struct dft_buf p, resp;
    dft_buf_init(&p, MEMBER_JSON_MAX + 1024, 0);
    dft_buf_init(&resp, 1 << 20, 0);
    json_t *g = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:s}", "action", "genesis", "key",
                          owner->b64, "xkey", xk, "epoch", 0, "drop", dk, "nonce", nk, "sealed",
                          sealed_for(owner), "by", owner->b64);
    if (member_seal_op(&chain, g, sign_dev, owner, &p, NULL) != DFT_OK) {
        die("cannot seal the genesis");
    }
    json_decref(g);
    if (call(owner, "POST", "/v1/collections", p.data, p.len, &resp) != 201 ||
        member_apply(&chain, p.data, p.len, 0, 0, NULL, NULL) != DFT_OK) {
        die("cannot create the collection");
    }
    dft_buf_release(&p);
    dft_buf_release(&resp);
    snprintf(path, sizeof path, "/v1/c/%s/members", cid);
    for (int i = 0; i < n; i++) {
        struct dev inv;
        dev_new(&inv);
        post_op(owner, owner,
                json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", inv.b64, "role",
                          "editor", "expires", (json_int_t)(time(NULL) + 3600)),
                path, 200);
        dft_b64_encode(xk, devs[i].xpk, 32);
        post_op(&inv, &devs[i],
                json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "join", "key", devs[i].b64, "xkey", xk,
                          "role", "editor", "invite", inv.b64),
                path, 200);
    }
}

struct worker {
    pthread_t t;
    struct dev *d;
    int pushes;
    double *lat;  /* push latencies, seconds */
    double *plat; /* pull latencies */
    int done, pulls, failed;
    uint64_t pulled;
};

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof *v, cmp_d);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct sync_http h;
    struct sync_http_meta m;
    struct dft_buf resp;
    unsigned char env[5 + ENV_BYTES];
    char push_path[128], pull_path[160];
    uint64_t since = 0;
    dft_buf_init(&resp, (size_t)64 << 20, 0);
    if (sync_http_init(&h, url, w->d->pk, sign_dev, w->d, NULL) != DFT_OK) {
        w->failed++;
        return NULL;
    }
    snprintf(push_path, sizeof push_path, "/v1/c/%s/envelopes", cid);
    env[0] = 1;
    dft_be_put(env + 1, ENV_BYTES, 4);
    for (int i = 0; i < w->pushes && !stop_all; i++) {
        randombytes_buf(env + 5, ENV_BYTES); /* ciphertext-like: nothing compresses */
        dft_buf_reset(&resp);
        double t0 = bench_now();
        if (sync_http_raw(&h, "POST", push_path, env, sizeof env, NULL, &m, &resp, NULL) !=
                DFT_OK ||
            m.status != 200) {
            w->failed++;
            continue;
        }
        double t1 = bench_now();
        w->lat[w->done++] = t1 - t0;
        if ((i + 1) % PULL_EVERY == 0) {
            /* what is new since this client's last pull, one page */
            snprintf(pull_path, sizeof pull_path, "/v1/c/%s/envelopes?since=%llu&limit=1000", cid,
                     (unsigned long long)since);
            dft_buf_reset(&resp);
            t0 = bench_now();
            if (sync_http_raw(&h, "GET", pull_path, NULL, 0, NULL, &m, &resp, NULL) == DFT_OK &&
                m.status == 200) {
                w->plat[w->pulls++] = bench_now() - t0;
                size_t off = 0;
                while (off + 5 <= resp.len) {
                    off += 5 + (size_t)dft_be_get(resp.data + off + 1, 4);
                    since++;
                    w->pulled++;
                }
            } else {
                w->failed++;
            }
        }
        if (bench_now() > deadline) {
            stop_all = 1;
        }
        if (pause_ms > 0) {
            usleep((useconds_t)(pause_ms * 1000));
        }
    }
    sync_http_release(&h);
    dft_buf_release(&resp);
    return NULL;
}

static long
rss_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, fl) == 0) {
            v = strtol(line + fl + 1, NULL, 10);
        }
    }
    fclose(f);
    return v;
}

static void
spawn(const char *bin)
{
    int fds[2];
    if (pipe(fds) != 0) {
        die("pipe");
    }
    server = fork();
    if (server == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        if (db_url != NULL) {
            execl(bin, bin, "serve", "--listen", "127.0.0.1:0", "--data", dir, "--rate-device", "0",
                  "--rate-ip", "0", "--max-connections", "1024", "--db", db_url, (char *)NULL);
        } else {
            execl(bin, bin, "serve", "--listen", "127.0.0.1:0", "--data", dir, "--rate-device", "0",
                  "--rate-ip", "0", "--max-connections", "1024", (char *)NULL);
        }
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[1024], vkey[512];
    if (in == NULL || fgets(line, sizeof line, in) == NULL ||
        sscanf(line, "%127s %511s", url, vkey) != 2) {
        die("the server did not start");
    }
    fclose(in);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static long
envl(const char *name, long def)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? strtol(v, NULL, 10) : def;
}

/* The same envelopes straight into the same kind of store: one durable append each. */
static void
direct(uint64_t want, size_t batch, double bound, double *rate, uint64_t *n_out)
{
    const struct sync_log_ops *log = db_url != NULL ? &sync_log_pg : &sync_log_sqlite;
    char ddir[300], dcid[33];
    unsigned char r[16];
    void *s = NULL;
    uint64_t first;
    snprintf(ddir, sizeof ddir, "%s/direct-%zu", dir, batch);
    mkdir(ddir, 0700);
    if (log->open(&s, ddir, db_url, NULL) != DFT_OK) {
        die("cannot open the store for the direct figure");
    }
    randombytes_buf(r, sizeof r);
    dft_hex_encode(dcid, r, sizeof r);
    if (log->create(s, dcid, NULL) != DFT_OK) {
        die("cannot create a collection in the store");
    }
    unsigned char *many = malloc(batch * (5 + ENV_BYTES));
    const unsigned char **bodies = calloc(batch, sizeof *bodies);
    size_t *lens = calloc(batch, sizeof *lens);
    unsigned char(*leaves)[32] = calloc(batch, 32);
    if (many == NULL || bodies == NULL || lens == NULL || leaves == NULL) {
        die("out of memory");
    }
    uint64_t n = 0;
    double t0 = bench_now();
    while (n < want && bench_now() - t0 < bound) {
        for (size_t i = 0; i < batch; i++) {
            unsigned char *b = many + i * (5 + ENV_BYTES);
            b[0] = 1;
            dft_be_put(b + 1, ENV_BYTES, 4);
            randombytes_buf(b + 5, ENV_BYTES);
            crypto_leaf_hash(leaves[i], b, 5 + ENV_BYTES);
            bodies[i] = b;
            lens[i] = 5 + ENV_BYTES;
        }
        if (log->append(s, dcid, batch, bodies, lens, (const unsigned char(*)[32])leaves, &first,
                        NULL) != DFT_OK) {
            die("a direct append failed");
        }
        n += batch;
    }
    *rate = (double)n / (bench_now() - t0);
    *n_out = n;
    free(many);
    free(bodies);
    free(lens);
    free(leaves);
    log->close(s);
}

/* curl --aws-sigv4 putting every chunk file in one process (connection reused); seconds. */
static double
curl_round(const char *script, int inm)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "E=\"$DEFTER_TEST_S3_ENDPOINT\" A=\"$DEFTER_TEST_S3_ACCESS\" "
             "S=\"$DEFTER_TEST_S3_SECRET\" R=\"$DEFTER_TEST_S3_REGION\" INM=%s bash %s",
             inm ? "1" : "", script);
    FILE *p = popen(cmd, "r");
    double t = -1;
    if (p == NULL || fscanf(p, "%lf", &t) != 1) {
        t = -1;
    }
    if (p != NULL) {
        pclose(p);
    }
    return t;
}

/*
 * 1 MiB chunks through the S3 store beside curl --aws-sigv4 putting the same chunk bytes:
 * three rounds each, alternating (radosgw warms up), best of each. New names every round, so
 * no put is skipped as already there.
 */
static void
s3_compare(const char *s3url)
{
    enum { CHUNKS = 32, SIZE = 1 << 20, ROUNDS = 3 };
    void *s = NULL;
    struct dft_error err = {0};
    char ccid[33], name[65], path[400], cdir[300], script[400];
    unsigned char r[32];
    unsigned char *buf = malloc((size_t)CHUNKS * SIZE);
    if (buf == NULL || sync_blob_s3.open(&s, dir, s3url, &err) != DFT_OK) {
        fprintf(stderr, "sync_load: s3: %s\n", err.msg);
        free(buf);
        return;
    }
    snprintf(cdir, sizeof cdir, "%s/chunks-curl", dir);
    mkdir(cdir, 0700);
    randombytes_buf(buf, (size_t)CHUNKS * SIZE);
    for (int i = 0; i < CHUNKS; i++) {
        snprintf(path, sizeof path, "%s/%d", cdir, i);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(buf + (size_t)i * SIZE, 1, SIZE, f) != SIZE) {
            die("cannot write a chunk file");
        }
        fclose(f);
    }
    snprintf(script, sizeof script, "%s/curl.sh", dir);
    FILE *sh = fopen(script, "w");
    if (sh == NULL) {
        die("cannot write the curl script");
    }
    fprintf(sh,
            "set -e\nargs=()\nfor i in $(seq 0 %d); do\n"
            "  h=$(sha256sum %s/$i | cut -d' ' -f1)\n"
            "  [ $i -gt 0 ] && args+=(--next)\n"
            "  args+=(-s -o /dev/null --fail --noproxy '*' --aws-sigv4 \"aws:amz:$R:s3\" --user "
            "\"$A:$S\" -H \"x-amz-content-sha256: $h\" ${INM:+-H \"If-None-Match: *\"} -T %s/$i "
            "\"$E/defter-test/curl-$RANDOM$RANDOM-$i\")\n"
            "done\nt0=$(date +%%s.%%N)\ncurl \"${args[@]}\"\nt1=$(date +%%s.%%N)\n"
            "awk \"BEGIN{print $t1 - $t0}\"\n",
            CHUNKS - 1, cdir, cdir);
    fclose(sh);
    double best_store = 1e9, best_curl = 1e9, best_inm = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        randombytes_buf(r, 16);
        dft_hex_encode(ccid, r, 16);
        double t0 = bench_now();
        for (int i = 0; i < CHUNKS; i++) {
            randombytes_buf(r, sizeof r);
            dft_hex_encode(name, r, sizeof r);
            if (sync_blob_s3.put(s, ccid, name, buf + (size_t)i * SIZE, SIZE, &err) != DFT_OK) {
                fprintf(stderr, "sync_load: s3 put: %s\n", err.msg);
                die("s3");
            }
        }
        double t = bench_now() - t0;
        best_store = t < best_store ? t : best_store;
        t = curl_round(script, 0);
        if (t > 0 && t < best_curl) {
            best_curl = t;
        }
        t = curl_round(script, 1);
        if (t > 0 && t < best_inm) {
            best_inm = t;
        }
    }
    sync_blob_s3.close(s);
    free(buf);
    double mb = (double)CHUNKS * SIZE / 1e6;
    printf("chunk upload to radosgw, %d x 1 MiB, best of %d: S3 store %.3f s (%.0f MB/s), curl "
           "--aws-sigv4 %.3f s (%.0f MB/s): %.2fx curl's time (goal <= 1.5x)\n",
           CHUNKS, ROUNDS, best_store, mb / best_store, best_curl, mb / best_curl,
           best_store / best_curl);
    printf(
        "  curl with the store's keep-first condition (If-None-Match: *) %.3f s: the store takes "
        "%.2fx its time\n",
        best_inm, best_store / best_inm);
}

int
main(int argc, char **argv)
{
    const char *bin = argc >= 2 ? argv[1] : "build/release/defter";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "usage: sync_load [DEFTER_BIN] (default build/release/defter)\n");
        return 2;
    }
    if (sodium_init() < 0) {
        return 1;
    }
    int clients = (int)envl("SYNC_LOAD_CLIENTS", 50);
    int pushes = (int)envl("SYNC_LOAD_PUSHES", 2000);
    double bound = (double)envl("SYNC_LOAD_SECONDS", 120);
    int soak = envl("SYNC_LOAD_SOAK", 0) != 0;
    db_url = getenv("SYNC_LOAD_DB");
    if (db_url != NULL && db_url[0] == '\0') {
        db_url = NULL;
    }
    snprintf(dir, sizeof dir, "%s/defter-sync-load.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL || clients < 1 || pushes < 1) {
        die("bad settings");
    }
    pause_ms = envl("SYNC_LOAD_PAUSE_MS", 0);
    spawn(bin);
    struct dev owner;
    struct dev *devs = calloc((size_t)clients, sizeof *devs);
    struct worker *w = calloc((size_t)clients, sizeof *w);
    if (devs == NULL || w == NULL) {
        die("out of memory");
    }
    dev_new(&owner);
    for (int i = 0; i < clients; i++) {
        dev_new(&devs[i]);
    }
    make_collection(&owner, devs, clients);
    printf("sync_load: %d clients x %d pushes of %d-byte envelopes (+ a pull every %d), store %s, "
           "bound %.0f s%s\n",
           clients, pushes, ENV_BYTES, PULL_EVERY, db_url != NULL ? "postgresql" : "sqlite", bound,
           soak ? " (soak)" : "");
    fflush(stdout);

    long rss_first = -1, rss_last = -1;
    double t0 = bench_now(), next_sample = t0 + 60;
    deadline = t0 + bound;
    size_t total = 0, pulls = 0, failed = 0;
    uint64_t pulled = 0;
    double *all = NULL, *pall = NULL;
    size_t nall = 0, npall = 0;
    do {
        for (int i = 0; i < clients; i++) {
            free(w[i].lat);
            free(w[i].plat);
            memset(&w[i], 0, sizeof w[i]);
            w[i].d = &devs[i];
            w[i].pushes = pushes;
            w[i].lat = calloc((size_t)pushes, sizeof(double));
            w[i].plat = calloc((size_t)pushes / PULL_EVERY + 1, sizeof(double));
            if (w[i].lat == NULL || w[i].plat == NULL ||
                pthread_create(&w[i].t, NULL, work, &w[i]) != 0) {
                die("cannot start a client");
            }
        }
        for (int i = 0; i < clients; i++) {
            pthread_join(w[i].t, NULL);
            total += (size_t)w[i].done;
            pulls += (size_t)w[i].pulls;
            failed += (size_t)w[i].failed;
            pulled += w[i].pulled;
        }
        if (soak) {
            double now = bench_now();
            if (now >= next_sample) {
                long r = rss_kb(server, "VmRSS:");
                printf("  %5.0f s: %zu envelopes, server RSS %ld KiB\n", now - t0, total, r);
                fflush(stdout);
                if (rss_first < 0) {
                    rss_first = r;
                }
                rss_last = r;
                next_sample = now + 60;
            }
            stop_all = 0;
        }
    } while (soak && bench_now() < deadline);
    double wall = bench_now() - t0;
    if (!soak) {
        for (int i = 0; i < clients; i++) {
            nall += (size_t)w[i].done;
            npall += (size_t)w[i].pulls;
        }
        all = calloc(nall + 1, sizeof *all);
        pall = calloc(npall + 1, sizeof *pall);
        size_t a = 0, b = 0;
        for (int i = 0; i < clients; i++) {
            memcpy(all + a, w[i].lat, (size_t)w[i].done * sizeof(double));
            a += (size_t)w[i].done;
            memcpy(pall + b, w[i].plat, (size_t)w[i].pulls * sizeof(double));
            b += (size_t)w[i].pulls;
        }
    }
    long hwm = rss_kb(server, "VmHWM:"), rss = rss_kb(server, "VmRSS:");
    if (soak && rss_first > 0) {
        rss_last = rss; /* the end of the run, not the last minute's sample */
    }
    double rate = (double)total / wall;
    printf("server: %zu durable envelopes in %.1f s = %.0f envelopes/s%s; %zu pulls (%llu "
           "entries); %zu failed requests\n",
           total, wall, rate, stop_all && !soak ? " (stopped at the bound)" : "", pulls,
           (unsigned long long)pulled, failed);
    if (!soak) {
        printf("  push latency p50 %.1f ms, p99 %.1f ms (goal <= 50 ms); pull p50 %.1f ms, p99 "
               "%.1f ms\n",
               pct(all, nall, 0.50) * 1e3, pct(all, nall, 0.99) * 1e3, pct(pall, npall, 0.50) * 1e3,
               pct(pall, npall, 0.99) * 1e3);
    }
    printf("  server RSS: peak %.1f MiB, now %.1f MiB\n", (double)hwm / 1024, (double)rss / 1024);
    if (soak && rss_first > 0) {
        printf("  soak: RSS %ld KiB after the first minute, %ld KiB at the end: growth %.1f %% "
               "(goal <= 10 %%)\n",
               rss_first, rss_last, 100.0 * (double)(rss_last - rss_first) / (double)rss_first);
    }
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    server = 0;
    if (!soak) {
        double drate;
        uint64_t dn;
        double brate;
        uint64_t bn;
        direct(total, 1, 30, &drate, &dn);
        direct(total, (size_t)clients, 30, &brate, &bn);
        printf("direct: %llu envelopes appended straight into the %s store, one durable append "
               "each: %.0f envelopes/s; %d per append (a full group commit): %.0f envelopes/s\n",
               (unsigned long long)dn, db_url != NULL ? "postgresql" : "sqlite", drate, clients,
               brate);
        printf("ratio: server %.0f / direct %.0f = %.0f %%; / direct in groups of %d %.0f = %.0f "
               "%% (goals: >= 5,000/s on SQLite, >= 50 %% of direct)\n",
               rate, drate, 100.0 * rate / drate, clients, brate, 100.0 * rate / brate);
        const char *s3 = getenv("SYNC_LOAD_S3");
        if (s3 != NULL && s3[0] != '\0') {
            s3_compare(s3);
        }
    }
    for (int i = 0; i < clients; i++) {
        free(w[i].lat);
        free(w[i].plat);
    }
    free(all);
    free(pall);
    free(w);
    free(devs);
    member_chain_release(&chain);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
