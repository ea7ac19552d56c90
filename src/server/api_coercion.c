/*
 * api_coercion.c - POST /api/safety/... (api_coercion.h): the Safety page does what `defter
 * duress set`, `defter duress wipe-after` and `defter recovery split|combine|rotate` do, by
 * calling the same library functions.
 *
 * Secrets arrive in a form body held in the request's secure buffer and are decoded in place:
 * they are never copied into the heap, never logged, and wiped before the answer. The shares of
 * a split are written straight into a secure buffer as JSON (no jansson strings in the heap).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/coercion.h"
#include "defter/safety.h"
#include "defter/vault.h"
#include "server/api_coercion.h"

#define NAME_MAX_BYTES 16

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decode s[0..n) in place; its new length, or -1 on a bad or NUL escape or a NUL byte. */
static long
form_decode(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= n) {
                return -1;
            }
            int hi = hexval(s[i + 1]);
            int lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '\0') {
            return -1;
        }
        s[o++] = ch;
    }
    if (o < n) {
        sodium_memzero(s + o, n - o);
    }
    return (long)o;
}

int
ui_form_parse(char *body, size_t len, struct ui_form_field *f, int max)
{
    int k = 0;
    size_t i = 0;
    if (len == 0) {
        return 0;
    }
    while (i <= len) {
        size_t end = i;
        while (end < len && body[end] != '&') {
            end++;
        }
        size_t eq = i;
        while (eq < end && body[eq] != '=') {
            eq++;
        }
        if (k == max || eq == i) {
            return -1; /* too many fields, or an empty name ("&&", "=x", a trailing '&') */
        }
        body[end] = '\0';
        long nl = form_decode(body + i, eq - i);
        long vl = 0;
        if (eq < end) {
            body[eq] = '\0';
            vl = form_decode(body + eq + 1, end - eq - 1);
        }
        if (nl <= 0 || nl > NAME_MAX_BYTES || vl < 0) {
            return -1;
        }
        body[i + (size_t)nl] = '\0';
        for (long j = 0; j < nl; j++) {
            unsigned char ch = (unsigned char)body[i + (size_t)j];
            if (ch < 0x21 || ch > 0x7e) {
                return -1;
            }
        }
        f[k].name = body + i;
        f[k].value = eq < end ? body + eq + 1 : body + end; /* "" when there is no '=' */
        f[k].len = (size_t)vl;
        if (eq < end) {
            body[eq + 1 + (size_t)vl] = '\0';
        }
        k++;
        i = end + 1;
    }
    return k;
}

/* The one field called name: NULL when absent (or given twice: *twice set). */
static const struct ui_form_field *
field(const struct ui_form_field *f, int n, const char *name, int *twice)
{
    const struct ui_form_field *found = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(f[i].name, name) == 0) {
            if (found != NULL) {
                *twice = 1;
                return NULL;
            }
            found = &f[i];
        }
    }
    return found;
}

/* Everything one request needs: its fields, and the current passphrase. */
struct safety_req {
    struct ui_form_field f[UI_FORM_FIELDS_MAX];
    int n;
    int twice; /* a single field was given twice */
    const struct ui_form_field *pass;
};

static void
wipe_body(struct ui_req *r)
{
    if (r->body.data != NULL) {
        sodium_memzero(r->body.data, r->body.len);
    }
}

/* Send and wipe the body first: whatever the answer, no secret outlives the handler. */
static enum MHD_Result
refuse(struct MHD_Connection *c, struct ui_req *r, unsigned status, const char *msg)
{
    wipe_body(r);
    return ui_send_error(c, r, status, msg);
}

static enum MHD_Result
refuse_dft(struct MHD_Connection *c, struct ui_req *r, const struct dft_error *e)
{
    wipe_body(r);
    return ui_send_dft_error(c, r, e);
}

static const struct ui_form_field *
want(struct safety_req *q, const char *name)
{
    return field(q->f, q->n, name, &q->twice);
}

/* A non-empty single field, or NULL. */
static const struct ui_form_field *
want_text(struct safety_req *q, const char *name)
{
    const struct ui_form_field *x = want(q, name);
    return x != NULL && x->len > 0 ? x : NULL;
}

static enum MHD_Result
ok_json(struct MHD_Connection *c, struct ui_req *r, json_t *o)
{
    wipe_body(r);
    return ui_send_json(c, r, 200, o);
}

static enum MHD_Result
safety_duress(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, struct safety_req *q)
{
    const struct ui_form_field *action = want_text(q, "action");
    const struct ui_form_field *pass = want_text(q, "duress");
    const struct ui_form_field *decoy = want(q, "decoy");
    enum dft_duress_action act;
    if (action == NULL || q->twice) {
        return refuse(c, r, 400, "--action is required (shred, decoy or shred+decoy)");
    } else if (strcmp(action->value, "shred") == 0) {
        act = DFT_DURESS_SHRED;
    } else if (strcmp(action->value, "decoy") == 0) {
        act = DFT_DURESS_DECOY;
    } else if (strcmp(action->value, "shred+decoy") == 0) {
        act = DFT_DURESS_SHRED_DECOY;
    } else {
        return refuse(c, r, 400, "unknown action (shred, decoy, shred+decoy)");
    }
    if (pass == NULL) {
        return refuse(c, r, 400,
                      act == DFT_DURESS_DECOY ? "the decoy passphrase is empty"
                                              : "the duress passphrase is empty");
    }
    if (act == DFT_DURESS_SHRED_DECOY && (decoy == NULL || decoy->len == 0)) {
        return refuse(c, r, 400, "shred+decoy needs the decoy compartment's passphrase");
    }
    struct dft_error e;
    dft_error_clear(&e);
    if (dft_vault_duress_set(ui->vault, act, pass->value, pass->len, q->pass->value, q->pass->len,
                             act == DFT_DURESS_SHRED_DECOY ? decoy->value : NULL,
                             act == DFT_DURESS_SHRED_DECOY ? decoy->len : 0, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    dft_log(DFT_LOG_INFO, "ui: safety: duress setting changed");
    return ok_json(c, r, json_pack("{s:b, s:s}", "ok", 1, "action", action->value));
}

static enum MHD_Result
safety_wipe_after(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                  struct safety_req *q)
{
    const struct ui_form_field *a = want_text(q, "n");
    unsigned n = 0;
    if (a == NULL || q->twice) {
        return refuse(c, r, 400, "expected 'wipe-after N' (10 to 100) or 'wipe-after off'");
    }
    if (strcmp(a->value, "off") != 0) {
        char *end = NULL;
        errno = 0;
        unsigned long x = strtoul(a->value, &end, 10);
        if (a->value[0] < '0' || a->value[0] > '9' || *end != '\0' || errno != 0 ||
            x < DFT_WIPE_AFTER_MIN || x > DFT_WIPE_AFTER_MAX) {
            return refuse(c, r, 400, "wipe-after takes a number from 10 to 100, or 'off'");
        }
        n = (unsigned)x;
    }
    struct dft_error e;
    dft_error_clear(&e);
    if (dft_vault_wipe_after(ui->vault, n, q->pass->value, q->pass->len, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    dft_log(DFT_LOG_INFO, "ui: safety: wipe-after setting changed");
    return ok_json(c, r, json_pack("{s:b, s:i}", "ok", 1, "wipe_after", (int)n));
}

static int
parse_count(const struct ui_form_field *a, unsigned *out)
{
    if (a == NULL || a->len == 0 || a->len > 3) {
        return -1;
    }
    unsigned v = 0;
    for (size_t i = 0; i < a->len; i++) {
        if (a->value[i] < '0' || a->value[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned)(a->value[i] - '0');
    }
    *out = v;
    return 0;
}

/* JSON string of text that holds no control characters (words, SVG): '"' and '\' escaped. */
static enum dft_err
add_json_string(struct dft_buf *b, const char *s, size_t n)
{
    enum dft_err rc = dft_buf_add(b, "\"", 1);
    size_t from = 0;
    for (size_t i = 0; rc == DFT_OK && i <= n; i++) {
        if (i == n || s[i] == '"' || s[i] == '\\') {
            rc = dft_buf_add(b, s + from, i - from);
            if (rc == DFT_OK && i < n) {
                rc = dft_buf_add(b, "\\", 1);
            }
            from = i;
        }
    }
    return rc == DFT_OK ? dft_buf_add(b, "\"", 1) : rc;
}

static enum MHD_Result
safety_split(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, struct safety_req *q)
{
    unsigned m = 0, n = 0;
    if (q->twice || parse_count(want(q, "m"), &m) != 0 || parse_count(want(q, "n"), &n) != 0) {
        return refuse(c, r, 400, "--threshold M and --shares N go together");
    }
    struct dft_error e;
    dft_error_clear(&e);
    if (dft_vault_passphrase_check(ui->vault, q->pass->value, q->pass->len, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    wipe_body(r);
    struct dft_recovery_shares *s = NULL;
    if (dft_vault_recovery_split(ui->vault, m, n, &s, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    dft_log(DFT_LOG_INFO, "ui: safety: recovery split");
    struct dft_buf out, svg;
    char *words = sodium_malloc(DFT_SHARE_WORDS_CAP);
    dft_buf_init(&out, DFT_UI_BODY_MAX, 1);
    dft_buf_init(&svg, DFT_UI_BODY_MAX, 1);
    enum dft_err rc =
        words == NULL
            ? DFT_ERR_NOMEM
            : dft_buf_addf(&out, "{\"threshold\":%u,\"count\":%u,\"shares\":[", s->m, s->n);
    for (unsigned i = 0; rc == DFT_OK && i < s->n; i++) {
        dft_share_words(s->share[i], words, DFT_SHARE_WORDS_CAP);
        dft_buf_reset(&svg);
        rc = dft_share_qr_svg(s->share[i], &svg, &e);
        if (rc == DFT_OK) {
            rc = dft_buf_addf(&out, "%s{\"index\":%u,\"words\":", i ? "," : "", i + 1);
        }
        if (rc == DFT_OK) {
            rc = add_json_string(&out, words, strlen(words));
        }
        if (rc == DFT_OK) {
            rc = dft_buf_adds(&out, ",\"svg\":");
        }
        if (rc == DFT_OK) {
            rc = add_json_string(&out, (const char *)svg.data, svg.len);
        }
        if (rc == DFT_OK) {
            rc = dft_buf_adds(&out, "}");
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_adds(&out, "]}");
    }
    enum MHD_Result ret = rc == DFT_OK
                              ? ui_send(c, r, 200, "application/json", out.data, out.len, 1)
                              : ui_send_error(c, r, 500, "cannot show the shares (out of memory)");
    sodium_free(words);
    dft_buf_release(&svg);
    dft_buf_release(&out);
    dft_recovery_shares_free(s);
    return ret;
}

static enum MHD_Result
safety_rotate(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, struct safety_req *q)
{
    struct dft_error e;
    dft_error_clear(&e);
    if (dft_vault_passphrase_check(ui->vault, q->pass->value, q->pass->len, &e) != DFT_OK ||
        dft_vault_recovery_void(ui->vault, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    dft_log(DFT_LOG_INFO, "ui: safety: recovery shares voided");
    return ok_json(c, r, json_pack("{s:b}", "voided", 1));
}

static enum MHD_Result
safety_combine(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, struct safety_req *q)
{
    const struct ui_form_field *np = want_text(q, "new");
    if (q->twice) {
        return refuse(c, r, 400, "a field was given twice");
    }
    if (np == NULL) {
        return refuse(c, r, 400, "the new passphrase is empty");
    }
    struct dft_error e;
    dft_error_clear(&e);
    if (ui->vault != NULL &&
        dft_vault_passphrase_check(ui->vault, q->pass->value, q->pass->len, &e) != DFT_OK) {
        return refuse_dft(c, r, &e);
    }
    unsigned char(*shares)[DFT_SHARE_BYTES] =
        sodium_malloc(DFT_RECOVERY_SHARES_MAX * DFT_SHARE_BYTES);
    if (shares == NULL) {
        return refuse(c, r, 500, "out of memory");
    }
    unsigned k = 0;
    enum dft_err rc = DFT_OK;
    for (int i = 0; rc == DFT_OK && i < q->n; i++) {
        if (strcmp(q->f[i].name, "share") != 0) {
            continue;
        }
        char which[32];
        snprintf(which, sizeof which, "share %u", k + 1);
        if (k == DFT_RECOVERY_SHARES_MAX) {
            rc = dft_fail(&e, DFT_ERR_INPUT, "more than %d shares given", DFT_RECOVERY_SHARES_MAX);
        } else if ((rc = dft_share_parse_words(shares[k], q->f[i].value, which, &e)) == DFT_OK) {
            k++;
        }
    }
    if (rc == DFT_OK && k == 0) {
        rc = dft_fail(&e, DFT_ERR_INPUT, "no share given");
    }
    if (rc != DFT_OK) {
        sodium_free(shares);
        return refuse_dft(c, r, &e);
    }
    /* The vault is taken over by the combine (it opens the folder itself): lock the page. */
    int was_open = ui->vault != NULL;
    dft_vault_close(ui->vault);
    ui->vault = NULL;
    ui->lock_gen++;
    ui_seen_clear(ui);
    rc = dft_vault_recovery_combine(ui->dir, (const unsigned char(*)[DFT_SHARE_BYTES])shares, k,
                                    np->value, np->len, DFT_KDF_MODERATE, &e);
    sodium_free(shares);
    if (rc != DFT_OK) {
        if (was_open) { /* give the page back as it was */
            struct dft_vault *v = NULL;
            struct dft_error e2;
            dft_error_clear(&e2);
            if (dft_vault_open(&v, ui->dir, q->pass->value, q->pass->len, &e2) == DFT_OK) {
                ui->vault = v;
            }
        }
        return refuse_dft(c, r, &e);
    }
    dft_log(DFT_LOG_INFO, "ui: safety: recovered with %u shares; vault locked", k);
    return ok_json(c, r, json_pack("{s:b, s:i, s:b}", "ok", 1, "shares", (int)k, "locked", 1));
}

enum MHD_Result
ui_api_safety(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *action)
{
    static const char *const routes[] = {"api/safety/duress", "api/safety/wipe-after",
                                         "api/safety/split", "api/safety/rotate",
                                         "api/safety/combine"};
    int which = -1;
    for (int i = 0; i < 5; i++) {
        if (strcmp(action, routes[i] + 11) == 0) {
            which = i;
        }
    }
    if (which < 0) {
        r->route = "api/safety";
        return refuse(c, r, 404, "not found");
    }
    r->route = routes[which];
    if (ui->vault == NULL && which != 4) {
        wipe_body(r);
        return ui_send_json(c, r, 423,
                            json_pack("{s:s, s:b}", "error", "the vault is locked", "locked", 1));
    }
    struct safety_req *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return refuse(c, r, 500, "out of memory");
    }
    enum MHD_Result ret;
    q->n = r->body.data == NULL
               ? 0
               : ui_form_parse((char *)r->body.data, r->body.len, q->f, UI_FORM_FIELDS_MAX);
    if (q->n < 0) {
        ret = refuse(c, r, 400, "malformed form");
    } else if ((q->pass = want_text(q, "pass")) == NULL && (ui->vault != NULL || which != 4)) {
        ret = refuse(c, r, 403,
                     q->twice ? "a field was given twice" : "type the vault's current passphrase");
    } else if (which == 0) {
        ret = safety_duress(ui, c, r, q);
    } else if (which == 1) {
        ret = safety_wipe_after(ui, c, r, q);
    } else if (which == 2) {
        ret = safety_split(ui, c, r, q);
    } else if (which == 3) {
        ret = safety_rotate(ui, c, r, q);
    } else {
        ret = safety_combine(ui, c, r, q);
    }
    wipe_body(r);
    sodium_memzero(q, sizeof *q);
    free(q);
    return ret;
}
