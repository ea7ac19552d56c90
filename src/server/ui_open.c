/*
 * ui_open.c - a fresh link to a running `defter ui` (`defter ui --open`), and the page a
 * browser gets without a session (a used link, or no link) instead of raw text.
 *
 * The running UI writes "PORT KEY" (KEY: 256 random bits, hex) to a 0600 file of the user, in
 * $XDG_RUNTIME_DIR (else the vault directory, which is 0700): defter-ui-<16 hex of the vault
 * path>. `defter ui --open` reads it and POSTs /open with the header X-Defter-Open: KEY; the
 * server answers with a new one-time URL (the previous unused token stops working; a session
 * opened with the new one replaces the old). The key never leaves the user's own files and
 * loopback; it is compared in constant time and removed when the UI stops.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "defter/ui_open.h"
#include "server/http_parse.h"
#include "server/ui_internal.h"
#include "server/ui_open.h"

#define OPEN_KEY_HEX 64

static char open_path[PATH_MAX]; /* the published file, "" when none */
static char *open_key;           /* sodium_malloc'd hex key of the running UI, or NULL */

static enum dft_err
runtime_path(const char *vault_dir, char *out, size_t max, struct dft_error *err)
{
    char real[PATH_MAX];
    const char *dir = realpath(vault_dir, real) != NULL ? real : vault_dir;
    unsigned char h[DFT_HASH_BYTES];
    char hex[2 * DFT_HASH_BYTES + 1];
    struct crypto_sha256 s;
    enum dft_err rc = crypto_sha256_init(&s, err);
    if (rc != DFT_OK) {
        return rc;
    }
    crypto_sha256_update(&s, dir, strlen(dir));
    crypto_sha256_final(&s, h);
    crypto_sha256_release(&s);
    dft_hex_encode(hex, h, sizeof h);
    const char *rt = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    int n;
    if (rt != NULL && rt[0] == '/' && stat(rt, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == getuid()) {
        n = snprintf(out, max, "%s/defter-ui-%.16s", rt, hex);
    } else {
        n = snprintf(out, max, "%s/.ui-open", dir);
    }
    if (n < 0 || (size_t)n >= max) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "the vault path is too long");
    }
    return DFT_OK;
}

enum dft_err
dft_ui_open_publish(struct dft_ui *ui, const char *vault_dir, struct dft_error *err)
{
    char path[PATH_MAX];
    enum dft_err rc = runtime_path(vault_dir, path, sizeof path, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (open_key == NULL && (open_key = sodium_malloc(OPEN_KEY_HEX + 1)) == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    unsigned char raw[OPEN_KEY_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    dft_hex_encode(open_key, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    /* a file left by a UI that was killed is stale: its key opens nothing */
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    char line[16 + OPEN_KEY_HEX + 2];
    int n = snprintf(line, sizeof line, "%u %s\n", (unsigned)ui->port, open_key);
    ssize_t w = n > 0 ? write(fd, line, (size_t)n) : -1;
    sodium_memzero(line, sizeof line);
    if (w != n || close(fd) != 0) {
        (void)unlink(path);
        return dft_fail(err, DFT_ERR_IO, "cannot write '%s'", path);
    }
    snprintf(open_path, sizeof open_path, "%s", path);
    return DFT_OK;
}

void
dft_ui_open_unpublish(void)
{
    if (open_path[0] != '\0') {
        (void)unlink(open_path);
        open_path[0] = '\0';
    }
    if (open_key != NULL) {
        sodium_free(open_key);
        open_key = NULL;
    }
}

int
dft_ui_open_route(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *method,
                  const char *path, enum MHD_Result *ret)
{
    if (strcmp(path, "/open") != 0 || strcmp(method, "POST") != 0) {
        return 0;
    }
    r->route = "open";
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Defter-Open");
    if (open_key == NULL || key == NULL || !http_token_eq(key, strlen(key), open_key)) {
        *ret = ui_send_error(c, r, 403, "refused");
        return 1;
    }
    unsigned char raw[DFT_UI_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    dft_hex_encode(ui->sec->token, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    int n = snprintf(ui->sec->url, sizeof ui->sec->url, "http://127.0.0.1:%u/?t=%s",
                     (unsigned)ui->port, ui->sec->token);
    if (n < 0 || (size_t)n >= sizeof ui->sec->url) {
        *ret = ui_send_error(c, r, 500, "url too long");
        return 1;
    }
    dft_log(DFT_LOG_INFO, "ui: a fresh link was issued");
    *ret = ui_send(c, r, 200, "text/plain; charset=utf-8", ui->sec->url, (size_t)n, 1);
    return 1;
}

/* ---- the client side: `defter ui --open` ---- */

struct reply {
    char data[DFT_UI_URL_MAX];
    size_t len;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct reply *rep = ctx;
    size_t n = size * nmemb;
    if (rep->len + n >= sizeof rep->data) {
        return 0;
    }
    memcpy(rep->data + rep->len, p, n);
    rep->len += n;
    rep->data[rep->len] = '\0';
    return n;
}

enum dft_err
dft_ui_open_request(const char *vault_dir, char *url_out, size_t max, struct dft_error *err)
{
    char path[PATH_MAX];
    enum dft_err rc = runtime_path(vault_dir, path, sizeof path, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_NOT_FOUND,
                        "no `defter ui` is running on this vault (start one with `defter ui`)");
    }
    char line[16 + OPEN_KEY_HEX + 2];
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    unsigned port = 0;
    char key[OPEN_KEY_HEX + 1];
    if (n <= 0) {
        return dft_fail(err, DFT_ERR_INPUT, "'%s' is damaged", path);
    }
    line[n] = '\0';
    if (sscanf(line, "%5u %64s", &port, key) != 2 || port == 0 || port > 65535 ||
        strlen(key) != OPEN_KEY_HEX) {
        sodium_memzero(line, sizeof line);
        return dft_fail(err, DFT_ERR_INPUT, "'%s' is damaged", path);
    }
    sodium_memzero(line, sizeof line);
    char url[64], hdr[32 + OPEN_KEY_HEX];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/open", port);
    snprintf(hdr, sizeof hdr, "X-Defter-Open: %s", key);
    sodium_memzero(key, sizeof key);
    struct reply rep = {{0}, 0};
    CURL *curl = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(NULL, hdr);
    sodium_memzero(hdr, sizeof hdr);
    long status = 0;
    CURLcode cc = CURLE_FAILED_INIT;
    if (curl != NULL && hs != NULL) {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rep);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        cc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hs);
    curl_easy_cleanup(curl);
    if (cc != CURLE_OK) {
        return dft_fail(err, DFT_ERR_NOT_FOUND,
                        "no `defter ui` answers on port %u (start one with `defter ui`)", port);
    }
    if (status != 200 || strncmp(rep.data, "http://127.0.0.1:", 17) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the running `defter ui` refused a new link");
    }
    if (rep.len >= max) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "the link is too long");
    }
    memcpy(url_out, rep.data, rep.len + 1);
    sodium_memzero(&rep, sizeof rep);
    return DFT_OK;
}

/* ---- the page without a session ---- */

struct page_text {
    const char *lang, *title, *used, *none, *todo;
};

static const struct page_text pages[] = {
    {"crh", "Defter: seans yoq", "Bu bağlantı endi qullanıldı: er bağlantı tek bir kere çalışa.",
     "Bu saifeni açmaq içün `defter ui` yazğan bağlantını açıñız.",
     "Yañı bir bağlantı içün terminalde `defter ui --open` yazıñız (`defter ui` çalışqanda) "
     "ve yazılğan bağlantını bu brauzerde açıñız."},
    {"uk", "Defter: немає сеансу",
     "Це посилання вже використане: кожне посилання працює лише один раз.",
     "Щоб відкрити цю сторінку, відкрийте посилання, яке надрукувала команда `defter ui`.",
     "Щоб отримати нове посилання, виконайте в терміналі `defter ui --open` (поки `defter ui` "
     "працює) і відкрийте надруковане посилання в цьому браузері."},
    {"ru", "Defter: нет сеанса",
     "Эта ссылка уже использована: каждая ссылка работает только один раз.",
     "Чтобы открыть эту страницу, откройте ссылку, которую напечатала команда `defter ui`.",
     "Чтобы получить новую ссылку, выполните в терминале `defter ui --open` (пока `defter ui` "
     "работает) и откройте напечатанную ссылку в этом браузере."},
    {"tr", "Defter: oturum yok",
     "Bu bağlantı zaten kullanıldı: her bağlantı yalnızca bir kez çalışır.",
     "Bu sayfayı açmak için `defter ui` komutunun yazdığı bağlantıyı açın.",
     "Yeni bir bağlantı için terminalde `defter ui --open` yazın (`defter ui` çalışırken) ve "
     "yazılan bağlantıyı bu tarayıcıda açın."},
    {"en", "Defter: no session", "This link was already used: each link works only once.",
     "To open this page, open the link that `defter ui` printed.",
     "For a fresh link, run `defter ui --open` in a terminal (while `defter ui` runs) and open "
     "the link it prints in this browser."},
};

/* The first language of Accept-Language we have a page in; English otherwise. */
static const struct page_text *
page_for(const char *accept)
{
    const char *p = accept;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
            size_t n = strlen(pages[i].lang);
            if (strncasecmp(p, pages[i].lang, n) == 0 &&
                (p[n] == '\0' || p[n] == '-' || p[n] == ';' || p[n] == ',')) {
                return &pages[i];
            }
        }
        p = strchr(p, ',');
    }
    return &pages[sizeof pages / sizeof pages[0] - 1];
}

enum MHD_Result
dft_ui_send_help_page(struct MHD_Connection *c, struct ui_req *r, unsigned status, int used)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language");
    const struct page_text *pt = page_for(accept);
    char body[4096];
    int n = snprintf(body, sizeof body,
                     "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>%s</title></head><body><main id=\"no-session\">"
                     "<h1>%s</h1><p id=\"why\">%s</p><p id=\"todo\">%s</p></main></body></html>\n",
                     pt->lang, pt->title, pt->title, used ? pt->used : pt->none, pt->todo);
    if (n < 0 || (size_t)n >= sizeof body) {
        return ui_send_error(c, r, status, "no session");
    }
    return ui_send(c, r, status, "text/html; charset=utf-8", body, (size_t)n, 1);
}
