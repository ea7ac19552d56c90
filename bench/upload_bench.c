/*
 * upload_bench.c - evidence through `defter ui` beside the same bytes without HTTP: a
 * multipart upload over loopback (libcurl -> libmicrohttpd's post processor -> the streaming
 * writer) against dft_evidence_writer fed 64 KiB pieces from memory and `openssl dgst -sha256`
 * of the same file, then the full download (range decryption) and one 1 MiB range.
 *
 * Usage: upload_bench [DIR]  (default build/bench-upload); UPLOAD_BENCH_MIB (default 256).
 * Prints the best of 3 runs. Never touches anything outside DIR/defter-upload-*.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "bench.h"
#include "evidence/evidence.h"
#include "defter/server.h"
#include "defter/vault.h"
#include "vault/vault_internal.h"

#define RUNS  3
#define PIECE 65536

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

struct sink {
    char *p;
    size_t len, max;
};

static size_t
on_data(char *p, size_t sz, size_t n, void *cls)
{
    struct sink *s = cls;
    size_t k = sz * n;
    if (s->p != NULL) {
        size_t take = s->len + k <= s->max ? k : s->max - s->len;
        memcpy(s->p + s->len, p, take);
    }
    s->len += k;
    return k;
}

static char cookie[256], csrf_hdr[128], origin[96], base[64];

static long
request(const char *method, const char *path, const char *const *hdrs, curl_mime *mime,
        struct sink *body, struct sink *head)
{
    char url[256];
    long status = -1;
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (head != NULL) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, head);
    }
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++) {
        hl = curl_slist_append(hl, hdrs[i]);
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (mime != NULL) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return status;
}

int
main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "build/bench-upload";
    const char *mib_s = getenv("UPLOAD_BENCH_MIB");
    size_t mib = mib_s != NULL ? (size_t)strtoul(mib_s, NULL, 10) : 256;
    size_t n = mib << 20;
    char dir[512], vdir[600], objects[600], in[600], cmd[1400], path[256];
    struct dft_error e = {0};
    struct dft_vault *v = NULL;
    struct dft_ui *ui = NULL;
    double best_http = 1e9, best_writer = 1e9, best_dgst = 1e9, best_get = 1e9, best_range = 1e9;

    if (dft_crypto_init(&e) != DFT_OK) {
        return 1;
    }
    dft_json_wipe_on_free();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mkdir(root, 0700);
    snprintf(dir, sizeof dir, "%s/defter-upload-%d", root, (int)getpid());
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    snprintf(objects, sizeof objects, "%s/objects", dir);
    snprintf(in, sizeof in, "%s/input.bin", dir);
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        return 1;
    }
    unsigned char *data = malloc(n);
    randombytes_buf(data, n);
    FILE *fp = fopen(in, "wb");
    fwrite(data, 1, n, fp);
    fclose(fp);

    if (dft_vault_create(vdir, "bench", 5, DFT_KDF_INTERACTIVE, &e) != DFT_OK ||
        dft_vault_open(&v, vdir, "bench", 5, &e) != DFT_OK ||
        dft_ui_start(&ui, v, vdir, 0, &e) != DFT_OK) {
        fprintf(stderr, "upload_bench: %s\n", e.msg);
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)dft_ui_port(ui));
    snprintf(origin, sizeof origin, "Origin: %s", base);
    /* session: exchange the token, then read the CSRF token */
    struct sink head = {malloc(8192), 0, 8191}, body = {malloc(1 << 16), 0, (1 << 16) - 1};
    request("GET", strstr(dft_ui_url(ui), "/?t="), NULL, NULL, &body, &head);
    head.p[head.len < head.max ? head.len : head.max] = '\0';
    char *sc = strstr(head.p, "defter_session=");
    snprintf(cookie, sizeof cookie, "Cookie: %.*s", (int)strcspn(sc, ";\r\n"), sc);
    const char *h1[] = {cookie, NULL};
    body.len = 0;
    request("GET", "/api/session", h1, NULL, &body, NULL);
    body.p[body.len] = '\0';
    json_t *j = json_loads(body.p, 0, NULL);
    snprintf(csrf_hdr, sizeof csrf_hdr, "X-CSRF-Token: %s",
             json_string_value(json_object_get(j, "csrf")));
    json_decref(j);
    const char *h2[] = {cookie, origin, csrf_hdr, "Content-Type: application/json", NULL};
    body.len = 0;
    {
        CURL *c = curl_easy_init();
        struct curl_slist *hl = NULL;
        char url[256];
        snprintf(url, sizeof url, "%s/api/records", base);
        for (size_t i = 0; h2[i] != NULL; i++) {
            hl = curl_slist_append(hl, h2[i]);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"type\":\"case\",\"title\":\"Bench\"}");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_perform(c);
        curl_slist_free_all(hl);
        curl_easy_cleanup(c);
    }
    body.p[body.len] = '\0';
    j = json_loads(body.p, 0, NULL);
    char rec[DFT_ID_MAX];
    snprintf(rec, sizeof rec, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);

    char evid[DFT_ID_MAX] = "";
    const char *h3[] = {cookie, origin, csrf_hdr, NULL};
    for (int r = 0; r < RUNS; r++) {
        /* HTTP upload of the whole file from memory */
        CURL *mc = curl_easy_init();
        curl_mime *mime = curl_mime_init(mc);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filename(part, "bench.bin");
        curl_mime_data(part, (const char *)data, n);
        snprintf(path, sizeof path, "/api/records/%s/evidence", rec);
        body.len = 0;
        double t0 = bench_now();
        long st = request("POST", path, h3, mime, &body, NULL);
        double t = bench_now() - t0;
        curl_mime_free(mime);
        curl_easy_cleanup(mc);
        if (st != 201) {
            fprintf(stderr, "upload_bench: upload answered %ld\n", st);
            return 1;
        }
        best_http = t < best_http ? t : best_http;
        body.p[body.len < body.max ? body.len : body.max] = '\0';
        j = json_loads(body.p, 0, NULL);
        snprintf(evid, sizeof evid, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);

        /* the writer alone, 64 KiB pieces from memory, into its own directory */
        struct dft_evidence_writer *w = NULL;
        struct dft_evidence_info info;
        t0 = bench_now();
        if (evidence_writer_open(&w, objects, UINT64_MAX, &e) != DFT_OK) {
            return 1;
        }
        for (size_t off = 0; off < n; off += PIECE) {
            if (dft_evidence_writer_write(w, data + off, n - off < PIECE ? n - off : PIECE, &e) !=
                DFT_OK) {
                return 1;
            }
        }
        if (evidence_writer_finish(w, vault_keys(v), &info, &e) != DFT_OK) {
            return 1;
        }
        t = bench_now() - t0;
        best_writer = t < best_writer ? t : best_writer;
        char obj[900];
        snprintf(obj, sizeof obj, "%s/%.2s/%s", objects, info.object, info.object);
        unlink(obj);
        evidence_info_release(&info);

        snprintf(cmd, sizeof cmd, "openssl dgst -sha256 '%s' > /dev/null", in);
        t0 = bench_now();
        if (system(cmd) != 0) {
            return 1;
        }
        t = bench_now() - t0;
        best_dgst = t < best_dgst ? t : best_dgst;

        /* download everything (decrypting chunk by chunk) and one range in the middle */
        struct sink all = {NULL, 0, 0};
        snprintf(path, sizeof path, "/api/evidence/%s/content", evid);
        t0 = bench_now();
        if (request("GET", path, h1, NULL, &all, NULL) != 200 || all.len != n) {
            fprintf(stderr, "upload_bench: download failed\n");
            return 1;
        }
        t = bench_now() - t0;
        best_get = t < best_get ? t : best_get;
        char range[96];
        snprintf(range, sizeof range, "Range: bytes=%zu-%zu", n / 2 + 12345,
                 n / 2 + 12345 + (1u << 20) - 1);
        const char *h4[] = {cookie, range, NULL};
        all.len = 0;
        t0 = bench_now();
        if (request("GET", path, h4, NULL, &all, NULL) != 206 || all.len != (1u << 20)) {
            fprintf(stderr, "upload_bench: range failed\n");
            return 1;
        }
        t = bench_now() - t0;
        best_range = t < best_range ? t : best_range;
    }
    double gb = (double)n / 1e9;
    printf("\n[%s] %zu MiB random, loopback, best of %d\n", root, mib, RUNS);
    printf("  openssl dgst -sha256          %7.3f s  %5.2f GB/s\n", best_dgst, gb / best_dgst);
    printf("  writer, 64 KiB pieces         %7.3f s  %5.2f GB/s  writer/dgst = %.2f\n", best_writer,
           gb / best_writer, best_writer / best_dgst);
    printf("  HTTP multipart upload         %7.3f s  %5.2f GB/s  upload/writer = %.2f\n", best_http,
           gb / best_http, best_http / best_writer);
    printf("  HTTP download (decrypt)       %7.3f s  %5.2f GB/s\n", best_get, gb / best_get);
    printf("  HTTP 1 MiB range, mid-file    %7.4f s\n", best_range);
    dft_ui_free(ui);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(data);
    free(head.p);
    free(body.p);
    curl_global_cleanup();
    return 0;
}
