/*
 * export.c - `defter export --bundle`: plan what each record shows under a profile, disclose
 * the operations, and write one stored, deterministic ZIP (docs/bundle-format.md).
 *
 * Reads the vault only through src/vault/export.h. The bundle holds plaintext by design (it is
 * what leaves the vault); withheld fields never enter it, only their salted digests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zip.h>

#include "bundle/internal.h"
#include "crypto/hash.h"
#include "defter/evidence.h"
#include "log/tlog.h"
#include "vault/export.h"

#define ZIP_FIXED_MTIME 315532800 /* 1980-01-01 00:00:00 UTC: the first DOS date */
#define JSON_OUT_FLAGS  (JSON_COMPACT | JSON_SORT_KEYS)
#define ENTRY_NAME_MAX  128

struct plan {
    struct bundle_profile prof;
    json_t *sel;     /* from dft_vault_export_select */
    json_t *records; /* selected records that stay (array, sorted by id) */
    json_t *shown;   /* id -> record or evidence object, for every id the bundle shows */
    json_t *masked;  /* id -> true */
    json_t *dropped; /* [{"id","reason"}] */
    int unseal;      /* a privileged note is in: open its sealed operations to disclose them */
};

static void
plan_release(struct plan *p)
{
    bundle_profile_release(&p->prof);
    json_decref(p->sel);
    json_decref(p->records);
    json_decref(p->shown);
    json_decref(p->masked);
    json_decref(p->dropped);
    memset(p, 0, sizeof *p);
}

static int
truthy(const json_t *v)
{
    if (json_is_true(v)) {
        return 1;
    }
    if (json_is_integer(v)) {
        return json_integer_value(v) != 0;
    }
    const char *s = json_string_value(v);
    return s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0);
}

/* Keep a privileged note in the plan with the fields its author reads (sealed ones opened). */
static enum dft_err
plan_privileged(struct dft_vault *v, struct plan *p, const json_t *r, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(r, "id"));
    json_t *fields = NULL;
    enum dft_err rc = dft_vault_export_privileged(v, id, &fields, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *rec = json_pack("{sO sO so}", "id", json_object_get(r, "id"), "type",
                            json_object_get(r, "type"), "fields", fields);
    if (rec == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    p->unseal = 1;
    json_array_append(p->records, rec);
    json_object_set_new(p->shown, id, rec);
    return DFT_OK;
}

static enum dft_err
plan_build(struct dft_vault *v, const struct dft_bundle_selection *sel, struct plan *p,
           struct dft_error *err)
{
    memset(p, 0, sizeof *p);
    enum dft_err rc = bundle_profile_load(&p->prof, sel->profile, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = dft_vault_export_select(v, sel->case_id, sel->records, &p->sel, err)) != DFT_OK) {
        return rc;
    }
    p->records = json_array();
    p->shown = json_object();
    p->masked = json_object();
    p->dropped = json_array();
    if (p->records == NULL || p->shown == NULL || p->masked == NULL || p->dropped == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(p->sel, "records"), i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *type = json_string_value(json_object_get(r, "type"));
        if (type != NULL && strcmp(type, "note") == 0 &&
            truthy(json_object_get(json_object_get(r, "fields"), "privileged"))) {
            if (!p->prof.privileged && !(sel->flags & DFT_BUNDLE_INCLUDE_PRIVILEGED)) {
                json_array_append_new(p->dropped,
                                      json_pack("{ss ss}", "id", id, "reason", "privileged note"));
                continue;
            }
            /* --include-privileged: the author's own view of the note, or a refusal */
            if ((rc = plan_privileged(v, p, r, err)) != DFT_OK) {
                return rc;
            }
            continue;
        }
        json_array_append(p->records, r);
        json_object_set(p->shown, id, r);
    }
    json_array_foreach(json_object_get(p->sel, "evidence"), i, r)
    {
        if (json_object_get(p->shown, json_string_value(json_object_get(r, "record"))) != NULL) {
            json_object_set(p->shown, json_string_value(json_object_get(r, "id")), r);
        }
    }
    /* A link "A -role-> B" says A holds the role (A is the witness of B). */
    json_array_foreach(json_object_get(p->sel, "links"), i, r)
    {
        const char *role = json_string_value(json_object_get(r, "role"));
        if (role == NULL || !bundle_list_has(p->prof.mask_roles, role)) {
            continue;
        }
        const char *ends[2] = {json_string_value(json_object_get(r, "src")),
                               json_string_value(json_object_get(r, "dst"))};
        /* the role holder is the source; a link the other way round masks its person end */
        for (int k = 0; k < 2; k++) {
            const json_t *rec = json_object_get(p->shown, ends[k]);
            const char *t = json_string_value(json_object_get(rec, "type"));
            if (t != NULL && strcmp(t, "person") == 0) {
                json_object_set_new(p->masked, ends[k], json_true());
                break;
            }
            if (k == 0 && rec == NULL && strncmp(ends[0], "per_", 4) == 0) {
                break; /* the holder is a person outside the bundle */
            }
        }
    }
    return DFT_OK;
}

/* The "public" field of a record lists the fields it lets the public profile show. */
static int
listed_public(const json_t *fields, const char *name)
{
    if (strcmp(name, "public") == 0) {
        return 1;
    }
    const json_t *pub = json_object_get(fields, "public");
    if (json_is_array(pub)) {
        return bundle_list_has(pub, name);
    }
    const char *s = json_string_value(pub);
    size_t n = strlen(name);
    while (s != NULL && *s != '\0') {
        while (*s == ' ' || *s == ',') {
            s++;
        }
        const char *e = s;
        while (*e != '\0' && *e != ',') {
            e++;
        }
        const char *t = e;
        while (t > s && t[-1] == ' ') {
            t--;
        }
        if ((size_t)(t - s) == n && memcmp(s, name, n) == 0) {
            return 1;
        }
        s = e;
    }
    return 0;
}

/* Whether the shown record rec (current state) shows field name under the plan's profile. */
static int
field_shown(const struct plan *p, const json_t *rec, const char *name)
{
    if (rec == NULL || bundle_list_has(p->prof.withhold_fields, name)) {
        return 0;
    }
    if (p->prof.public_only && !listed_public(json_object_get(rec, "fields"), name)) {
        return 0;
    }
    const char *id = json_string_value(json_object_get(rec, "id"));
    if (json_object_get(p->masked, id) != NULL && bundle_list_has(p->prof.mask_fields, name)) {
        return 0;
    }
    return 1;
}

/* The item names of op that the bundle reveals (a new array). */
static json_t *
reveal_names(const struct plan *p, const json_t *op, const json_t *opened)
{
    json_t *names = json_array();
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)op, k, val)
    {
        if (strcmp(k, "fields") == 0) {
            continue;
        }
        if ((strcmp(k, "record") == 0 || strcmp(k, "to") == 0) &&
            (!json_is_string(val) || json_object_get(p->shown, json_string_value(val)) == NULL)) {
            continue; /* an id outside the bundle stays a digest */
        }
        json_array_append_new(names, json_string(k));
    }
    const char *action = json_string_value(json_object_get(op, "action"));
    const json_t *target =
        json_object_get(p->shown, json_string_value(json_object_get(op, "record")));
    json_object_foreach(json_object_get(op, "fields"), k, val)
    {
        int show;
        if (action == NULL || (strcmp(k, "sealed") == 0 && opened != NULL)) {
            show = 0; /* the box itself: its opened fields are shown instead */
        } else if (strcmp(action, "link") == 0 || strcmp(action, "unlink") == 0) {
            show = strcmp(k, "link") == 0 || strcmp(k, "role") == 0;
        } else if (strcmp(action, "evidence") == 0) {
            show = target != NULL && bundle_list_has(p->prof.evidence_fields, k);
        } else if (strcmp(action, "custody") == 0) {
            show = target != NULL && (!p->prof.public_only || strcmp(k, "event") == 0);
        } else {
            show = field_shown(p, target, k);
        }
        if (show) {
            char full[512];
            if (snprintf(full, sizeof full, "fields/%s", k) < (int)sizeof full) {
                json_array_append_new(names, json_string(full));
            }
        }
    }
    json_object_foreach((json_t *)(uintptr_t)opened, k, val)
    {
        char full[512];
        if (target != NULL && field_shown(p, target, k) &&
            snprintf(full, sizeof full, "fields/%s", k) < (int)sizeof full) {
            json_array_append_new(names, json_string(full));
        }
    }
    return names;
}

/* ---- dry run ---- */

static json_t *
record_plan(const struct plan *p, struct dft_vault *v, const json_t *rec, struct dft_error *err,
            enum dft_err *rc)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    json_t *shows = json_array(), *withholds = json_array(), *hist = NULL;
    const char *k;
    json_t *val;
    json_object_foreach(json_object_get(rec, "fields"), k, val)
    {
        json_array_append_new(field_shown(p, rec, k) ? shows : withholds, json_string(k));
    }
    if ((*rc = dft_vault_export_history(v, id, &hist, err)) != DFT_OK) {
        json_decref(shows);
        json_decref(withholds);
        return NULL;
    }
    json_t *o =
        json_pack("{ss sO so so sI sb}", "id", id, "type", json_object_get(rec, "type"), "shows",
                  shows, "withholds", withholds, "operations", (json_int_t)json_array_size(hist),
                  "masked", json_object_get(p->masked, id) != NULL);
    json_decref(hist);
    return o;
}

enum dft_err
dft_bundle_plan(struct dft_vault *v, const struct dft_bundle_selection *sel, json_t **out,
                struct dft_error *err)
{
    struct plan p;
    enum dft_err rc = plan_build(v, sel, &p, err);
    json_t *recs = json_array(), *evd = json_array();
    size_t i;
    json_t *r;
    if (rc != DFT_OK) {
        goto out;
    }
    json_array_foreach(p.records, i, r)
    {
        json_t *o = record_plan(&p, v, r, err, &rc);
        if (o == NULL) {
            goto out;
        }
        json_array_append_new(recs, o);
    }
    json_array_foreach(json_object_get(p.sel, "evidence"), i, r)
    {
        if (json_object_get(p.shown, json_string_value(json_object_get(r, "id"))) != NULL) {
            json_array_append_new(evd, json_pack("{sO sO sO sb}", "id", json_object_get(r, "id"),
                                                 "sha256", json_object_get(r, "sha256"), "size",
                                                 json_object_get(r, "size"), "file",
                                                 p.prof.evidence_files));
        }
    }
    *out = json_pack("{ss sO sO sO}", "profile", p.prof.name, "records", recs, "evidence", evd,
                     "dropped", p.dropped);
    if (*out == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    json_decref(recs);
    json_decref(evd);
    plan_release(&p);
    return rc;
}

/* ---- the ZIP ---- */

struct entry {
    char name[ENTRY_NAME_MAX];
    unsigned char *data; /* malloc'd; handed to libzip */
    size_t len;
    const json_t *evidence; /* or an evidence file: its selection object */
};

struct entries {
    struct entry *e;
    size_t n, cap;
};

static enum dft_err
entry_add(struct entries *es, const char *name, unsigned char *data, size_t len,
          const json_t *evidence, struct dft_error *err)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 64;
        struct entry *ne = realloc(es->e, cap * sizeof *ne);
        if (ne == NULL) {
            free(data);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        es->e = ne;
        es->cap = cap;
    }
    if (es->n >= DFT_BUNDLE_MAX_ENTRIES) {
        free(data);
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many files for one bundle");
    }
    struct entry *e = &es->e[es->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->data = data;
    e->len = len;
    e->evidence = evidence;
    return DFT_OK;
}

static int
dump_to_buf(const char *buffer, size_t size, void *data)
{
    return dft_buf_add(data, buffer, size) == DFT_OK ? 0 : -1;
}

static enum dft_err
entry_json(struct entries *es, const char *name, const json_t *j, struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, (size_t)1 << 30, 0);
    if (json_dump_callback(j, dump_to_buf, &b, JSON_OUT_FLAGS) != 0) {
        dft_buf_release(&b);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t n = b.len;
    unsigned char *d = dft_buf_take(&b, &n);
    return entry_add(es, name, d, n, NULL, err);
}

static void
entries_release(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        free(es->e[i].data);
    }
    free(es->e);
    memset(es, 0, sizeof *es);
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int xm = strcmp(x->name, "manifest.json") == 0, ym = strcmp(y->name, "manifest.json") == 0;
    if (xm != ym) {
        return ym - xm;
    }
    return strcmp(x->name, y->name);
}

/*
 * Envelopes opened for disclosure, kept while a bundle is written: the records of a case
 * alternate between a few envelopes (the batch that created them, the ones that attached or
 * linked), and opening one hashes every operation in it again.
 */
#define ENV_CACHE_SLOTS 8
struct env_cache {
    struct dft_export_env *e[ENV_CACHE_SLOTS];
    size_t next; /* slot replaced next (round robin) */
};

static void
env_cache_release(struct env_cache *c)
{
    for (size_t i = 0; i < ENV_CACHE_SLOTS; i++) {
        dft_export_env_free(c->e[i]);
        c->e[i] = NULL;
    }
}

/* The opened (and, when p->unseal, unsealed) envelope index, from the cache or opened now. */
static enum dft_err
env_cache_get(struct env_cache *c, struct plan *p, struct dft_vault *v, uint64_t index,
              struct dft_export_env **out, struct dft_error *err)
{
    for (size_t i = 0; i < ENV_CACHE_SLOTS; i++) {
        if (c->e[i] != NULL && dft_export_env_index(c->e[i]) == index) {
            *out = c->e[i];
            return DFT_OK;
        }
    }
    struct dft_export_env *e = NULL;
    enum dft_err rc = dft_vault_export_open(v, index, &e, err);
    if (rc == DFT_OK && p->unseal) {
        rc = dft_export_env_unseal(v, e, err);
    }
    if (rc != DFT_OK) {
        dft_export_env_free(e);
        return rc;
    }
    dft_export_env_free(c->e[c->next]);
    c->e[c->next] = e;
    c->next = (c->next + 1) % ENV_CACHE_SLOTS;
    *out = e;
    return DFT_OK;
}

/* The disclosures of every operation touching id: {"id", ["type",] "operations":[...]}. */
static enum dft_err
disclose_history(struct plan *p, struct dft_vault *v, const char *id, const char *type,
                 json_t *envelopes, struct env_cache *envs, json_t **out, size_t *n_ops,
                 struct dft_error *err)
{
    struct dft_export_env *env = NULL;
    struct dft_export_env **cache = &env;
    json_t *hist = NULL, *ops = json_array();
    enum dft_err rc = dft_vault_export_history(v, id, &hist, err);
    size_t i;
    json_t *h;
    if (rc != DFT_OK) {
        goto out;
    }
    json_array_foreach(hist, i, h)
    {
        json_int_t index = json_integer_value(json_object_get(h, "index"));
        json_int_t seq = json_integer_value(json_object_get(h, "seq"));
        if ((rc = env_cache_get(envs, p, v, (uint64_t)index, cache, err)) != DFT_OK) {
            goto out;
        }
        json_t *names = reveal_names(p, json_object_get(h, "op"),
                                     p->unseal ? dft_export_env_opened(*cache, (size_t)seq) : NULL);
        size_t nn = json_array_size(names);
        const char **list = calloc(nn + 1, sizeof *list);
        json_t *d = NULL;
        if (list == NULL) {
            json_decref(names);
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < nn; k++) {
            list[k] = json_string_value(json_array_get(names, k));
        }
        rc = dft_export_env_disclose(*cache, (size_t)seq, list, nn, &d, err);
        free(list);
        json_decref(names);
        if (rc != DFT_OK) {
            goto out;
        }
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)index);
        json_object_set_new(envelopes, key, json_integer(index));
        json_array_append_new(ops,
                              json_pack("{sI sI so}", "index", index, "seq", seq, "disclosure", d));
    }
    *n_ops += json_array_size(ops);
    *out = type != NULL ? json_pack("{ss ss sO}", "id", id, "type", type, "operations", ops)
                        : json_pack("{ss sO}", "id", id, "operations", ops);
    if (*out == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    json_decref(hist);
    json_decref(ops);
    return rc;
}

static int
cmp_index(const void *a, const void *b)
{
    json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;
    return (x > y) - (x < y);
}

/* An envelope and its tlog-proof against the cosigned checkpoint when it covers it. */
static enum dft_err
envelope_entries(struct dft_vault *v, const json_t *log, json_int_t index, struct entries *es,
                 json_t *manifest_envs, struct dft_error *err)
{
    struct dft_buf env, proof_text;
    dft_buf_init(&env, (size_t)1 << 30, 0);
    dft_buf_init(&proof_text, DFT_TLOG_PROOF_TEXT_MAX, 0);
    unsigned char proof[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t n = 0;
    json_int_t cos_size = json_integer_value(json_object_get(log, "cosigned_size"));
    int cosigned = index < cos_size;
    uint64_t size =
        cosigned ? (uint64_t)cos_size : (uint64_t)json_integer_value(json_object_get(log, "size"));
    const json_t *note = json_object_get(log, cosigned ? "cosigned" : "checkpoint");
    char name_env[ENTRY_NAME_MAX], name_proof[ENTRY_NAME_MAX];
    snprintf(name_env, sizeof name_env, "entries/%lld.envelope", (long long)index);
    snprintf(name_proof, sizeof name_proof, "entries/%lld.tlog-proof", (long long)index);
    enum dft_err rc;
    if ((rc = dft_vault_export_envelope(v, (uint64_t)index, &env, err)) != DFT_OK ||
        (rc = dft_vault_export_proof(v, (uint64_t)index, size, proof, &n, err)) != DFT_OK ||
        (rc = dft_tlog_proof_format(&proof_text, (uint64_t)index, (const unsigned char(*)[32])proof,
                                    n, json_string_value(note), json_string_length(note), err)) !=
            DFT_OK) {
        goto out;
    }
    size_t el = env.len, pl = proof_text.len;
    unsigned char *ed = dft_buf_take(&env, &el);
    unsigned char *pd = dft_buf_take(&proof_text, &pl);
    if ((rc = entry_add(es, name_env, ed, el, NULL, err)) != DFT_OK) {
        free(pd);
        goto out;
    }
    if ((rc = entry_add(es, name_proof, pd, pl, NULL, err)) != DFT_OK) {
        goto out;
    }
    json_array_append_new(manifest_envs, json_pack("{sI ss ss}", "index", index, "envelope",
                                                   name_env, "proof", name_proof));
out:
    dft_buf_release(&env);
    dft_buf_release(&proof_text);
    return rc;
}

/* Streams a decrypted evidence object into the ZIP, checking its SHA-256 on the way. */
struct evd_source {
    struct dft_evidence_obj *obj;
    uint64_t size, off;
    unsigned char *buf; /* one decrypted chunk (sodium_malloc), libzip reads in small pieces */
    uint64_t buf_off;
    size_t buf_len;
    unsigned char want[DFT_HASH_BYTES];
    struct crypto_sha256 sha;
    zip_error_t zerr;
    struct dft_error *err;
};

static zip_int64_t
evd_callback(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct evd_source *s = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        s->off = 0;
        crypto_sha256_release(&s->sha);
        if (crypto_sha256_init(&s->sha, s->err) != DFT_OK) {
            zip_error_set(&s->zerr, ZIP_ER_MEMORY, 0);
            return -1;
        }
        return 0;
    case ZIP_SOURCE_READ: {
        size_t n = 0;
        if (s->off < s->buf_off || s->off >= s->buf_off + s->buf_len) {
            s->buf_off = s->off - s->off % DFT_EVIDENCE_CHUNK_BYTES;
            if (dft_evidence_read(s->obj, s->buf_off, s->buf, DFT_EVIDENCE_CHUNK_BYTES, &s->buf_len,
                                  s->err) != DFT_OK) {
                zip_error_set(&s->zerr, ZIP_ER_READ, EIO);
                return -1;
            }
        }
        if (s->off < s->buf_off + s->buf_len) {
            n = (size_t)(s->buf_off + s->buf_len - s->off);
            n = n < len ? n : (size_t)len;
            memcpy(data, s->buf + (s->off - s->buf_off), n);
        }
        crypto_sha256_update(&s->sha, data, n);
        s->off += n;
        if (n == 0 && len > 0) {
            unsigned char got[DFT_HASH_BYTES];
            crypto_sha256_final(&s->sha, got);
            if (s->off != s->size || memcmp(got, s->want, sizeof got) != 0) {
                dft_fail(s->err, DFT_ERR_INTEGRITY,
                         "an evidence object does not match its recorded SHA-256");
                zip_error_set(&s->zerr, ZIP_ER_READ, EIO);
                return -1;
            }
        }
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = s->size;
        st->mtime = ZIP_FIXED_MTIME;
        st->valid = ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return (zip_int64_t)sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&s->zerr, data, len);
    case ZIP_SOURCE_FREE:
        sodium_free(s->buf);
        dft_evidence_close(s->obj);
        crypto_sha256_release(&s->sha);
        zip_error_fini(&s->zerr);
        free(s);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        zip_error_set(&s->zerr, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

static zip_source_t *
evidence_source(zip_t *za, struct dft_vault *v, const json_t *e, struct dft_error *err)
{
    struct evd_source *s = calloc(1, sizeof *s);
    if (s == NULL) {
        dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    zip_error_init(&s->zerr);
    s->err = err;
    const char *hex = json_string_value(json_object_get(e, "sha256"));
    if (hex == NULL || strlen(hex) != 64 || dft_hex_decode(s->want, 32, hex) != DFT_OK ||
        dft_vault_export_evidence(v, json_string_value(json_object_get(e, "object")), &s->obj,
                                  err) != DFT_OK) {
        dft_fail(err, DFT_ERR_INTEGRITY, "evidence '%.64s' cannot be read",
                 json_string_value(json_object_get(e, "id")));
        free(s);
        return NULL;
    }
    s->size = dft_evidence_size(s->obj);
    s->buf = sodium_malloc(DFT_EVIDENCE_CHUNK_BYTES);
    zip_source_t *src = s->buf != NULL ? zip_source_function(za, evd_callback, s) : NULL;
    if (src == NULL) {
        sodium_free(s->buf);
        dft_evidence_close(s->obj);
        free(s);
        dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return src;
}

/* Copy the archive libzip wrote into the buffer source mem into out. */
static enum dft_err
take_buffer(zip_source_t *mem, struct dft_buf *out, struct dft_error *err)
{
    zip_stat_t st;
    enum dft_err rc = DFT_OK;
    if (zip_source_stat(mem, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
        zip_source_open(mem) != 0) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot read the bundle back");
    }
    if (dft_buf_reserve(out, (size_t)st.size) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE, "the bundle is too large to hold in memory");
    } else if (zip_source_read(mem, out->data + out->len, st.size) != (zip_int64_t)st.size) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "cannot read the bundle back");
    } else {
        out->len += (size_t)st.size;
        out->data[out->len] = '\0';
    }
    zip_source_close(mem);
    return rc;
}

/* Write the entries to out_path, or (out_path NULL) into mem_out. */
static enum dft_err
write_zip(struct dft_vault *v, struct entries *es, const char *out_path, struct dft_buf *mem_out,
          struct dft_error *err)
{
    int zerr = 0;
    zip_source_t *mem = NULL;
    zip_t *za = NULL;
    if (out_path != NULL) {
        za = zip_open(out_path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    } else {
        zip_error_t ze;
        zip_error_init(&ze);
        mem = zip_source_buffer_create(NULL, 0, 0, &ze);
        if (mem != NULL) {
            zip_source_keep(mem);
            za = zip_open_from_source(mem, ZIP_TRUNCATE, &ze);
        }
        zerr = zip_error_code_zip(&ze);
        zip_error_fini(&ze);
    }
    if (za == NULL) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        enum dft_err rc =
            dft_fail(err, DFT_ERR_IO, "cannot create '%.200s': %s",
                     out_path != NULL ? out_path : "(memory)", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        if (mem != NULL) {
            zip_source_free(mem);
        }
        return rc;
    }
    qsort(es->e, es->n, sizeof *es->e, cmp_entry);
    for (size_t i = 0; i < es->n; i++) {
        struct entry *e = &es->e[i];
        zip_source_t *src;
        if (e->evidence != NULL) {
            src = evidence_source(za, v, e->evidence, err);
        } else {
            src = zip_source_buffer(za, e->data, e->len, 1);
            if (src != NULL) {
                e->data = NULL; /* libzip frees it */
            }
        }
        if (src == NULL) {
            zip_discard(za);
            zip_source_free(mem);
            return err != NULL && err->code != DFT_OK
                       ? err->code
                       : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        zip_int64_t idx = zip_file_add(za, e->name, src, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(src);
            zip_discard(za);
            zip_source_free(mem);
            return dft_fail(err, DFT_ERR_INTERNAL, "cannot add '%s' to the bundle", e->name);
        }
        if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0 ||
            zip_file_set_mtime(za, (zip_uint64_t)idx, ZIP_FIXED_MTIME, 0) != 0 ||
            zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             (zip_uint32_t)0100644 << 16) != 0) {
            zip_discard(za);
            zip_source_free(mem);
            return dft_fail(err, DFT_ERR_INTERNAL, "cannot set the attributes of '%s'", e->name);
        }
    }
    if (zip_close(za) != 0) {
        enum dft_err rc =
            err != NULL && err->code != DFT_OK
                ? err->code
                : dft_fail(err, DFT_ERR_IO, "cannot write '%.200s': %s",
                           out_path != NULL ? out_path : "(memory)", zip_strerror(za));
        zip_discard(za);
        zip_source_free(mem);
        return rc;
    }
    enum dft_err rc = mem != NULL ? take_buffer(mem, mem_out, err) : DFT_OK;
    zip_source_free(mem);
    return rc;
}

static enum dft_err
export_to(struct dft_vault *v, const struct dft_bundle_selection *sel, const char *out_path,
          struct dft_buf *mem_out, json_t **summary, struct dft_error *err)
{
    struct plan p;
    struct entries es;
    memset(&es, 0, sizeof es);
    json_t *log = NULL, *envelopes = json_object(), *m_records = json_array(),
           *m_evidence = json_array(), *m_envs = json_array(), *manifest = NULL;
    json_int_t *idx = NULL;
    struct env_cache cache;
    memset(&cache, 0, sizeof cache);
    size_t n_ops = 0, n_files = 0;
    if (err != NULL) {
        err->code = DFT_OK;
    }
    enum dft_err rc = plan_build(v, sel, &p, err);
    if (rc != DFT_OK || (rc = dft_vault_export_log(v, &log, err)) != DFT_OK) {
        goto out;
    }
    if (sel->flags & DFT_BUNDLE_HASHES_ONLY) {
        p.prof.evidence_files = 0;
    }
    size_t i;
    json_t *r;
    json_array_foreach(p.records, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *type = json_string_value(json_object_get(r, "type"));
        char name[ENTRY_NAME_MAX];
        json_t *doc = NULL;
        snprintf(name, sizeof name, "records/%s.json", id);
        if ((rc = disclose_history(&p, v, id, type, envelopes, &cache, &doc, &n_ops, err)) !=
            DFT_OK) {
            goto out;
        }
        rc = entry_json(&es, name, doc, err);
        json_decref(doc);
        if (rc != DFT_OK) {
            goto out;
        }
        json_array_append_new(m_records,
                              json_pack("{ss ss ss}", "id", id, "type", type, "file", name));
    }
    json_t *files = json_object();
    json_array_foreach(json_object_get(p.sel, "evidence"), i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (json_object_get(p.shown, id) == NULL) {
            continue;
        }
        const char *sha = json_string_value(json_object_get(r, "sha256"));
        char name[ENTRY_NAME_MAX], cname[ENTRY_NAME_MAX];
        json_t *doc = NULL;
        snprintf(name, sizeof name, "evidence/%s", sha != NULL ? sha : "");
        snprintf(cname, sizeof cname, "custody/%s.json", id);
        if ((rc = disclose_history(&p, v, id, NULL, envelopes, &cache, &doc, &n_ops, err)) !=
            DFT_OK) {
            json_decref(files);
            goto out;
        }
        rc = entry_json(&es, cname, doc, err);
        json_decref(doc);
        if (rc == DFT_OK && p.prof.evidence_files && json_object_get(files, name) == NULL) {
            json_object_set_new(files, name, json_true());
            rc = entry_add(&es, name, NULL, 0, r, err);
            n_files++;
        }
        if (rc != DFT_OK) {
            json_decref(files);
            goto out;
        }
        json_t *me = json_pack("{sO sO sO sO ss}", "id", json_object_get(r, "id"), "record",
                               json_object_get(r, "record"), "sha256", json_object_get(r, "sha256"),
                               "size", json_object_get(r, "size"), "custody", cname);
        json_object_set_new(me, "file", p.prof.evidence_files ? json_string(name) : json_null());
        json_array_append_new(m_evidence, me);
    }
    json_decref(files);
    /* Envelopes in log order, each with its tlog-proof. */
    size_t ne = json_object_size(envelopes), k = 0;
    idx = calloc(ne + 1, sizeof *idx);
    if (idx == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(envelopes, key, val)
    {
        idx[k++] = json_integer_value(val);
    }
    qsort(idx, ne, sizeof *idx, cmp_index);
    for (k = 0; k < ne; k++) {
        if ((rc = envelope_entries(v, log, idx[k], &es, m_envs, err)) != DFT_OK) {
            goto out;
        }
    }
    manifest = json_pack(
        "{ss ss s{sO sO sO sO} s{sO sO sO sO} sO sO sO}", "mediaType", DFT_BUNDLE_MEDIA_TYPE,
        "profile", p.prof.name, "log", "origin", json_object_get(log, "origin"), "vkey",
        json_object_get(log, "vkey"), "size", json_object_get(log, "size"), "checkpoint",
        json_object_get(log, "checkpoint"), "witnesses", "keys", json_object_get(log, "witnesses"),
        "policy", json_object_get(log, "policy"), "cosigned", json_object_get(log, "cosigned"),
        "consistency", json_object_get(log, "consistency"), "envelopes", m_envs, "records",
        m_records, "evidence", m_evidence);
    if (manifest == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = entry_json(&es, "manifest.json", manifest, err)) != DFT_OK ||
        (rc = write_zip(v, &es, out_path, mem_out, err)) != DFT_OK) {
        goto out;
    }
    if (summary != NULL) {
        *summary =
            json_pack("{ss ss sI sI sI sI}", "bundle", out_path, "profile", p.prof.name, "records",
                      (json_int_t)json_array_size(m_records), "operations", (json_int_t)n_ops,
                      "envelopes", (json_int_t)ne, "evidence", (json_int_t)n_files);
    }
out:
    env_cache_release(&cache);
    free(idx);
    entries_release(&es);
    json_decref(manifest);
    json_decref(log);
    json_decref(envelopes);
    json_decref(m_records);
    json_decref(m_evidence);
    json_decref(m_envs);
    plan_release(&p);
    return rc;
}

enum dft_err
dft_bundle_export(struct dft_vault *v, const struct dft_bundle_selection *sel, const char *out_path,
                  json_t **summary, struct dft_error *err)
{
    return export_to(v, sel, out_path, NULL, summary, err);
}

enum dft_err
dft_bundle_export_mem(struct dft_vault *v, const struct dft_bundle_selection *sel,
                      struct dft_buf *out, json_t **summary, struct dft_error *err)
{
    return export_to(v, sel, NULL, out, summary, err);
}
