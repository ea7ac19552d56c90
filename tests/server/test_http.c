/*
 * test_http.c - `defter ui` over real HTTP on 127.0.0.1 (libcurl against the running server):
 * the token exchange and session cookie, Host, Origin and CSRF checks, path traversal, size
 * caps, malformed bodies, security headers, lock/unlock and the JSON API. Every refused request
 * must leave the vault unchanged (same records, same log size).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "defter/crypto.h"
#include "defter/server.h"
#include "defter/vault.h"

#define PASS        "demo"
#define DFT_LONG_ID "per_0123456789012345678901234567890123456789012345678901234567890123456789"

struct reply {
    long status;
    char body[1 << 16];
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
    struct reply *r = req(f, "POST", "/api/records", auth(f, 1), big, n);
    assert_int_equal(r->status, 413);
    /* the same without Content-Length: chunked */
    char te[] = "Transfer-Encoding: chunked";
    const char *const *a = auth(f, 1);
    const char *h[] = {a[0], a[1], a[2], te, NULL};
    r = req(f, "POST", "/api/records", h, big, n);
    assert_int_equal(r->status, 413);
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
    };
    signal(SIGPIPE, SIG_IGN);
    dft_json_wipe_on_free(); /* as the CLI does: JSON buffers must go back to jansson's free */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
