/*
 * client_http.c - signed requests to a sync server through libcurl (client.h).
 *
 * Every request carries Content-Digest, Signature-Input and Signature (httpsig.c) over the
 * exact URL it is sent to. It must never follow redirects (a redirected request would carry a
 * signature for another URI) and never send anything but what the caller gave it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sync/client.h"

enum dft_err
sync_http_init(struct sync_http *h, const char *base_url, const unsigned char pub[32],
               httpsig_sign_fn sign, void *ctx, struct dft_error *err)
{
    memset(h, 0, sizeof *h);
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/') {
        n--;
    }
    if (n == 0 || n >= sizeof h->base || strncmp(base_url, "http://", 7) != 0) {
        return dft_fail(err, DFT_ERR_USAGE, "server URL must be http://HOST:PORT");
    }
    memcpy(h->base, base_url, n);
    h->base[n] = '\0';
    if (strchr(h->base + 7, '/') != NULL || strchr(h->base, '?') != NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "server URL must be http://HOST:PORT without a path");
    }
    memcpy(h->pub, pub, 32);
    h->sign = sign;
    h->sign_ctx = ctx;
    h->retries = 5;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot start libcurl");
    }
    return DFT_OK;
}

void
sync_http_release(struct sync_http *h)
{
    if (h->curl != NULL) {
        curl_easy_cleanup(h->curl);
    }
    h->curl = NULL;
}

void
sync_http_url(const struct sync_http *h, const char *path, char *out, size_t max)
{
    snprintf(out, max, "%s%s", h->base, path);
}

struct sink {
    struct dft_buf *b;
    int too_large;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb;
    if (s->b != NULL && dft_buf_add(s->b, p, n) != DFT_OK) {
        s->too_large = 1;
        return 0;
    }
    return n;
}

static uint64_t
parse_u64(const char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    return v;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct sync_http_meta *m = ctx;
    size_t n = size * nmemb;
    if (n > 16 && strncasecmp(p, "X-Defter-First:", 15) == 0) {
        m->first = parse_u64(p + 16, n - 16);
    } else if (n > 15 && strncasecmp(p, "X-Defter-Size:", 14) == 0) {
        m->size = parse_u64(p + 15, n - 15);
    } else if (n > 13 && strncasecmp(p, "Retry-After:", 12) == 0) {
        m->retry_after = (unsigned)parse_u64(p + 13, n - 13);
    }
    return n;
}

enum dft_err
sync_http_raw(struct sync_http *h, const char *method, const char *path, const unsigned char *body,
              size_t n, const struct httpsig_headers *hdrs, struct sync_http_meta *meta,
              struct dft_buf *resp, struct dft_error *err)
{
    char url[SYNC_URL_MAX + 1024];
    char line[HTTPSIG_HEADER_MAX + 32];
    struct httpsig_headers own;
    struct curl_slist *list = NULL;
    enum dft_err rc = DFT_OK;
    CURL *c = h->curl;
    memset(meta, 0, sizeof *meta);
    if (strlen(path) > 1000) {
        return dft_fail(err, DFT_ERR_INPUT, "request path too long");
    }
    sync_http_url(h, path, url, sizeof url);
    if (hdrs == NULL) {
        int64_t now = h->clock != NULL ? h->clock() : (int64_t)time(NULL);
        if ((rc = httpsig_sign(&own, method, url, body, n, h->pub, now, NULL, h->sign, h->sign_ctx,
                               err)) != DFT_OK) {
            return rc;
        }
        hdrs = &own;
    }
    snprintf(line, sizeof line, "Content-Digest: %s", hdrs->digest);
    list = curl_slist_append(list, line);
    snprintf(line, sizeof line, "Signature-Input: %s", hdrs->input);
    list = curl_slist_append(list, line);
    snprintf(line, sizeof line, "Signature: %s", hdrs->signature);
    list = curl_slist_append(list, line);
    list = curl_slist_append(list, "Content-Type: application/octet-stream");
    list = curl_slist_append(list, "Expect:");
    struct sink sk = {resp, 0};
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sk);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, meta);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, n > 0 ? (const char *)body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (sk.too_large) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "server answer is too large");
    }
    if (cc != CURLE_OK) {
        return dft_fail(err, DFT_ERR_IO, "cannot reach the server %s: %s", h->base,
                        curl_easy_strerror(cc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &meta->status);
    return DFT_OK;
}

enum dft_err
sync_http_call(struct sync_http *h, const char *method, const char *path, const unsigned char *body,
               size_t n, struct sync_http_meta *meta, struct dft_buf *resp, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    for (int attempt = 0;; attempt++) {
        size_t mark = resp != NULL ? resp->len : 0;
        if ((rc = sync_http_raw(h, method, path, body, n, NULL, meta, resp, err)) != DFT_OK) {
            return rc;
        }
        if (meta->status == 429 && attempt < h->retries) {
            if (resp != NULL) {
                resp->len = mark;
            }
            sleep(meta->retry_after > 0 && meta->retry_after < 60 ? meta->retry_after : 1);
            continue;
        }
        break;
    }
    if (meta->status >= 200 && meta->status < 300) {
        return DFT_OK;
    }
    const char *msg = "";
    json_t *j = NULL;
    if (resp != NULL && resp->len > 0) {
        j = json_loadb((const char *)resp->data, resp->len, 0, NULL);
        msg = json_string_value(json_object_get(j, "error"));
        if (msg == NULL) {
            msg = "";
        }
    }
    enum dft_err code = meta->status == 401 || meta->status == 403 ? DFT_ERR_INPUT
                        : meta->status == 404                      ? DFT_ERR_NOT_FOUND
                        : meta->status == 413                      ? DFT_ERR_TOO_LARGE
                                                                   : DFT_ERR_IO;
    rc = dft_fail(err, code, "server refused %s %s: %ld %.160s", method, path, meta->status, msg);
    json_decref(j);
    return rc;
}
