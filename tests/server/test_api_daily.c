/*
 * test_api_daily.c - the daily-work routes of `defter ui` over real HTTP on 127.0.0.1
 * (src/server/api_daily.c, ui_open.c): schema, filtered list, history, restore, CSV import
 * (dry run, a bad row refused with row and column and nothing written) and export, the page
 * without a session in the browser's language, and POST /open with and without the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "defter/crypto.h"
#include "defter/server.h"
#include "defter/ui_open.h"
#include "defter/vault.h"

#define PASS "daily"

struct reply {
    long status;
    char body[1 << 16];
    size_t body_len;
    char headers[1 << 13];
    size_t headers_len;
};

struct fixture {
    char dir[64];
    char vdir[96];
    struct dft_ui *ui;
    char base[80];
    char host[64];
    char cookie[160];
    char csrf[80];
};

static size_t
on_data(char *p, size_t sz, size_t n, void *cls)
{
    char *buf = ((char **)cls)[0];
    size_t *len = (size_t *)((char **)cls)[1];
    size_t cap = (size_t)(uintptr_t)((char **)cls)[2];
    size_t take = sz * n < cap - 1 - *len ? sz * n : cap - 1 - *len;
    memcpy(buf + *len, p, take);
    *len += take;
    buf[*len] = '\0';
    return sz * n;
}

static struct reply *
req(struct fixture *f, const char *method, const char *path, const char *const *extra,
    const char *body)
{
    static struct reply r;
    char url[1024];
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    memset(&r, 0, sizeof r);
    void *bctx[3] = {r.body, &r.body_len, (void *)(uintptr_t)sizeof r.body};
    void *hctx[3] = {r.headers, &r.headers_len, (void *)(uintptr_t)sizeof r.headers};
    snprintf(url, sizeof url, "%s%s", f->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bctx);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hctx);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        hl = curl_slist_append(hl, extra[i]);
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(c) != CURLE_OK) {
        r.status = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return &r;
}

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

static json_t *
body_json(const struct reply *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    return j;
}

static json_int_t
log_size(struct fixture *f)
{
    struct reply *r = req(f, "GET", "/api/log", auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    json_t *j = body_json(r);
    json_int_t n = json_integer_value(json_object_get(j, "size"));
    json_decref(j);
    return n;
}

static void
login(struct fixture *f, const char *url)
{
    struct reply *r = req(f, "GET", strstr(url, "/?t="), NULL, NULL);
    assert_int_equal(r->status, 303);
    const char *c = strcasestr(r->headers, "Set-Cookie: ");
    assert_non_null(c);
    c += 12;
    snprintf(f->cookie, sizeof f->cookie, "%.*s", (int)strcspn(c, ";\r"), c);
    r = req(f, "GET", "/api/session", auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    json_t *j = body_json(r);
    snprintf(f->csrf, sizeof f->csrf, "%s", json_string_value(json_object_get(j, "csrf")));
    json_decref(j);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct dft_vault *v = NULL;
    struct dft_error e = {0};
    assert_int_equal(dft_crypto_init(&e), DFT_OK);
    snprintf(f->dir, sizeof f->dir, "/tmp/defter-test-daily-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->vdir, sizeof f->vdir, "%s/v", f->dir);
    assert_int_equal(dft_vault_create(f->vdir, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e),
                     DFT_OK);
    assert_int_equal(dft_vault_open(&v, f->vdir, PASS, strlen(PASS), &e), DFT_OK);
    json_t *items = json_loads(
        "{\"records\":[{\"key\":\"c\",\"type\":\"case\",\"title\":\"Case A\",\"status\":\"trial\","
        "\"date\":\"2016-05-12\"},{\"key\":\"d\",\"type\":\"case\",\"title\":\"Case B\","
        "\"status\":\"closed\",\"date\":\"2014\"},{\"key\":\"p\",\"type\":\"person\",\"name\":"
        "\"Ilmi Umerov\"}],\"links\":[[\"c\",\"p\",\"defendant\"]]}",
        0, NULL);
    json_t *ids = NULL;
    assert_int_equal(dft_vault_add(v, items, &ids, &e), DFT_OK);
    json_decref(items);
    json_decref(ids);
    assert_int_equal(dft_ui_start(&f->ui, v, f->vdir, 0, &e), DFT_OK);
    snprintf(f->host, sizeof f->host, "127.0.0.1:%u", (unsigned)dft_ui_port(f->ui));
    snprintf(f->base, sizeof f->base, "http://%s", f->host);
    login(f, dft_ui_url(f->ui));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    dft_ui_open_unpublish();
    dft_ui_free(f->ui);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
test_api_daily__schema_list_history_restore(void **state)
{
    struct fixture *f = *state;
    struct reply *r = req(f, "GET", "/api/schema", auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    json_t *j = body_json(r);
    assert_non_null(json_object_get(json_object_get(j, "types"), "proceeding"));
    json_decref(j);
    r = req(f, "GET", "/api/list?type=case&w.status=trial", auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    j = body_json(r);
    assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
    json_decref(j);
    r = req(f, "GET", "/api/list?type=case&sort=date", auth(f, 0), NULL);
    j = body_json(r);
    json_t *recs = json_object_get(j, "records");
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "title")),
                        "Case B");
    char pid[64];
    json_decref(j);
    r = req(f, "GET", "/api/list?type=person", auth(f, 0), NULL);
    j = body_json(r);
    snprintf(
        pid, sizeof pid, "%s",
        json_string_value(json_object_get(json_array_get(json_object_get(j, "records"), 0), "id")));
    json_decref(j);
    /* bad queries: one message each, 400 */
    static const char *const bad[] = {"/api/list?type=robot", "/api/list?type=case&w.staus=x",
                                      "/api/list?type=case&from=12.05.2016",
                                      "/api/list?type=case&sort=dte"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = req(f, "GET", bad[i], auth(f, 0), NULL);
        assert_int_equal(r->status, 400);
        j = body_json(r);
        assert_true(json_is_string(json_object_get(j, "error")));
        json_decref(j);
    }
    /* restore: refused while live; delete, then restore brings it back */
    json_int_t n0 = log_size(f);
    char path[128];
    snprintf(path, sizeof path, "/api/records/%s/restore", pid);
    assert_int_equal(req(f, "POST", path, auth(f, 1), "")->status, 400);
    assert_int_equal(req(f, "POST", path, auth(f, 0), "")->status, 403); /* no CSRF token */
    assert_int_equal(log_size(f), n0);
    snprintf(path, sizeof path, "/api/records/%s/delete", pid);
    assert_int_equal(req(f, "POST", path, auth(f, 1), "")->status, 200);
    r = req(f, "GET", "/api/list?deleted=1", auth(f, 0), NULL);
    j = body_json(r);
    assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
    json_decref(j);
    snprintf(path, sizeof path, "/api/records/%s/restore", pid);
    assert_int_equal(req(f, "POST", path, auth(f, 1), "")->status, 200);
    assert_int_equal(log_size(f), n0 + 2);
    snprintf(path, sizeof path, "/api/records/%s/history", pid);
    r = req(f, "GET", path, auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    j = body_json(r);
    json_t *h = json_object_get(j, "history");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(h, json_array_size(h) - 1), "action")),
        "restore");
    json_decref(j);
    assert_int_equal(
        req(f, "GET", "/api/records/per_zzzzzzzzzzzzzzzz/history", auth(f, 0), NULL)->status,
        200); /* an unknown id has no history */
    assert_int_equal(req(f, "GET", "/api/nothing", auth(f, 0), NULL)->status, 404);
}

static void
test_api_daily__csv_import_export(void **state)
{
    struct fixture *f = *state;
    json_int_t n0 = log_size(f);
    const char *csrf_csv[5];
    const char *const *a = auth(f, 1);
    for (int i = 0; i < 3; i++) {
        csrf_csv[i] = a[i];
    }
    csrf_csv[3] = "Content-Type: text/csv";
    csrf_csv[4] = NULL;
    /* a bad row: 400 naming row and column, nothing written */
    struct reply *r = req(f, "POST", "/api/import?type=person", csrf_csv,
                          "name,birth_date\nA,1990\nB,12.05.1990\n");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "row 3, column 'birth_date'"));
    r = req(f, "POST", "/api/import?type=person", csrf_csv, "name,staus\nA,x\n");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "did you mean"));
    assert_int_equal(req(f, "POST", "/api/import", csrf_csv, "name\nA\n")->status, 400);
    assert_int_equal(req(f, "POST", "/api/import?type=person", csrf_csv, "")->status, 400);
    assert_int_equal(req(f, "POST", "/api/import?type=person", auth(f, 0), "name\nA\n")->status,
                     403);
    /* a dry run writes nothing; the import is one envelope */
    r = req(f, "POST", "/api/import?type=person&dry_run=1", csrf_csv,
            "Full name,occupation\n\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc,\"say \"\"hi\"\"\"\n");
    assert_int_equal(r->status, 400); /* Full name is not a field */
    r = req(f, "POST", "/api/import?type=person&dry_run=1&m.Full%20name=name", csrf_csv,
            "Full name,occupation\n\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc,\"say \"\"hi\"\"\"\n");
    assert_int_equal(r->status, 200);
    assert_int_equal(log_size(f), n0);
    r = req(f, "POST", "/api/import?type=person&m.Full%20name=name", csrf_csv,
            "Full name,occupation\n\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc,\"say \"\"hi\"\"\"\n");
    assert_int_equal(r->status, 201);
    assert_int_equal(log_size(f), n0 + 1);
    r = req(f, "GET", "/api/export?format=csv&type=person", auth(f, 0), NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strcasestr(r->headers, "Content-Type: text/csv"));
    assert_non_null(strstr(r->body, "\"say \"\"hi\"\"\""));
    assert_non_null(strstr(r->body, "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc"));
    r = req(f, "GET", "/api/export?type=case&w.status=closed", auth(f, 0), NULL);
    json_t *j = body_json(r);
    assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
    json_decref(j);
}

static void
test_api_daily__no_session_page_and_open(void **state)
{
    struct fixture *f = *state;
    const char *uk[] = {"Accept-Language: uk-UA,uk;q=0.9,en;q=0.5", NULL};
    struct reply *r = req(f, "GET", "/record.html", uk, NULL);
    assert_int_equal(r->status, 401);
    assert_non_null(strcasestr(r->headers, "Content-Type: text/html"));
    assert_non_null(strstr(r->body, "<html lang=\"uk\">"));
    assert_non_null(strstr(r->body, "defter ui --open"));
    const char *none[] = {"Accept-Language: xx", NULL};
    r = req(f, "GET", "/", none, NULL);
    assert_non_null(strstr(r->body, "<html lang=\"en\">"));
    assert_int_equal(req(f, "GET", "/api/records", NULL, NULL)->status, 401);
    /* a used link: 403 and the page */
    r = req(f, "GET", strstr(dft_ui_url(f->ui), "/?t="), uk, NULL);
    assert_int_equal(r->status, 403);
    assert_non_null(strstr(r->body, "defter ui --open"));
    /* POST /open: refused without the published key, a fresh link with it */
    assert_int_equal(req(f, "POST", "/open", NULL, "")->status, 403);
    const char *wrong[] = {"X-Defter-Open: 00", NULL};
    assert_int_equal(req(f, "POST", "/open", wrong, "")->status, 403);
    struct dft_error e = {0};
    char url[DFT_UI_URL_MAX];
    setenv("XDG_RUNTIME_DIR", f->dir, 1);
    assert_int_equal(dft_ui_open_request(f->vdir, url, sizeof url, &e), DFT_ERR_NOT_FOUND);
    e = (struct dft_error){0};
    assert_int_equal(dft_ui_open_publish(f->ui, f->vdir, &e), DFT_OK);
    assert_int_equal(dft_ui_open_request(f->vdir, url, sizeof url, &e), DFT_OK);
    assert_int_equal(strncmp(url, f->base, strlen(f->base)), 0);
    login(f, url);
    assert_int_equal(req(f, "GET", "/api/records", auth(f, 0), NULL)->status, 200);
    /* the link is single use too */
    assert_int_equal(req(f, "GET", strstr(url, "/?t="), NULL, NULL)->status, 403);
    dft_ui_open_unpublish();
    assert_int_equal(dft_ui_open_request(f->vdir, url, sizeof url, &e), DFT_ERR_NOT_FOUND);
    unsetenv("XDG_RUNTIME_DIR");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_daily__schema_list_history_restore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_api_daily__csv_import_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_daily__no_session_page_and_open, setup, teardown),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
