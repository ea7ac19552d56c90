/*
 * api_evidence.c - evidence in `defter ui`: uploads streamed from a multipart/form-data body
 * into an encrypted object as the bytes arrive (libmicrohttpd's post processor feeding
 * dft_evidence_writer), and viewing or downloading evidence by decrypting only the requested
 * byte range (HTTP Range, 206), with a custody operation once per session and event.
 *
 * Runs on the server thread after ui.c's security checks. It must never write plaintext to
 * disk, keep an object or record an operation for an upload that was malformed, truncated,
 * too large or begun before a lock, serve a byte before its custody operation is durable, or
 * serve stored content inline under a type a browser could run (HTML, SVG: attachment only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "defter/vault.h"
#include "server/http_parse.h"
#include "server/ui_internal.h"

#define PP_BUFFER_BYTES 65536 /* post processor buffer (part headers, boundaries) */
#define UPLOAD_NAME_MAX 256   /* bytes of a stored file name */
#define SEEN_MAX        4096  /* custody keys remembered per session */
#define SEEN_KEY_MAX    (DFT_ID_MAX + 16)
#define STREAM_BLOCK    (256u * 1024u) /* bytes per read callback */
#define DISPOSITION_MAX (4 * UPLOAD_NAME_MAX + 128)
/* Stored content is never a document of ours: no script, no form, sandboxed, not framed. */
#define EVIDENCE_CSP                                                                               \
    "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'; "               \
    "base-uri 'none'; form-action 'none'; sandbox"
/* A PDF: chromium's viewer is a plugin of the document, and our page frames it. */
#define EVIDENCE_CSP_PDF                                                                           \
    "default-src 'none'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'; "             \
    "form-action 'none'"

struct ui_upload {
    struct MHD_PostProcessor *pp;
    struct dft_evidence_writer *w; /* NULL once failed or finished */
    char record[DFT_ID_MAX];
    char name[UPLOAD_NAME_MAX]; /* file name from the part, cleaned */
    unsigned gen;               /* ui->lock_gen when it began */
    unsigned status;            /* refusal decided while streaming, 0: none */
    const char *msg;            /* its message (static) */
    int files;                  /* file parts seen */
    uint64_t next_off;          /* offset expected in the current file part */
};

struct ui_seen {
    size_t n;
    char keys[SEEN_MAX][SEEN_KEY_MAX]; /* "evd_...:view" */
};

/* ---- uploads ---- */

int
ui_upload_route(const char *method, const char *url)
{
    size_t n = strlen(url);
    static const char tail[] = "/evidence";
    if (strcmp(method, "POST") != 0 || strncmp(url, "/api/records/", 13) != 0 ||
        n < 13 + sizeof tail || strcmp(url + n - (sizeof tail - 1), tail) != 0) {
        return 0;
    }
    return 1;
}

static void
upload_fail(struct ui_upload *u, unsigned status, const char *msg)
{
    if (u->status == 0) {
        u->status = status;
        u->msg = msg;
    }
    dft_evidence_writer_abort(u->w); /* the temporary file goes now, not at the end */
    u->w = NULL;
}

/* Keep the last path component of a client's file name, printable and valid UTF-8. */
static void
clean_name(char out[UPLOAD_NAME_MAX], const char *in)
{
    const char *base = in;
    size_t n = 0;
    for (const char *p = in; *p != '\0'; p++) {
        if (*p == '/' || *p == '\\') {
            base = p + 1;
        }
    }
    for (const char *p = base; *p != '\0' && n < UPLOAD_NAME_MAX - 1; p++) {
        unsigned char ch = (unsigned char)*p;
        out[n++] = ch < 0x20 || ch == 0x7f ? '_' : (char)ch;
    }
    out[n] = '\0';
    /* a cut in the middle of a UTF-8 sequence: drop the tail */
    while (n > 0 && !dft_utf8_valid(out, n)) {
        out[--n] = '\0';
    }
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        snprintf(out, UPLOAD_NAME_MAX, "upload");
    }
}

static enum MHD_Result
on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
        const char *content_type, const char *transfer_encoding, const char *data, uint64_t off,
        size_t size)
{
    struct ui_upload *u = cls;
    struct dft_error e;
    (void)kind;
    (void)content_type;
    dft_error_clear(&e);
    if (u->status != 0) {
        return MHD_NO;
    }
    if (key == NULL || strcmp(key, "file") != 0 || filename == NULL) {
        upload_fail(u, 400, "the upload must be one form field \"file\" holding a file");
        return MHD_NO;
    }
    if (transfer_encoding != NULL && transfer_encoding[0] != '\0' &&
        strcasecmp(transfer_encoding, "binary") != 0 &&
        strcasecmp(transfer_encoding, "8bit") != 0 && strcasecmp(transfer_encoding, "7bit") != 0) {
        upload_fail(u, 400, "unsupported Content-Transfer-Encoding in the upload");
        return MHD_NO;
    }
    if (off == 0 && u->next_off == 0 && u->files == 0) {
        u->files = 1;
        clean_name(u->name, filename);
    } else if (off != u->next_off || (off == 0 && u->next_off > 0)) {
        upload_fail(u, 400, "the upload must hold exactly one file");
        return MHD_NO;
    }
    if (size > 0) {
        if (u->w == NULL || dft_evidence_writer_write(u->w, data, size, &e) != DFT_OK) {
            upload_fail(u, e.code == DFT_ERR_TOO_LARGE ? 413 : 500,
                        e.code == DFT_ERR_TOO_LARGE ? "the file is larger than the upload limit"
                                                    : "cannot store the upload");
            return MHD_NO;
        }
        u->next_off = off + size;
    }
    return MHD_YES;
}

static void
upload_free(struct ui_upload *u)
{
    if (u == NULL) {
        return;
    }
    if (u->pp != NULL) {
        (void)MHD_destroy_post_processor(u->pp);
    }
    dft_evidence_writer_abort(u->w);
    sodium_memzero(u, sizeof *u);
    free(u);
}

void
ui_upload_abort(struct ui_req *r)
{
    upload_free(r->upload);
    r->upload = NULL;
}

int
ui_upload_begin(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *url,
                enum MHD_Result *ret)
{
    const char *id = url + 13; /* after "/api/records/" */
    size_t idlen = strlen(id) - (sizeof "/evidence" - 1);
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    struct ui_upload *u = NULL;
    struct dft_error e;
    json_t *rec = NULL;
    dft_error_clear(&e);
    r->route = "api/records/:id/evidence";
    if (ui->vault == NULL) {
        *ret = ui_send_json(c, r, 423,
                            json_pack("{s:s, s:b}", "error", "the vault is locked", "locked", 1));
        return 1;
    }
    if (!ui_id_ok(id, idlen)) {
        *ret = ui_send_error(c, r, 404, "no such record");
        return 1;
    }
    if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0) {
        *ret = ui_send_error(c, r, 415, "an upload must be multipart/form-data");
        return 1;
    }
    u = calloc(1, sizeof *u);
    if (u == NULL) {
        *ret = ui_send_error(c, r, 500, "out of memory");
        return 1;
    }
    memcpy(u->record, id, idlen);
    u->record[idlen] = '\0';
    u->gen = ui->lock_gen;
    if (dft_vault_show(ui->vault, u->record, 0, &rec, &e) != DFT_OK) {
        *ret = ui_send_dft_error(c, r, &e);
        goto refused;
    }
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (type == NULL || !dft_record_type_valid(type)) {
        *ret = ui_send_error(c, r, 400, "evidence attaches to records only");
        goto refused;
    }
    u->pp = MHD_create_post_processor(c, PP_BUFFER_BYTES, on_part, u);
    if (u->pp == NULL) {
        *ret = ui_send_error(c, r, 400, "malformed multipart/form-data header");
        goto refused;
    }
    if (dft_vault_upload_open(ui->vault, ui->upload_max, &u->w, &e) != DFT_OK) {
        *ret = ui_send_dft_error(c, r, &e);
        goto refused;
    }
    json_decref(rec);
    r->upload = u;
    return 0;
refused:
    json_decref(rec);
    upload_free(u);
    return 1;
}

void
ui_upload_feed(struct dft_ui *ui, struct ui_req *r, const char *data, size_t n)
{
    struct ui_upload *u = r->upload;
    if (u == NULL || u->status != 0) {
        return; /* refused already: discard */
    }
    if (ui->lock_gen != u->gen) {
        upload_fail(u, 423, "the vault was locked during the upload");
        return;
    }
    if (MHD_post_process(u->pp, data, n) != MHD_YES) {
        upload_fail(u, 400, "malformed multipart/form-data body");
    }
}

enum MHD_Result
ui_upload_finish(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct ui_upload *u = r->upload;
    struct dft_error e;
    json_t *row = NULL;
    enum MHD_Result ret;
    dft_error_clear(&e);
    if (u == NULL) {
        return ui_send_error(c, r, 500, "no upload in progress");
    }
    int complete = MHD_destroy_post_processor(u->pp) == MHD_YES;
    u->pp = NULL;
    if (u->status == 0 && (ui->vault == NULL || ui->lock_gen != u->gen)) {
        upload_fail(u, 423, "the vault was locked during the upload");
    }
    if (u->status == 0 && !complete) {
        upload_fail(u, 400, "truncated or malformed multipart/form-data body");
    }
    if (u->status == 0 && u->files != 1) {
        upload_fail(u, 400, "the upload holds no file");
    }
    if (u->status != 0) {
        if (u->status == 423) {
            ret = ui_send_json(c, r, 423, json_pack("{s:s, s:b}", "error", u->msg, "locked", 1));
        } else {
            ret = ui_send_error(c, r, u->status, u->msg);
        }
        ui_upload_abort(r);
        return ret;
    }
    struct dft_evidence_writer *w = u->w;
    u->w = NULL;
    if (dft_vault_upload_finish(ui->vault, w, u->record, u->name, &row, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else {
        (void)json_object_set_new(row, "name", json_string(u->name));
        ret = ui_send_json(c, r, 201, row);
        dft_log(DFT_LOG_INFO, "ui: evidence stored");
    }
    ui_upload_abort(r);
    return ret;
}

/* ---- custody once per session ---- */

void
ui_seen_clear(struct dft_ui *ui)
{
    free(ui->seen);
    ui->seen = NULL;
}

/* 1 when key was recorded before; otherwise remember it (when there is room) and return 0. */
static int
seen_check(struct dft_ui *ui, const char *key)
{
    if (ui->seen == NULL) {
        ui->seen = calloc(1, sizeof *ui->seen);
        if (ui->seen == NULL) {
            return 0; /* record again rather than never */
        }
    }
    for (size_t i = 0; i < ui->seen->n; i++) {
        if (strcmp(ui->seen->keys[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
seen_add(struct dft_ui *ui, const char *key)
{
    if (ui->seen != NULL && ui->seen->n < SEEN_MAX) {
        snprintf(ui->seen->keys[ui->seen->n++], SEEN_KEY_MAX, "%s", key);
    }
}

/* ---- viewing: byte ranges decrypted on demand ---- */

struct ui_stream {
    struct dft_evidence_obj *obj;
    struct dft_ui *ui;
    unsigned gen;         /* ui->lock_gen at the start: a lock ends the stream */
    uint64_t first;       /* first plaintext byte of the response */
    unsigned char *cache; /* one decrypted chunk (plaintext: wiped on free) */
    uint64_t cache_off;   /* plaintext offset of cache[0] */
    size_t cache_len;     /* valid bytes in cache */
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct ui_stream *s = cls;
    uint64_t at = s->first + pos;
    if (s->ui->lock_gen != s->gen) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (at < s->cache_off || at >= s->cache_off + s->cache_len) {
        /* decrypt the whole chunk holding at, once, instead of once per callback */
        struct dft_error e;
        uint64_t base = at - at % DFT_EVIDENCE_CHUNK_BYTES;
        size_t n = 0;
        dft_error_clear(&e);
        s->cache_len = 0;
        if (dft_evidence_read(s->obj, base, s->cache, DFT_EVIDENCE_CHUNK_BYTES, &n, &e) != DFT_OK ||
            n == 0 || at >= base + n) {
            dft_log(DFT_LOG_WARN, "ui: evidence read failed (%s)", dft_strerror(e.code));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        s->cache_off = base;
        s->cache_len = n;
    }
    size_t avail = (size_t)(s->cache_off + s->cache_len - at);
    size_t take = avail < max ? avail : max;
    memcpy(buf, s->cache + (at - s->cache_off), take);
    return (ssize_t)take;
}

static void
stream_free(void *cls)
{
    struct ui_stream *s = cls;
    if (s == NULL) {
        return;
    }
    dft_evidence_close(s->obj);
    if (s->cache != NULL) {
        sodium_memzero(s->cache, DFT_EVIDENCE_CHUNK_BYTES);
        free(s->cache);
    }
    free(s);
}

/* Types a browser shows without running anything: only these are served inline. */
static int
inline_type(const char *mime)
{
    static const char *const ok[] = {"image/jpeg", "image/png",  "image/gif",  "image/webp",
                                     "video/mp4",  "video/webm", "video/ogg",  "audio/mpeg",
                                     "audio/ogg",  "audio/wav",  "audio/webm", "application/pdf"};
    for (size_t i = 0; mime != NULL && i < sizeof ok / sizeof ok[0]; i++) {
        if (strcmp(mime, ok[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Content-Disposition with an ASCII fallback name and the UTF-8 name percent-encoded. */
static void
disposition(char out[DISPOSITION_MAX], int attachment, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    char ascii[UPLOAD_NAME_MAX], enc[3 * UPLOAD_NAME_MAX];
    size_t a = 0, k = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && a < sizeof ascii - 1; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';
        ascii[a++] = plain ? (char)*p : '_';
        if (k + 3 < sizeof enc) {
            if (plain) {
                enc[k++] = (char)*p;
            } else {
                enc[k++] = '%';
                enc[k++] = hex[*p >> 4];
                enc[k++] = hex[*p & 15];
            }
        }
    }
    ascii[a] = '\0';
    enc[k] = '\0';
    snprintf(out, DISPOSITION_MAX, "%s; filename=\"%s\"; filename*=UTF-8''%s",
             attachment ? "attachment" : "inline", a ? ascii : "evidence", k ? enc : "evidence");
}

enum MHD_Result
ui_evidence_content(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *evid,
                    int head)
{
    const char *dl = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "download");
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    struct dft_error e;
    struct ui_stream *s = NULL;
    struct MHD_Response *resp = NULL;
    json_t *ev = NULL;
    enum MHD_Result ret;
    char key[SEEN_KEY_MAX], hdr[DISPOSITION_MAX];
    uint64_t first = 0, last = 0;
    int download = dl != NULL;
    dft_error_clear(&e);

    if (dft_vault_show(ui->vault, evid, 0, &ev, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *mime = json_string_value(json_object_get(ev, "mime"));
    const char *name = json_string_value(json_object_get(ev, "name"));
    if (type == NULL || strcmp(type, "evidence") != 0) {
        ret = ui_send_error(c, r, 404, "no such evidence");
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        ret = ui_send_error(c, r, 500, "out of memory");
        goto out;
    }
    s->ui = ui;
    s->gen = ui->lock_gen;
    if (dft_vault_evidence_open(ui->vault, evid, &s->obj, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
        goto out;
    }
    uint64_t size = dft_evidence_size(s->obj);
    enum dft_http_range rg = http_range_parse(range, size, &first, &last);
    if (rg == DFT_HTTP_RANGE_BAD || rg == DFT_HTTP_RANGE_UNSATISFIABLE) {
        /* strict: a malformed, reversed or multiple range is refused, not ignored */
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL) {
            ret = MHD_NO;
            goto out;
        }
        ui_security_headers(resp, NULL, NULL);
        (void)MHD_add_response_header(resp, "Content-Range", cr);
        r->status = 416;
        ret = MHD_queue_response(c, 416, resp);
        goto out;
    }
    if (rg == DFT_HTTP_RANGE_NONE) {
        first = 0;
        last = size == 0 ? 0 : size - 1;
    }
    /* custody before the first byte leaves, once per session and kind of access */
    snprintf(key, sizeof key, "%s:%s", evid, download ? "download" : "view");
    if (!head && !seen_check(ui, key)) {
        if (dft_vault_custody(ui->vault, evid, download ? "download" : "view", "ui", &e) !=
            DFT_OK) {
            ret = ui_send_dft_error(c, r, &e);
            goto out;
        }
        seen_add(ui, key);
    }
    s->first = first;
    s->cache = malloc(DFT_EVIDENCE_CHUNK_BYTES);
    if (s->cache == NULL) {
        ret = ui_send_error(c, r, 500, "out of memory");
        goto out;
    }
    uint64_t len = size == 0 ? 0 : last - first + 1;
    resp = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, s, stream_free);
    if (resp == NULL) {
        ret = MHD_NO;
        goto out;
    }
    s = NULL; /* the response owns it */
    int show = inline_type(mime) && !download;
    int pdf = show && strcmp(mime, "application/pdf") == 0;
    ui_security_headers(resp, pdf ? EVIDENCE_CSP_PDF : EVIDENCE_CSP, pdf ? "SAMEORIGIN" : "DENY");
    (void)MHD_add_response_header(resp, "Content-Type", show ? mime : "application/octet-stream");
    disposition(hdr, !show, name != NULL ? name : "evidence");
    (void)MHD_add_response_header(resp, "Content-Disposition", hdr);
    (void)MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    unsigned status = 200;
    if (rg == DFT_HTTP_RANGE_OK) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)size);
        (void)MHD_add_response_header(resp, "Content-Range", cr);
        status = 206;
    }
    r->status = status;
    ret = MHD_queue_response(c, status, resp);
out:
    if (resp != NULL) {
        MHD_destroy_response(resp);
    }
    stream_free(s);
    json_decref(ev);
    return ret;
}
