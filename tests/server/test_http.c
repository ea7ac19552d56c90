/*
 * test_http.c - `defter ui` over real HTTP on 127.0.0.1 (libcurl against the running server):
 * the token exchange and session cookie, Host, Origin and CSRF checks, path traversal, size
 * caps, malformed bodies, security headers, lock/unlock and the JSON API. Every refused request
 * must leave the vault unchanged (same records, same log size). Evidence: multipart uploads
 * (good, oversized, malformed, truncated: nothing stored on failure), byte ranges (206, 416),
 * custody once per session, and the checkpoint and inclusion proof of the integrity page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "defter/server.h"
#include "log/tlog.h"
#include "defter/vault.h"

#define PASS        "demo"
#define DFT_LONG_ID "per_0123456789012345678901234567890123456789012345678901234567890123456789"

struct reply {
    long status;
    char body[4 << 20]; /* evidence downloads in the range tests */
    size_t body_len;
    char headers[1 << 14];
    size_t headers_len;
};

struct fixture {
    char dir[64];
    struct dft_ui *ui;
    char base[80];    /* http://127.0.0.1:PORT */
    char host[64];    /* 127.0.0.1:PORT */
    char cookie[160]; /* defter_session=... */
    char csrf[80];
};

static size_t
on_body(char *p, size_t sz, size_t n, void *cls)
{
    struct reply *r = cls;
    size_t len = sz * n;
    size_t room = sizeof r->body - 1 - r->body_len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->body_len, p, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return len;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *cls)
{
    struct reply *r = cls;
    size_t len = sz * n;
    size_t room = sizeof r->headers - 1 - r->headers_len;
    size_t take = len < room ? len : room;
    memcpy(r->headers + r->headers_len, p, take);
    r->headers_len += take;
    r->headers[r->headers_len] = '\0';
    return len;
}

/*
 * One request. extra: NULL-terminated list of raw header lines. body may be NULL. body_len
 * (SIZE_MAX: strlen).
 */
static struct reply *
req(struct fixture *f, const char *method, const char *path, const char *const *extra,
    const char *body, size_t body_len)
{
    static struct reply r;
    char url[1024];
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    memset(&r, 0, sizeof r);
    snprintf(url, sizeof url, "%s%s", f->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        hl = curl_slist_append(hl, extra[i]);
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(body_len == SIZE_MAX ? strlen(body) : body_len));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        r.status = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return &r;
}

/* Header lines for an authorised request: Cookie, and for changes Origin and CSRF. */
static const char *const *
auth(struct fixture *f, int change)
{
    static char cookie[200], origin[100], csrf[120];
    static const char *h[4];
    snprintf(cookie, sizeof cookie, "Cookie: %s", f->cookie);
    snprintf(origin, sizeof origin, "Origin: http://%s", f->host);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", f->csrf);
    h[0] = cookie;
    h[1] = change ? origin : NULL;
    h[2] = change ? csrf : NULL;
    h[3] = NULL;
    return h;
}

static const char *
header_value(const struct reply *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL) {
            break;
        }
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') {
                v++;
            }
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}

static void
assert_security_headers(const struct reply *r)
{
    char v[512];
    assert_non_null(header_value(r, "Content-Security-Policy", v, sizeof v));
    assert_non_null(strstr(v, "default-src 'self'"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-inline"));
    assert_null(strstr(v, "http"));
    assert_non_null(header_value(r, "X-Content-Type-Options", v, sizeof v));
    assert_string_equal(v, "nosniff");
    assert_non_null(header_value(r, "Referrer-Policy", v, sizeof v));
    assert_string_equal(v, "no-referrer");
    assert_non_null(header_value(r, "X-Frame-Options", v, sizeof v));
    assert_string_equal(v, "DENY");
    assert_non_null(header_value(r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
}

/* Records and log size: what "nothing changed" compares. */
static char *
snapshot(struct fixture *f)
{
    struct reply *r = req(f, "GET", "/api/records", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    size_t n = r->body_len;
    char *s = malloc(n + 64);
    memcpy(s, r->body, n);
    r = req(f, "GET", "/api/log", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    snprintf(s + n, 64, " size=%lld", (long long)json_integer_value(json_object_get(j, "size")));
    json_decref(j);
    return s;
}

static void
assert_unchanged(struct fixture *f, char *before)
{
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

/* Exchange the token for a session and fetch the CSRF token. */
static void
login(struct fixture *f)
{
    const char *url = dft_ui_url(f->ui);
    const char *q = strstr(url, "/?t=");
    char v[256];
    struct reply *r = req(f, "GET", q, NULL, NULL, 0);
    assert_int_equal(r->status, 303);
    assert_non_null(header_value(r, "Set-Cookie", v, sizeof v));
    char *semi = strchr(v, ';');
    assert_non_null(semi);
    snprintf(f->cookie, sizeof f->cookie, "%.*s", (int)(semi - v), v);
    r = req(f, "GET", "/api/session", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    snprintf(f->csrf, sizeof f->csrf, "%s", json_string_value(json_object_get(j, "csrf")));
    assert_int_equal(strlen(f->csrf), DFT_UI_TOKEN_HEX);
    json_decref(j);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct dft_vault *v = NULL;
    struct dft_error e;
    dft_error_clear(&e);
    assert_int_equal(dft_crypto_init(&e), DFT_OK);
    snprintf(f->dir, sizeof f->dir, "/tmp/defter-test-http-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char vdir[96];
    snprintf(vdir, sizeof vdir, "%s/v", f->dir);
    assert_int_equal(dft_vault_create(vdir, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e), DFT_OK);
    assert_int_equal(dft_vault_open(&v, vdir, PASS, strlen(PASS), &e), DFT_OK);
    assert_int_equal(dft_ui_start(&f->ui, v, vdir, 0, &e), DFT_OK);
    snprintf(f->host, sizeof f->host, "127.0.0.1:%u", (unsigned)dft_ui_port(f->ui));
    snprintf(f->base, sizeof f->base, "http://%s", f->host);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    dft_ui_free(f->ui);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
test_ui__url_is_loopback_with_long_token(void **state)
{
    struct fixture *f = *state;
    const char *url = dft_ui_url(f->ui);
    char want[128];
    snprintf(want, sizeof want, "%s/?t=", f->base);
    assert_int_equal(strncmp(url, want, strlen(want)), 0);
    const char *t = url + strlen(want);
    assert_int_equal(strlen(t), DFT_UI_TOKEN_HEX); /* 256 bits */
    assert_int_equal(strspn(t, "0123456789abcdef"), DFT_UI_TOKEN_HEX);
}

static void
test_ui__no_session_is_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const paths[] = {"/", "/index.html", "/api/records", "/api/session",
                                        "/js/app.js"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct reply *r = req(f, "GET", paths[i], NULL, NULL, 0);
        assert_int_equal(r->status, 401);
        assert_security_headers(r);
    }
    const char *bad_cookie[] = {"Cookie: defter_session=0000", NULL};
    assert_int_equal(req(f, "GET", "/api/records", bad_cookie, NULL, 0)->status, 401);
    assert_int_equal(req(f, "POST", "/api/lock", NULL, "", 0)->status, 401);
}

static void
test_ui__wrong_token_sets_no_cookie(void **state)
{
    struct fixture *f = *state;
    char v[256];
    struct reply *r = req(f, "GET", "/?t=00112233445566778899aabbccddeeff", NULL, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_null(header_value(r, "Set-Cookie", v, sizeof v));
    r = req(f, "GET", "/?t=", NULL, NULL, 0);
    assert_int_equal(r->status, 403);
    /* the real token still works after wrong guesses */
    login(f);
}

static void
test_ui__token_is_single_use(void **state)
{
    struct fixture *f = *state;
    char v[256];
    const char *q = strstr(dft_ui_url(f->ui), "/?t=");
    char saved[128];
    snprintf(saved, sizeof saved, "%s", q);
    struct reply *r = req(f, "GET", saved, NULL, NULL, 0);
    assert_int_equal(r->status, 303);
    assert_security_headers(r);
    assert_non_null(header_value(r, "Location", v, sizeof v));
    assert_string_equal(v, "/");
    assert_non_null(header_value(r, "Set-Cookie", v, sizeof v));
    assert_non_null(strstr(v, "HttpOnly"));
    assert_non_null(strstr(v, "SameSite=Strict"));
    r = req(f, "GET", saved, NULL, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_null(header_value(r, "Set-Cookie", v, sizeof v));
}

static void
test_ui__foreign_host_is_misdirected(void **state)
{
    struct fixture *f = *state;
    char h1[100], h2[100], h3[100], cookie[200];
    login(f);
    snprintf(cookie, sizeof cookie, "Cookie: %s", f->cookie);
    snprintf(h1, sizeof h1, "Host: evil.example:%u", (unsigned)dft_ui_port(f->ui));
    snprintf(h2, sizeof h2, "Host: 127.0.0.1:%u", (unsigned)dft_ui_port(f->ui) + 1u);
    snprintf(h3, sizeof h3, "Host: localhost:%u", (unsigned)dft_ui_port(f->ui));
    const char *a[] = {cookie, h1, NULL};
    const char *b[] = {cookie, h2, NULL};
    const char *c[] = {cookie, "Host: 127.0.0.1", NULL};
    const char *d[] = {cookie, h3, NULL};
    assert_int_equal(req(f, "GET", "/api/records", a, NULL, 0)->status, 421);
    assert_int_equal(req(f, "GET", "/api/records", b, NULL, 0)->status, 421);
    assert_int_equal(req(f, "GET", "/api/records", c, NULL, 0)->status, 421);
    assert_security_headers(req(f, "GET", "/api/records", a, NULL, 0));
    assert_int_equal(req(f, "GET", "/api/records", d, NULL, 0)->status, 200);
    /* the token exchange is refused on a foreign host too, and the token survives */
    const char *q = strstr(dft_ui_url(f->ui), "/?t=");
    const char *e[] = {h1, NULL};
    (void)q;
    assert_int_equal(req(f, "GET", "/?t=00", e, NULL, 0)->status, 421);
}

static void
test_ui__state_change_needs_csrf_and_origin(void **state)
{
    struct fixture *f = *state;
    char cookie[200], origin[100], csrf[120], wrong[120];
    const char *body = "{\"type\":\"person\",\"name\":\"Refat Chubarov\"}";
    login(f);
    char *before = snapshot(f);
    snprintf(cookie, sizeof cookie, "Cookie: %s", f->cookie);
    snprintf(origin, sizeof origin, "Origin: http://%s", f->host);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", f->csrf);
    /* the right token with its last digit changed (to '1' when it already is '0') */
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %.*s%c", DFT_UI_TOKEN_HEX - 1, f->csrf,
             f->csrf[DFT_UI_TOKEN_HEX - 1] == '0' ? '1' : '0');
    const char *no_csrf[] = {cookie, origin, NULL};
    const char *bad_csrf[] = {cookie, origin, wrong, NULL};
    const char *no_origin[] = {cookie, csrf, NULL};
    const char *evil[] = {cookie, csrf, "Origin: http://evil.example", NULL};
    const char *null_origin[] = {cookie, csrf, "Origin: null", NULL};
    const char *https_origin[] = {cookie, csrf, NULL, NULL};
    char ho[120];
    snprintf(ho, sizeof ho, "Origin: https://%s", f->host);
    https_origin[2] = ho;
    const char *const *cases[] = {no_csrf, bad_csrf, no_origin, evil, null_origin, https_origin};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct reply *r = req(f, "POST", "/api/records", cases[i], body, SIZE_MAX);
        assert_int_equal(r->status, 403);
        assert_security_headers(r);
        assert_int_equal(req(f, "POST", "/api/lock", cases[i], "", 0)->status, 403);
    }
    assert_unchanged(f, before);
    /* and the vault is still unlocked */
    assert_int_equal(req(f, "GET", "/api/records", auth(f, 0), NULL, 0)->status, 200);
}

static void
test_ui__path_traversal_is_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const paths[] = {
        "/../../../../etc/passwd",    "/js/../index.html",    "/%2e%2e/%2e%2e/etc/passwd",
        "/js/..%2f..%2fetc%2fpasswd", "//etc/passwd",         "/./index.html",
        "/js\\..\\index.html",        "/api/records/..%2f..", "/index.html%00.js"};
    login(f);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct reply *r = req(f, "GET", paths[i], auth(f, 0), NULL, 0);
        if (r->status < 400 || r->status > 404) {
            fail_msg("path %s answered %ld", paths[i], r->status);
        }
        assert_null(strstr(r->body, "root:"));
        assert_security_headers(r);
    }
    assert_int_equal(req(f, "GET", "/index.html", auth(f, 0), NULL, 0)->status, 200);
}

static void
test_ui__oversized_requests_are_refused(void **state)
{
    struct fixture *f = *state;
    size_t n = (size_t)DFT_UI_BODY_MAX + 16;
    char *big = malloc(n + 1);
    login(f);
    char *before = snapshot(f);
    memset(big, ' ', n);
    big[0] = '{';
    memcpy(big + n - 40, "\"type\":\"person\",\"name\":\"A\"}", 28);
    big[n] = '\0';
    /*
     * The server answers 413 and closes; a client still sending may see the connection reset
     * before it reads the answer (status -1). Either way nothing may change (checked below).
     */
    struct reply *r = req(f, "POST", "/api/records", auth(f, 1), big, n);
    assert_true(r->status == 413 || r->status == -1);
    /* the same without Content-Length: chunked */
    char te[] = "Transfer-Encoding: chunked";
    const char *const *a = auth(f, 1);
    const char *h[] = {a[0], a[1], a[2], te, NULL};
    r = req(f, "POST", "/api/records", h, big, n);
    assert_true(r->status == 413 || r->status == -1);
    /* a passphrase above its cap */
    r = req(f, "POST", "/api/unlock", auth(f, 1), big, 4096);
    assert_int_equal(r->status, 413);
    /* a huge header */
    char *hh = malloc(100 * 1024);
    memcpy(hh, "X-Big: ", 7);
    memset(hh + 7, 'a', 100 * 1024 - 8);
    hh[100 * 1024 - 1] = '\0';
    const char *hb[] = {a[0], hh, NULL};
    r = req(f, "GET", "/api/records", hb, NULL, 0);
    assert_true(r->status == -1 || (r->status >= 400 && r->status < 500));
    free(hh);
    free(big);
    assert_unchanged(f, before);
}

static void
test_ui__malformed_bodies_are_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const bodies[] = {"",
                                         "{",
                                         "[{\"type\":\"person\"}]",
                                         "\"x\"",
                                         "{\"type\":\"person\",\"name\":\"\xff\"}",
                                         "{\"type\":\"person\",\"type\":\"case\"}",
                                         "{\"type\":\"nonsense\",\"name\":\"x\"}",
                                         "{\"name\":\"no type\"}",
                                         "null"};
    login(f);
    char *before = snapshot(f);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct reply *r = req(f, "POST", "/api/records", auth(f, 1), bodies[i], SIZE_MAX);
        assert_int_equal(r->status, 400);
        json_t *j = json_loads(r->body, 0, NULL);
        assert_non_null(j);
        assert_non_null(json_string_value(json_object_get(j, "error")));
        json_decref(j);
    }
    assert_int_equal(req(f, "POST", "/api/links", auth(f, 1), "{\"from\":1}", SIZE_MAX)->status,
                     400);
    assert_int_equal(req(f, "POST", "/api/links", auth(f, 1),
                         "{\"from\":\"per_x\",\"to\":\"per_y\",\"role\":\"victim\"}", SIZE_MAX)
                         ->status,
                     404);
    assert_int_equal(
        req(f, "PATCH", "/api/records/per_nothing", auth(f, 1), "{\"name\":\"x\"}", SIZE_MAX)
            ->status,
        404);
    assert_int_equal(req(f, "GET", "/api/records/bad%20id", auth(f, 0), NULL, 0)->status, 400);
    assert_int_equal(req(f, "GET", "/api/records/" DFT_LONG_ID, auth(f, 0), NULL, 0)->status, 404);
    assert_int_equal(req(f, "GET", "/api/records?type=nonsense", auth(f, 0), NULL, 0)->status, 400);
    assert_int_equal(req(f, "DELETE", "/api/records", auth(f, 1), NULL, 0)->status, 405);
    assert_int_equal(req(f, "GET", "/api/nothing", auth(f, 0), NULL, 0)->status, 404);
    assert_unchanged(f, before);
}

static void
test_ui__api_round_trip(void **state)
{
    struct fixture *f = *state;
    char id_case[DFT_ID_MAX], id_per[DFT_ID_MAX], path[128], body[256];
    json_t *j;
    login(f);
    struct reply *r = req(f, "POST", "/api/records", auth(f, 1),
                          "{\"type\":\"case\",\"title\":\"Case of Ilmi Umerov\"}", SIZE_MAX);
    assert_int_equal(r->status, 201);
    assert_security_headers(r);
    j = json_loads(r->body, 0, NULL);
    snprintf(id_case, sizeof id_case, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    r = req(f, "POST", "/api/records", auth(f, 1),
            "{\"type\":\"person\",\"name\":\"<img src=x onerror=alert(1)>\"}", SIZE_MAX);
    assert_int_equal(r->status, 201);
    j = json_loads(r->body, 0, NULL);
    snprintf(id_per, sizeof id_per, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"role\":\"victim\"}", id_case,
             id_per);
    assert_int_equal(req(f, "POST", "/api/links", auth(f, 1), body, SIZE_MAX)->status, 201);
    snprintf(path, sizeof path, "/api/records/%s", id_per);
    assert_int_equal(
        req(f, "PATCH", path, auth(f, 1), "{\"summary\":\"witness\"}", SIZE_MAX)->status, 200);
    r = req(f, "GET", path, auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "person");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "fields"), "summary")),
                        "witness");
    assert_true(json_array_size(json_object_get(j, "relations")) >= 1);
    json_decref(j);
    r = req(f, "GET", "/api/records?type=case", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, id_case));
    assert_null(strstr(r->body, id_per));
    r = req(f, "GET", "/api/search?q=umerov", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, id_case));
    r = req(f, "GET", "/api/log", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    r = req(f, "POST", "/api/verify", auth(f, 1), "", 0);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"ok\":true"));
}

static void
test_ui__lock_wipes_and_unlock_needs_passphrase(void **state)
{
    struct fixture *f = *state;
    login(f);
    char *before = snapshot(f);
    assert_int_equal(req(f, "POST", "/api/lock", auth(f, 1), "", 0)->status, 200);
    struct reply *r = req(f, "GET", "/api/records", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 423);
    assert_int_equal(
        req(f, "POST", "/api/records", auth(f, 1), "{\"type\":\"person\"}", SIZE_MAX)->status, 423);
    r = req(f, "GET", "/api/session", auth(f, 0), NULL, 0);
    assert_non_null(strstr(r->body, "\"locked\":true"));
    /* pages still load, so the unlock form can show */
    assert_int_equal(req(f, "GET", "/", auth(f, 0), NULL, 0)->status, 200);
    assert_int_equal(req(f, "POST", "/api/unlock", auth(f, 1), "wrong", SIZE_MAX)->status, 403);
    assert_int_equal(req(f, "POST", "/api/unlock", auth(f, 1), "", 0)->status, 400);
    assert_int_equal(req(f, "GET", "/api/records", auth(f, 0), NULL, 0)->status, 423);
    assert_int_equal(req(f, "POST", "/api/unlock", auth(f, 1), PASS, SIZE_MAX)->status, 200);
    assert_unchanged(f, before);
}

static void
test_ui__assets_are_served_with_types(void **state)
{
    struct fixture *f = *state;
    char v[256];
    login(f);
    struct reply *r = req(f, "GET", "/", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_security_headers(r);
    assert_non_null(header_value(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/html; charset=utf-8");
    assert_null(strstr(r->body, "<script>")); /* no inline script */
    r = req(f, "GET", "/js/app.js", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(header_value(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/javascript; charset=utf-8");
    assert_int_equal(req(f, "GET", "/i18n/crh.json", auth(f, 0), NULL, 0)->status, 200);
    assert_int_equal(req(f, "GET", "/nothing.html", auth(f, 0), NULL, 0)->status, 404);
    assert_int_equal(req(f, "POST", "/index.html", auth(f, 1), "", 0)->status, 405);
}

/* ---- evidence ---- */

#define BOUNDARY "----defterTestBoundary7MA4YWxk"

/* A multipart/form-data body with one part: name field, filename (NULL: not a file). */
static char *
multipart(const char *field, const char *filename, const void *data, size_t n, int close,
          size_t *len)
{
    char head[512];
    int h;
    if (filename != NULL) {
        h = snprintf(head, sizeof head,
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"; "
                     "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                     field, filename);
    } else {
        h = snprintf(head, sizeof head,
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
                     field);
    }
    const char *tail = close ? "\r\n--" BOUNDARY "--\r\n" : "";
    size_t t = strlen(tail);
    char *b = malloc((size_t)h + n + t + 1);
    memcpy(b, head, (size_t)h);
    if (n > 0) {
        memcpy(b + h, data, n);
    }
    memcpy(b + (size_t)h + n, tail, t);
    *len = (size_t)h + n + t;
    b[*len] = '\0';
    return b;
}

/* Authorised upload headers with a given Content-Type line (NULL: the multipart one). */
static const char *const *
upload_headers(struct fixture *f, const char *ctype, const char *extra)
{
    static const char *h[6];
    const char *const *a = auth(f, 1);
    h[0] = a[0];
    h[1] = a[1];
    h[2] = a[2];
    h[3] = ctype != NULL ? ctype : "Content-Type: multipart/form-data; boundary=" BOUNDARY;
    h[4] = extra;
    h[5] = NULL;
    return h;
}

static char *
new_case(struct fixture *f)
{
    struct reply *r = req(f, "POST", "/api/records", auth(f, 1),
                          "{\"type\":\"case\",\"title\":\"Case of the upload\"}", SIZE_MAX);
    assert_int_equal(r->status, 201);
    json_t *j = json_loads(r->body, 0, NULL);
    char *id = strdup(json_string_value(json_object_get(j, "id")));
    json_decref(j);
    return id;
}

/* Regular files under dir; *tmp gets those named .tmp-* */
static int
count_objects(const char *dir, int *tmp)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char p[512];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n += count_objects(p, tmp);
        } else {
            n++;
            if (tmp != NULL && strncmp(e->d_name, ".tmp-", 5) == 0) {
                (*tmp)++;
            }
        }
    }
    closedir(d);
    return n;
}

static int
objects_now(struct fixture *f)
{
    char dir[128];
    int tmp = 0;
    snprintf(dir, sizeof dir, "%s/v/objects", f->dir);
    int n = count_objects(dir, &tmp);
    assert_int_equal(tmp, 0); /* never a temporary file between requests */
    return n;
}

/* Upload data as name on record; returns the evidence id (caller frees) and checks the hash. */
static char *
upload_ok(struct fixture *f, const char *record, const char *name, const void *data, size_t n)
{
    char path[128], hex[65];
    unsigned char sha[32];
    size_t len;
    char *body = multipart("file", name, data, n, 1, &len);
    snprintf(path, sizeof path, "/api/records/%s/evidence", record);
    struct reply *r = req(f, "POST", path, upload_headers(f, NULL, NULL), body, len);
    free(body);
    if (r->status != 201) {
        fail_msg("upload answered %ld: %s", r->status, r->body);
    }
    assert_security_headers(r);
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    crypto_sha256_once(sha, data, n);
    dft_hex_encode(hex, sha, sizeof sha);
    assert_string_equal(json_string_value(json_object_get(j, "sha256")), hex);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), n);
    char *id = strdup(json_string_value(json_object_get(j, "id")));
    json_decref(j);
    return id;
}

static unsigned char *
random_bytes(size_t n)
{
    unsigned char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)((i * 2654435761u) >> 13 ^ i);
    }
    return p;
}

static void
test_ui__upload_stores_evidence_with_sha256(void **state)
{
    struct fixture *f = *state;
    char path[128], hex[65];
    unsigned char sha[32];
    size_t n = (3u << 19) + 7; /* 1.5 MiB: crosses a chunk boundary */
    size_t n_body = 0;
    unsigned char *data = random_bytes(n);
    login(f);
    char *rec = new_case(f);
    char *evid = upload_ok(f, rec, "C:\\scans\\протокол обыска.pdf", data, n);
    assert_int_equal(objects_now(f), 1);
    /* the record page's data lists it with its SHA-256 and the name without the path */
    snprintf(path, sizeof path, "/api/records/%s", rec);
    struct reply *r = req(f, "GET", path, auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    json_t *ev = json_array_get(json_object_get(j, "evidence"), 0);
    crypto_sha256_once(sha, data, n);
    dft_hex_encode(hex, sha, sizeof sha);
    assert_string_equal(json_string_value(json_object_get(ev, "id")), evid);
    assert_string_equal(json_string_value(json_object_get(ev, "sha256")), hex);
    assert_string_equal(json_string_value(json_object_get(ev, "name")), "протокол обыска.pdf");
    json_decref(j);
    /* the same file twice on one record is refused and says so (issue 16) */
    char *body = multipart("file", "copy.bin", data, n, 1, &n_body);
    snprintf(path, sizeof path, "/api/records/%s/evidence", rec);
    r = req(f, "POST", path, upload_headers(f, NULL, NULL), body, n_body);
    free(body);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "already attached"));
    assert_int_equal(objects_now(f), 1);
    /* on another record it is a second evidence item on one stored object */
    char *rec2 = new_case(f);
    char *evid2 = upload_ok(f, rec2, "copy.bin", data, n);
    free(rec2);
    assert_string_not_equal(evid, evid2);
    assert_int_equal(objects_now(f), 1);
    /* an empty file is evidence too */
    char *evid3 = upload_ok(f, rec, "empty.txt", "", 0);
    assert_int_equal(objects_now(f), 2);
    free(evid3);
    free(evid2);
    free(evid);
    free(rec);
    free(data);
}

static int
tmp_files(struct fixture *f)
{
    char dir[128];
    int tmp = 0;
    snprintf(dir, sizeof dir, "%s/v/objects", f->dir);
    (void)count_objects(dir, &tmp);
    return tmp;
}

/*
 * Send an upload by hand, wait (through other requests on the one server thread, no sleeping)
 * until its temporary object exists, then reset the connection before the body ends.
 */
static void
send_truncated(struct fixture *f, const char *path, const char *body, size_t sent, size_t claimed)
{
    char head[1024];
    struct sockaddr_in sa;
    struct linger lg = {1, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(dft_ui_port(f->ui));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int h = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nOrigin: http://%s\r\n"
                     "X-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=" BOUNDARY
                     "\r\nContent-Length: %zu\r\n\r\n",
                     path, f->host, f->cookie, f->host, f->csrf, claimed);
    assert_int_equal(write(fd, head, (size_t)h), h);
    assert_int_equal(write(fd, body, sent), (ssize_t)sent);
    int i;
    for (i = 0; i < 10000 && tmp_files(f) == 0; i++) {
        assert_int_equal(req(f, "GET", "/api/session", auth(f, 0), NULL, 0)->status, 200);
    }
    assert_int_equal(tmp_files(f), 1); /* in flight: ciphertext in a temporary file */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd); /* reset: the client went away mid-body */
    for (i = 0; i < 10000 && tmp_files(f) != 0; i++) {
        assert_int_equal(req(f, "GET", "/api/session", auth(f, 0), NULL, 0)->status, 200);
    }
    assert_int_equal(tmp_files(f), 0);
}

static void
test_ui__upload_refusals_store_nothing(void **state)
{
    struct fixture *f = *state;
    char path[128];
    size_t n = 200000, len;
    unsigned char *data = random_bytes(n);
    login(f);
    char *rec = new_case(f);
    dft_ui_set_upload_max(f->ui, 100000);
    snprintf(path, sizeof path, "/api/records/%s/evidence", rec);
    char *before = snapshot(f);

    /* oversized, announced by Content-Length: refused before reading */
    char *body = multipart("file", "big.bin", data, n, 1, &len);
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 413);
    /* oversized, chunked (no length): refused while streaming */
    struct reply *r =
        req(f, "POST", path, upload_headers(f, NULL, "Transfer-Encoding: chunked"), body, len);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "larger than the upload limit"));
    free(body);
    /* just over the limit with a length that fits the overhead */
    body = multipart("file", "big.bin", data, 100001, 1, &len);
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 413);
    free(body);

    /* malformed multipart bodies */
    body = multipart("file", "a.bin", data, 1000, 0, &len); /* no closing boundary */
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 400);
    free(body);
    body = multipart("note", NULL, "hello", 5, 1, &len); /* a field, no file */
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 400);
    free(body);
    body = multipart("other", "a.bin", data, 1000, 1, &len); /* a file in the wrong field */
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 400);
    free(body);
    {
        /* two files */
        size_t l1, l2;
        char *p1 = multipart("file", "a.bin", data, 1000, 0, &l1);
        char *p2 = multipart("file", "b.bin", data + 1000, 1000, 1, &l2);
        char *two = malloc(l1 + l2 + 2);
        memcpy(two, p1, l1);
        memcpy(two + l1, "\r\n", 2);
        memcpy(two + l1 + 2, p2, l2);
        r = req(f, "POST", path, upload_headers(f, NULL, NULL), two, l1 + l2 + 2);
        assert_int_equal(r->status, 400);
        free(p1);
        free(p2);
        free(two);
    }
    static const char junk[] = "this is not multipart at all";
    assert_int_equal(
        req(f, "POST", path, upload_headers(f, NULL, NULL), junk, sizeof junk - 1)->status, 400);
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), "", 0)->status, 400);
    assert_int_equal(req(f, "POST", path,
                         upload_headers(f, "Content-Type: multipart/form-data", NULL), junk,
                         sizeof junk - 1)
                         ->status,
                     400); /* no boundary */
    assert_int_equal(req(f, "POST", path,
                         upload_headers(f, "Content-Type: application/octet-stream", NULL), junk,
                         sizeof junk - 1)
                         ->status,
                     415);
    /* refused before any byte is read: CSRF, unknown record, the locked vault */
    body = multipart("file", "a.bin", data, 1000, 1, &len);
    const char *no_csrf[] = {auth(f, 0)[0], "Content-Type: multipart/form-data; boundary=" BOUNDARY,
                             NULL};
    assert_int_equal(req(f, "POST", path, no_csrf, body, len)->status, 403);
    assert_int_equal(req(f, "POST", "/api/records/cas_nothing/evidence",
                         upload_headers(f, NULL, NULL), body, len)
                         ->status,
                     404);
    assert_int_equal(
        req(f, "POST", "/api/records/bad%20id/evidence", upload_headers(f, NULL, NULL), body, len)
            ->status,
        400);
    assert_int_equal(req(f, "POST", "/api/lock", auth(f, 1), "", 0)->status, 200);
    assert_int_equal(req(f, "POST", path, upload_headers(f, NULL, NULL), body, len)->status, 423);
    assert_int_equal(req(f, "POST", "/api/unlock", auth(f, 1), PASS, SIZE_MAX)->status, 200);
    /* truncated: the connection ends before the announced length, in and after a chunk */
    free(body);
    body = multipart("file", "a.bin", data, 90000, 1, &len);
    send_truncated(f, path, body, 10, len);
    send_truncated(f, path, body, len / 2, len);
    send_truncated(f, path, body, len - 3, len);
    free(body);
    assert_int_equal(objects_now(f), 0);
    assert_unchanged(f, before);
    /* and a good upload still works afterwards */
    dft_ui_set_upload_max(f->ui, 100000);
    char *evid = upload_ok(f, rec, "fits.bin", data, 100000);
    assert_int_equal(objects_now(f), 1);
    free(evid);
    free(rec);
    free(data);
}

static void
content_path(char *out, size_t max, const char *evid, const char *query)
{
    snprintf(out, max, "/api/evidence/%s/content%s", evid, query);
}

static void
test_ui__evidence_byte_ranges(void **state)
{
    struct fixture *f = *state;
    char path[160], h[256], v[512];
    size_t n = (2u << 20) + 100; /* three chunks, the last short */
    unsigned char *data = random_bytes(n);
    login(f);
    char *rec = new_case(f);
    char *evid = upload_ok(f, rec, "video.bin", data, n);
    content_path(path, sizeof path, evid, "");
    const char *const *a = auth(f, 0);
    const char *hdr[] = {a[0], h, NULL};

    /* everything */
    struct reply *r = req(f, "GET", path, a, NULL, 0);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, n);
    assert_memory_equal(r->body, data, n);
    assert_non_null(header_value(r, "Accept-Ranges", v, sizeof v));
    assert_string_equal(v, "bytes");
    assert_non_null(header_value(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/octet-stream"); /* not a type shown inline */
    assert_non_null(header_value(r, "Content-Disposition", v, sizeof v));
    assert_non_null(strstr(v, "attachment"));
    assert_non_null(header_value(r, "Content-Security-Policy", v, sizeof v));
    assert_non_null(strstr(v, "sandbox"));
    assert_null(strstr(v, "script"));

    static const struct {
        const char *range;
        size_t first, last;
    } ok[] = {
        {"bytes=0-99", 0, 99},
        {"bytes=1048000-1049999", 1048000, 1049999}, /* across a chunk boundary */
        {"bytes=2097000-2097199", 2097000, 2097199}, /* into the short last chunk */
        {"bytes=-500", (2u << 20) + 100 - 500, (2u << 20) + 99},
        {"bytes=2097150-", 2097150, (2u << 20) + 99},
        {"bytes=5-99999999", 5, (2u << 20) + 99},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char want[96];
        snprintf(h, sizeof h, "Range: %s", ok[i].range);
        r = req(f, "GET", path, hdr, NULL, 0);
        if (r->status != 206) {
            fail_msg("%s answered %ld", ok[i].range, r->status);
        }
        assert_int_equal(r->body_len, ok[i].last - ok[i].first + 1);
        assert_memory_equal(r->body, data + ok[i].first, r->body_len);
        snprintf(want, sizeof want, "bytes %zu-%zu/%zu", ok[i].first, ok[i].last, n);
        assert_non_null(header_value(r, "Content-Range", v, sizeof v));
        assert_string_equal(v, want);
        assert_non_null(header_value(r, "X-Content-Type-Options", v, sizeof v));
        assert_non_null(header_value(r, "Cache-Control", v, sizeof v));
        assert_string_equal(v, "no-store");
    }
    static const char *const bad[] = {"bytes=2097252-", "bytes=99999999-", "bytes=-0",  "bytes=9-1",
                                      "bytes=0-1,5-6",  "items=0-1",       "bytes=x-y", "bytes="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[64];
        snprintf(h, sizeof h, "Range: %s", bad[i]);
        r = req(f, "GET", path, hdr, NULL, 0);
        if (r->status != 416) {
            fail_msg("%s answered %ld", bad[i], r->status);
        }
        snprintf(want, sizeof want, "bytes */%zu", n);
        assert_non_null(header_value(r, "Content-Range", v, sizeof v));
        assert_string_equal(v, want);
        assert_int_equal(r->body_len, 0);
    }
    /* images are shown inline with their type, markup never */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,   0, 0, 13,
                                        'I',  'H', 'D', 'R', 0,    0,    0,    1,    0,   0, 0, 1,
                                        8,    6,   0,   0,   0,    0x1f, 0x15, 0xc4, 0x89};
    char *img = upload_ok(f, rec, "photo.png", png, sizeof png);
    content_path(path, sizeof path, img, "");
    r = req(f, "GET", path, a, NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(header_value(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "image/png");
    assert_non_null(header_value(r, "Content-Disposition", v, sizeof v));
    assert_string_equal(v, "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png");
    content_path(path, sizeof path, img, "?download=1");
    r = req(f, "GET", path, a, NULL, 0);
    assert_non_null(header_value(r, "Content-Disposition", v, sizeof v));
    assert_non_null(strstr(v, "attachment"));
    static const char html[] = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
    char *page = upload_ok(f, rec, "page.html", html, sizeof html - 1);
    content_path(path, sizeof path, page, "");
    r = req(f, "GET", path, a, NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(header_value(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/octet-stream");
    assert_non_null(header_value(r, "Content-Disposition", v, sizeof v));
    assert_non_null(strstr(v, "attachment"));
    /* no such evidence; a record is not evidence */
    assert_int_equal(req(f, "GET", "/api/evidence/evd_nothing/content", a, NULL, 0)->status, 404);
    content_path(path, sizeof path, rec, "");
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 404);
    assert_int_equal(req(f, "GET", "/api/evidence/x%2f..%2f/content", a, NULL, 0)->status, 400);
    free(page);
    free(img);
    free(evid);
    free(rec);
    free(data);
}

/* Custody events of evidence evid with the given event name. */
static size_t
custody_count(struct fixture *f, const char *evid, const char *event)
{
    char path[128];
    size_t k = 0;
    snprintf(path, sizeof path, "/api/records/%s", evid);
    struct reply *r = req(f, "GET", path, auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    json_t *c = json_object_get(j, "custody");
    for (size_t i = 0; i < json_array_size(c); i++) {
        json_t *fl = json_object_get(json_array_get(c, i), "fields");
        const char *e = json_string_value(json_object_get(fl, "event"));
        if (e != NULL && strcmp(e, event) == 0) {
            k++;
        }
    }
    json_decref(j);
    return k;
}

static long long
log_size(struct fixture *f)
{
    struct reply *r = req(f, "GET", "/api/log", auth(f, 0), NULL, 0);
    json_t *j = json_loads(r->body, 0, NULL);
    long long n = json_integer_value(json_object_get(j, "size"));
    json_decref(j);
    return n;
}

static void
test_ui__custody_once_per_session(void **state)
{
    struct fixture *f = *state;
    char path[160], h[64];
    unsigned char *data = random_bytes(5000);
    login(f);
    char *rec = new_case(f);
    char *evid = upload_ok(f, rec, "clip.bin", data, 5000);
    content_path(path, sizeof path, evid, "");
    const char *const *a = auth(f, 0);
    const char *hdr[] = {a[0], h, NULL};
    long long size0 = log_size(f);
    assert_int_equal(custody_count(f, evid, "view"), 0);
    /* a HEAD and a refused range record nothing */
    assert_int_equal(req(f, "HEAD", path, a, NULL, 0)->status, 200);
    snprintf(h, sizeof h, "Range: bytes=9999-");
    assert_int_equal(req(f, "GET", path, hdr, NULL, 0)->status, 416);
    assert_int_equal(log_size(f), size0);
    /* many range requests (a video seeking): one custody operation */
    for (int i = 0; i < 5; i++) {
        snprintf(h, sizeof h, "Range: bytes=%d-%d", i * 1000, i * 1000 + 999);
        assert_int_equal(req(f, "GET", path, hdr, NULL, 0)->status, 206);
    }
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 200);
    assert_int_equal(custody_count(f, evid, "view"), 1);
    assert_int_equal(log_size(f), size0 + 1);
    /* a download is its own event, also once */
    content_path(path, sizeof path, evid, "?download=1");
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 200);
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 200);
    assert_int_equal(custody_count(f, evid, "download"), 1);
    assert_int_equal(log_size(f), size0 + 2);
    /* after lock and unlock it is a new use */
    assert_int_equal(req(f, "POST", "/api/lock", auth(f, 1), "", 0)->status, 200);
    content_path(path, sizeof path, evid, "");
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 423);
    assert_int_equal(req(f, "POST", "/api/unlock", auth(f, 1), PASS, SIZE_MAX)->status, 200);
    assert_int_equal(req(f, "GET", path, a, NULL, 0)->status, 200);
    assert_int_equal(custody_count(f, evid, "view"), 2);
    /* and the vault still verifies */
    struct reply *r = req(f, "POST", "/api/verify", auth(f, 1), "", 0);
    assert_non_null(strstr(r->body, "\"ok\":true"));
    free(evid);
    free(rec);
    free(data);
}

static void
test_ui__checkpoint_and_inclusion_proof(void **state)
{
    struct fixture *f = *state;
    char path[160], v[512];
    struct dft_note_verifier ver;
    struct dft_checkpoint cp;
    struct dft_error e;
    unsigned char leaf[32], proof[64][32];
    dft_error_clear(&e);
    login(f);
    char *rec = new_case(f);
    char *other = new_case(f);
    struct reply *r = req(f, "GET", "/api/checkpoint", auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    const char *vk = json_string_value(json_object_get(j, "vkey"));
    assert_non_null(vk);
    assert_int_equal(note_verifier_parse(&ver, vk, strlen(vk), &e), DFT_OK);
    const char *note = json_string_value(json_object_get(j, "checkpoint"));
    assert_int_equal(checkpoint_open(&cp, note, strlen(note), &ver, NULL, 0, NULL, &e), DFT_OK);
    assert_int_equal(cp.size, json_integer_value(json_object_get(j, "size")));
    assert_int_equal(cp.size, log_size(f));
    json_decref(j);

    snprintf(path, sizeof path, "/api/records/%s/proof", rec);
    r = req(f, "GET", path, auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_null(header_value(r, "Content-Disposition", v, sizeof v));
    j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    note = json_string_value(json_object_get(j, "checkpoint"));
    assert_int_equal(checkpoint_open(&cp, note, strlen(note), &ver, NULL, 0, NULL, &e), DFT_OK);
    uint64_t index = (uint64_t)json_integer_value(json_object_get(j, "index"));
    assert_int_equal(cp.size, json_integer_value(json_object_get(j, "size")));
    assert_true(index < cp.size);
    const char *lh = json_string_value(json_object_get(j, "leaf_hash"));
    assert_int_equal(tlog_hash_decode(leaf, lh, strlen(lh), &e), DFT_OK);
    json_t *pa = json_object_get(j, "proof");
    size_t np = json_array_size(pa);
    assert_true(np > 0 && np < 64);
    for (size_t i = 0; i < np; i++) {
        const char *ph = json_string_value(json_array_get(pa, i));
        assert_int_equal(tlog_hash_decode(proof[i], ph, strlen(ph), &e), DFT_OK);
    }
    assert_int_equal(tlog_verify_inclusion(index, cp.size, leaf, (const unsigned char(*)[32])proof,
                                           np, cp.root, &e),
                     DFT_OK);
    /* a changed leaf does not verify */
    leaf[0] ^= 1;
    assert_int_equal(tlog_verify_inclusion(index, cp.size, leaf, (const unsigned char(*)[32])proof,
                                           np, cp.root, &e),
                     DFT_ERR_INTEGRITY);
    json_decref(j);
    /* as a download */
    snprintf(path, sizeof path, "/api/records/%s/proof?download=1", rec);
    r = req(f, "GET", path, auth(f, 0), NULL, 0);
    assert_int_equal(r->status, 200);
    assert_non_null(header_value(r, "Content-Disposition", v, sizeof v));
    assert_non_null(strstr(v, "attachment; filename=\"defter-proof-"));
    assert_int_equal(req(f, "GET", "/api/records/cas_nothing/proof", auth(f, 0), NULL, 0)->status,
                     404);
    assert_int_equal(req(f, "GET", "/api/checkpoint", NULL, NULL, 0)->status, 401);
    free(rec);
    free(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ui__url_is_loopback_with_long_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__no_session_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__wrong_token_sets_no_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__token_is_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__foreign_host_is_misdirected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__state_change_needs_csrf_and_origin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ui__path_traversal_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__oversized_requests_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__malformed_bodies_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__api_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__lock_wipes_and_unlock_needs_passphrase, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ui__assets_are_served_with_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__upload_stores_evidence_with_sha256, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ui__upload_refusals_store_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__evidence_byte_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__custody_once_per_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui__checkpoint_and_inclusion_proof, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    dft_json_wipe_on_free(); /* as the CLI does: JSON buffers must go back to jansson's free */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
