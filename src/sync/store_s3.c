/*
 * store_s3.c - evidence chunks in an S3-compatible service through libcurl (--objects s3://...).
 *
 * URL: s3://[ACCESS:SECRET@]HOST[:PORT]/BUCKET[/PREFIX][?region=R][&scheme=http]
 *   ACCESS and SECRET are percent-decoded; without them the environment's
 *   DEFTER_S3_ACCESS_KEY and DEFTER_S3_SECRET_KEY (else AWS_ACCESS_KEY_ID and
 *   AWS_SECRET_ACCESS_KEY) are used. region defaults to us-east-1 (radosgw takes any name of
 *   its zonegroup); scheme defaults to https, `scheme=http` is for a service on loopback.
 * A chunk lives at BUCKET/PREFIX/CID/NAME, requested path-style (http://HOST:PORT/BUCKET/...),
 * so no DNS name per bucket is needed. The bucket is created at open when missing, which also
 * checks the credentials before the server takes requests.
 *
 * Every request is signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"). libcurl
 * 7.88 does not send x-amz-content-sha256 (curl #8810) and radosgw answers 403 without it, so
 * we send the payload's SHA-256 ourselves; the service then rejects a body that does not match
 * it (400 XAmzContentSHA256Mismatch) rather than storing a damaged chunk.
 *
 * put keeps the first object of a name: If-None-Match: * (a 412 means it is there already).
 * Refusals become one clear error naming the HTTP status and the service's error code (403
 * SignatureDoesNotMatch: wrong secret), never the secret or the body.
 *
 * Must never: log a body or the secret, follow a redirect to another host, store a chunk
 * under a name built from unchecked input (cid and name are restricted to [0-9A-Za-z_-]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "sync/storage.h"
#include "sync/store_s3.h"

#define S3_NAME_MAX     128
#define S3_ERRBODY_MAX  4096
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_store {
    CURL *curl;      /* one handle: its connection is kept alive between calls */
    char *base;      /* scheme://host:port/bucket (no trailing slash) */
    char *prefix;    /* "" or "p/q/" */
    char *sigv4;     /* aws:amz:REGION:s3 */
    char *userpwd;   /* ACCESS:SECRET in sodium_malloc memory */
    char where[160]; /* host:port/bucket, for messages */
};

struct sink {
    struct dft_buf *out; /* the object (GET) or NULL */
    struct dft_buf err;  /* an error document, capped */
    int ok;              /* status 2xx: bytes go to out */
    long status;
};

static int
name_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-' || ch == '_')) {
            return 0;
        }
    }
    return 1;
}

/* The value of key in a query string "a=1&b=2" (not decoded; our keys take plain values). */
static int
query_get(const char *q, const char *key, char *out, size_t max)
{
    size_t k = strlen(key);
    while (q != NULL && *q != '\0') {
        size_t n = strcspn(q, "&");
        if (n > k && strncmp(q, key, k) == 0 && q[k] == '=') {
            size_t v = n - k - 1;
            if (v >= max) {
                return -1;
            }
            memcpy(out, q + k + 1, v);
            out[v] = '\0';
            return 1;
        }
        q += n;
        if (*q == '&') {
            q++;
        }
    }
    return 0;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *cls)
{
    struct sink *k = cls;
    size_t len = sz * n;
    if (k->ok && k->out != NULL) {
        if (dft_buf_add(k->out, p, len) != DFT_OK) {
            return 0; /* over the cap: curl stops with CURLE_WRITE_ERROR */
        }
        return len;
    }
    size_t room = k->err.max - k->err.len;
    if (dft_buf_add(&k->err, p, len < room ? len : room) != DFT_OK) {
        return 0;
    }
    return len;
}

/* The first status line decides where the body goes; later lines (100 Continue) too. */
static size_t
on_header(char *p, size_t sz, size_t n, void *cls)
{
    struct sink *k = cls;
    size_t len = sz * n;
    if (len > 9 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        if (sp != NULL && (size_t)(sp - p) + 4 <= len) {
            k->status = strtol(sp + 1, NULL, 10);
            k->ok = k->status >= 200 && k->status < 300;
        }
    }
    return len;
}

/* The <Code> of an S3 error document, or "" (copied into out, printable ASCII only). */
static void
error_code(const struct dft_buf *b, char *out, size_t max)
{
    out[0] = '\0';
    if (b->data == NULL) {
        return;
    }
    const char *s = strstr((const char *)b->data, "<Code>");
    if (s == NULL) {
        return;
    }
    s += 6;
    size_t i = 0;
    while (i + 1 < max && s[i] != '\0' && s[i] != '<' && s[i] >= 0x21 && s[i] <= 0x7e) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
}

static void
sha256_hex(const unsigned char *p, size_t n, char out[65], struct dft_error *err, int *fail)
{
    struct crypto_sha256 h;
    unsigned char d[DFT_HASH_BYTES];
    *fail = 0;
    if (crypto_sha256_init(&h, err) != DFT_OK) {
        *fail = 1;
        return;
    }
    crypto_sha256_update(&h, p, n);
    crypto_sha256_final(&h, d);
    crypto_sha256_release(&h);
    dft_hex_encode(out, d, sizeof d);
}

struct upload {
    const unsigned char *p;
    size_t n, off;
};

static size_t
on_read(char *buf, size_t sz, size_t n, void *cls)
{
    struct upload *u = cls;
    size_t take = sz * n;
    if (take > u->n - u->off) {
        take = u->n - u->off;
    }
    memcpy(buf, u->p + u->off, take);
    u->off += take;
    return take;
}

/*
 * One signed request. method "GET", "HEAD" or "PUT"; key NULL for the bucket itself. For a PUT
 * body/n is sent with its SHA-256; extra is one more header or NULL. *status gets the answer.
 */
static enum dft_err
request(struct s3_store *s, const char *method, const char *key, const unsigned char *body,
        size_t n, const char *extra, struct dft_buf *out, long *status, char code[64],
        struct dft_error *err)
{
    char url[1024], hdr[128];
    struct curl_slist *hl = NULL;
    struct upload up = {body, n, 0};
    struct sink k = {.out = out};
    CURL *c = s->curl;
    enum dft_err rc = DFT_OK;
    int is_put = strcmp(method, "PUT") == 0;
    int fail = 0;
    char sha[65];

    dft_buf_init(&k.err, S3_ERRBODY_MAX, 0);
    code[0] = '\0';
    *status = 0;
    if (key != NULL) {
        snprintf(url, sizeof url, "%s/%s%s", s->base, s->prefix, key);
    } else {
        /* the bucket: a GET lists at most one key (a HEAD would carry no error code) */
        snprintf(url, sizeof url, "%s%s", s->base, is_put ? "" : "?max-keys=1");
    }
    if (is_put && body != NULL) {
        sha256_hex(body, n, sha, err, &fail);
        if (fail) {
            return DFT_ERR_NOMEM;
        }
    } else {
        memcpy(sha, S3_EMPTY_SHA256, sizeof sha);
    }
    snprintf(hdr, sizeof hdr, "x-amz-content-sha256: %s", sha);
    struct curl_slist *t = curl_slist_append(hl, hdr);
    if (t != NULL) {
        hl = t;
        if (extra != NULL) {
            t = curl_slist_append(hl, extra);
        }
    }
    if (t == NULL) {
        curl_slist_free_all(hl);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &k);
    if (is_put) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
        /*
         * Keep libcurl's "Expect: 100-continue" and wait for the answer as curl does: an empty
         * "Expect:" header to drop it is signed by libcurl 7.88 but left out (403), and a zero
         * wait made 1 MiB puts 2-3x slower than curl --aws-sigv4 (bench/sync_load).
         */
        curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
        curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR && k.ok && out != NULL) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "s3 %s: an object is over the chunk size",
                          s->where);
        } else {
            rc = dft_fail(err, DFT_ERR_IO, "cannot reach s3 %s: %s", s->where,
                          curl_easy_strerror(cc));
        }
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (*status < 200 || *status >= 300) {
        error_code(&k.err, code, 64);
    }
out:
    curl_slist_free_all(hl);
    dft_buf_release(&k.err);
    return rc;
}

/* A refusal in one line: status, the service's code, what it means for the usual ones. */
static enum dft_err
refused(struct s3_store *s, const char *what, long status, const char *code, struct dft_error *err)
{
    const char *why = "";
    if (strcmp(code, "SignatureDoesNotMatch") == 0) {
        why = ": wrong secret key";
    } else if (strcmp(code, "InvalidAccessKeyId") == 0) {
        why = ": unknown access key";
    } else if (strcmp(code, "AccessDenied") == 0) {
        why = ": access denied";
    } else if (strcmp(code, "XAmzContentSHA256Mismatch") == 0 || strcmp(code, "BadDigest") == 0) {
        why = ": the body did not arrive intact";
    } else if (strcmp(code, "RequestTimeTooSkewed") == 0) {
        why = ": this machine's clock is off";
    }
    enum dft_err c = DFT_ERR_IO;
    if (strstr(why, "intact") != NULL) {
        c = DFT_ERR_INTEGRITY;
    }
    return dft_fail(err, c, "s3 %s refused %s (%ld%s%s)%s", s->where, what, status,
                    code[0] != '\0' ? " " : "", code, why);
}

static void
s3_close(void *self)
{
    struct s3_store *s = self;
    if (s == NULL) {
        return;
    }
    if (s->curl != NULL) {
        curl_easy_cleanup(s->curl);
    }
    free(s->base);
    free(s->prefix);
    free(s->sigv4);
    if (s->userpwd != NULL) {
        sodium_free(s->userpwd);
    }
    free(s);
}

/* ACCESS:SECRET into sodium_malloc memory; the inputs are wiped by the caller. */
static enum dft_err
set_userpwd(struct s3_store *s, const char *user, const char *pass, struct dft_error *err)
{
    size_t a = strlen(user), b = strlen(pass);
    if (a == 0 || b == 0 || memchr(user, ':', a) != NULL) {
        return dft_fail(err, DFT_ERR_USAGE,
                        "--objects needs s3 credentials: s3://ACCESS:SECRET@HOST/BUCKET or "
                        "DEFTER_S3_ACCESS_KEY and DEFTER_S3_SECRET_KEY");
    }
    if (sodium_init() < 0 || (s->userpwd = sodium_malloc(a + b + 2)) == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(s->userpwd, user, a);
    s->userpwd[a] = ':';
    memcpy(s->userpwd + a + 1, pass, b + 1);
    return DFT_OK;
}

static const char *
env2(const char *a, const char *b)
{
    const char *v = getenv(a);
    return v != NULL && v[0] != '\0' ? v : getenv(b);
}

static enum dft_err
parse_url(struct s3_store *s, const char *url, struct dft_error *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL, *pass = NULL;
    char region[64] = "us-east-1", scheme[8] = "https";
    enum dft_err rc = DFT_OK;
    const char *bad = "--objects wants s3://[ACCESS:SECRET@]HOST[:PORT]/BUCKET[?region=R]";

    if (u == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (strncmp(url, "s3://", 5) != 0 ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        rc = dft_fail(err, DFT_ERR_USAGE, "%s", bad);
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
    (void)curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
    (void)curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
    if (query != NULL && (query_get(query, "region", region, sizeof region) < 0 ||
                          query_get(query, "scheme", scheme, sizeof scheme) < 0)) {
        rc = dft_fail(err, DFT_ERR_USAGE, "%s", bad);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = dft_fail(err, DFT_ERR_USAGE, "--objects: scheme is http or https");
        goto out;
    }
    for (const char *r = region; *r != '\0'; r++) {
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-')) {
            rc = dft_fail(err, DFT_ERR_USAGE, "--objects: malformed region");
            goto out;
        }
    }
    /* /bucket[/prefix...]: each segment a plain name */
    const char *p = path + 1;
    size_t blen = strcspn(p, "/");
    char bucket[64];
    if (path[0] != '/' || blen < 3 || blen >= sizeof bucket) {
        rc = dft_fail(err, DFT_ERR_USAGE, "%s", bad);
        goto out;
    }
    memcpy(bucket, p, blen);
    bucket[blen] = '\0';
    for (size_t i = 0; i < blen; i++) {
        char ch = bucket[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
            rc = dft_fail(err, DFT_ERR_USAGE, "--objects: malformed bucket name");
            goto out;
        }
    }
    const char *pre = p + blen;
    while (*pre == '/') {
        pre++;
    }
    size_t plen = strlen(pre);
    while (plen > 0 && pre[plen - 1] == '/') {
        plen--;
    }
    for (size_t i = 0; i < plen; i++) {
        char ch = pre[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == '/') ||
            (ch == '.' && (i == 0 || pre[i - 1] == '/'))) {
            rc = dft_fail(err, DFT_ERR_USAGE, "--objects: malformed key prefix");
            goto out;
        }
    }
    size_t blen2 = strlen(scheme) + strlen(host) + 32 + blen;
    s->base = malloc(blen2);
    s->prefix = malloc(plen + 2);
    s->sigv4 = malloc(strlen(region) + 16);
    if (s->base == NULL || s->prefix == NULL || s->sigv4 == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(s->base, blen2, "%s://%s%s%s/%s", scheme, host, port != NULL ? ":" : "",
             port != NULL ? port : "", bucket);
    memcpy(s->prefix, pre, plen);
    s->prefix[plen] = '\0';
    if (plen > 0) {
        s->prefix[plen] = '/';
        s->prefix[plen + 1] = '\0';
    }
    snprintf(s->sigv4, strlen(region) + 16, "aws:amz:%s:s3", region);
    snprintf(s->where, sizeof s->where, "%s%s%s/%s", host, port != NULL ? ":" : "",
             port != NULL ? port : "", bucket);
    if (user != NULL && user[0] != '\0') {
        rc = set_userpwd(s, user, pass != NULL ? pass : "", err);
    } else {
        const char *a = env2("DEFTER_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID");
        const char *b = env2("DEFTER_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY");
        rc = set_userpwd(s, a != NULL ? a : "", b != NULL ? b : "", err);
    }
out:
    if (pass != NULL) {
        sodium_memzero(pass, strlen(pass));
    }
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return rc;
}

enum dft_err
sync_s3_url_check(const char *url, const char *error_doc, char code[64], struct dft_error *err)
{
    struct s3_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = parse_url(s, url, err);
    if (error_doc != NULL) {
        struct dft_buf b;
        dft_buf_init(&b, S3_ERRBODY_MAX, 0);
        if (dft_buf_adds(&b, error_doc) == DFT_OK) {
            error_code(&b, code, 64);
        }
        dft_buf_release(&b);
    }
    s3_close(s);
    return rc;
}

static enum dft_err
s3_open(void **self, const char *data_dir, const char *url, struct dft_error *err)
{
    (void)data_dir;
    *self = NULL;
    if (url == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "--objects wants an s3:// URL");
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot start libcurl");
    }
    struct s3_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = parse_url(s, url, err);
    long status;
    char code[64];
    if (rc != DFT_OK) {
        goto out;
    }
    if ((s->curl = curl_easy_init()) == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* the bucket: there (200), or ours to create (404); anything else is a refusal */
    rc = request(s, "GET", NULL, NULL, 0, NULL, NULL, &status, code, err);
    if (rc == DFT_OK && status == 404) {
        rc = request(s, "PUT", NULL, NULL, 0, NULL, NULL, &status, code, err);
        if (rc == DFT_OK && status == 409) {
            status = 200; /* created meanwhile (BucketAlreadyOwnedByYou) */
        }
    }
    if (rc == DFT_OK && (status < 200 || status >= 300)) {
        rc = refused(s, "the bucket", status, code, err);
    }
out:
    if (rc != DFT_OK) {
        s3_close(s);
        return rc;
    }
    *self = s;
    return DFT_OK;
}

static enum dft_err
object_key(const char *cid, const char *name, char *key, size_t max, struct dft_error *err)
{
    if (!name_ok(cid, SYNC_CID_MAX)) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed collection id");
    }
    if (!name_ok(name, S3_NAME_MAX)) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed chunk name");
    }
    snprintf(key, max, "%s/%s", cid, name);
    return DFT_OK;
}

static enum dft_err
s3_put(void *self, const char *cid, const char *name, const unsigned char *body, size_t n,
       struct dft_error *err)
{
    struct s3_store *s = self;
    char key[SYNC_CID_MAX + S3_NAME_MAX + 2], code[64];
    long status;
    enum dft_err rc = object_key(cid, name, key, sizeof key, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (n > SYNC_CHUNK_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "a chunk is over %u bytes", SYNC_CHUNK_MAX);
    }
    rc = request(s, "PUT", key, body != NULL ? body : (const unsigned char *)"", n,
                 "If-None-Match: *", NULL, &status, code, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (status == 412 || (status >= 200 && status < 300)) {
        return DFT_OK; /* 412: the first one of this name is kept */
    }
    return refused(s, "a chunk", status, code, err);
}

static enum dft_err
s3_get(void *self, const char *cid, const char *name, struct dft_buf *out, struct dft_error *err)
{
    struct s3_store *s = self;
    char key[SYNC_CID_MAX + S3_NAME_MAX + 2], code[64];
    long status;
    size_t old = out->len;
    enum dft_err rc = object_key(cid, name, key, sizeof key, err);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = request(s, "GET", key, NULL, 0, NULL, out, &status, code, err);
    if (rc == DFT_OK && status == 404) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no chunk '%s'", name);
    } else if (rc == DFT_OK && (status < 200 || status >= 300)) {
        rc = refused(s, "a read", status, code, err);
    }
    if (rc != DFT_OK) {
        out->len = old;
        if (out->data != NULL) {
            out->data[old] = '\0';
        }
    }
    return rc;
}

const struct sync_blob_ops sync_blob_s3 = {
    .name = "s3",
    .open = s3_open,
    .close = s3_close,
    .put = s3_put,
    .get = s3_get,
};
