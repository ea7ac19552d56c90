/*
 * verify.c - check a bundle with nothing but the bundle (and, when given, a trust policy
 * obtained apart from it): docs/bundle-format.md "Verifying".
 *
 * No vault, no SQLite, no key: defter-verify is built from this file. Every message names the
 * first failing item in plain words, and is fixed text (the HTML verifier gives the same ones).
 * The ZIP is hostile input: names, duplicates, compression, sizes and CRCs are checked before
 * anything is believed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bundle/internal.h"
#include "bundle/zipread.h"
#include "crypto/hash.h"
#include "log/tlog.h"
#include "vault/envelope.h"

#define MANIFEST_MAX (64u << 20)
#define RECORD_MAX   (256u << 20)
#define PROOF_MAX    DFT_TLOG_PROOF_TEXT_MAX
#define ENVELOPE_MAX DFT_ENV_MAX
#define READ_CHUNK   (1u << 20)
#define EVIDENCE_MAX (UINT64_C(1) << 42) /* as DFT_EVIDENCE_SIZE_MAX */
#define NAME_MAX_LEN 128

struct env_seen {
    uint64_t index;
    char head_b64[dft_b64_len(DFT_ENV_HEAD_BYTES)];
    int cosigned; /* proven against the cosigned checkpoint */
    unsigned char leaf[32];
    uint64_t size; /* of the checkpoint it is proven against */
    unsigned char root[32];
};

struct vctx {
    struct bzip z;
    json_t *names;    /* entry name -> index */
    json_t *used;     /* entry name -> true once the manifest names it */
    json_t *manifest; /* parsed manifest */
    struct dft_note_verifier logv;
    struct dft_note_verifier wit[DFT_WITNESS_MAX];
    size_t nwit;
    uint64_t quorum;
    int trusted; /* the keys came from a policy given apart from the bundle */
    struct dft_checkpoint latest, cosigned;
    char *latest_note, *cosigned_note;
    size_t cosigned_sigs;
    int has_cosigned;
    struct env_seen *envs;
    size_t nenvs;
    json_t *report;
    /* evidence entries are hashed (SHA-256) and checksummed (CRC-32) on two threads while the
     * records are checked; results are used in the order of the manifest, so messages and their
     * order do not change */
    struct evd_result *res; /* one per ZIP entry */
    pthread_t th[2];
    struct worker_arg {
        struct vctx *c;
        int kind; /* 0: SHA-256, 1: CRC-32 */
    } args[2];
    int started[2];
    int joined;
    atomic_int stop;
};

struct evd_result {
    unsigned char sha[32];
    uint32_t crc;
    int failed[2]; /* per worker: a read failed or memory ran out */
};

/* An integrity failure naming one item (fmt is a literal with one %s). */
#define bad(err, fmt, item) dft_fail((err), DFT_ERR_INTEGRITY, fmt, (item))

/* ---- ZIP ---- */

static int
name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '/';
}

static int
all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr(set, s[i]) == NULL) {
            return 0;
        }
    }
    return n > 0;
}

#define DIGITS  "0123456789"
#define HEX     "0123456789abcdef"
#define IDCHARS "abcdefghijklmnopqrstuvwxyz0123456789_"

static int
has_suffix(const char *s, const char *suffix, size_t *stem)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m || strcmp(s + n - m, suffix) != 0) {
        return 0;
    }
    *stem = n - m;
    return 1;
}

/* The shapes of entry names a bundle may hold. */
static int
name_expected(const char *s)
{
    size_t stem;
    if (strcmp(s, "manifest.json") == 0) {
        return 1;
    }
    if (strncmp(s, "entries/", 8) == 0) {
        const char *t = s + 8;
        if ((has_suffix(t, ".envelope", &stem) || has_suffix(t, ".tlog-proof", &stem)) &&
            all_of(t, stem, DIGITS) && (stem == 1 || t[0] != '0') && stem <= 19) {
            return 1;
        }
        return 0;
    }
    if (strncmp(s, "records/", 8) == 0 || strncmp(s, "custody/", 8) == 0) {
        return has_suffix(s + 8, ".json", &stem) && stem <= 64 && all_of(s + 8, stem, IDCHARS);
    }
    if (strncmp(s, "evidence/", 9) == 0) {
        return strlen(s + 9) == 64 && all_of(s + 9, 64, HEX);
    }
    return 0;
}

static enum dft_err
zip_index(struct vctx *c, struct dft_error *err)
{
    for (size_t i = 0; i < c->z.n; i++) {
        const char *name = c->z.e[i].name;
        size_t len = strlen(name);
        int safe = len > 0 && len <= NAME_MAX_LEN && name[0] != '/' && strstr(name, "..") == NULL &&
                   strstr(name, "//") == NULL;
        for (size_t k = 0; safe && k < len; k++) {
            safe = name_char_ok(name[k]);
        }
        if (!safe) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the bundle holds an unsafe entry name (absolute, '..' or odd "
                            "characters)");
        }
        if (json_object_get(c->names, name) != NULL) {
            return bad(err, "the bundle holds entry '%s' twice", name);
        }
        if (!name_expected(name)) {
            return bad(err, "the bundle holds an unexpected entry '%s'", name);
        }
        json_object_set_new(c->names, name, json_integer((json_int_t)i));
    }
    return DFT_OK;
}

/* The entry called name, marked as used; NULL (and a message) when it is missing or too large. */
static const struct bzip_entry *
entry_find(struct vctx *c, const char *name, uint64_t max, struct dft_error *err)
{
    json_t *ij = json_object_get(c->names, name);
    if (ij == NULL) {
        bad(err, "entry '%s' named in the manifest is missing", name);
        return NULL;
    }
    json_object_set_new(c->used, name, json_true());
    const struct bzip_entry *e = &c->z.e[json_integer_value(ij)];
    if (e->size > max) {
        bad(err, "entry '%s' is too large", name);
        return NULL;
    }
    return e;
}

/* The whole entry into a new NUL-terminated buffer (free with free()), its CRC checked. */
static enum dft_err
entry_load(struct vctx *c, const char *name, uint64_t max, unsigned char **out, size_t *len,
           struct dft_error *err)
{
    const struct bzip_entry *e = entry_find(c, name, max, err);
    if (e == NULL) {
        return DFT_ERR_INTEGRITY;
    }
    unsigned char *buf = malloc((size_t)e->size + 1);
    if (buf == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = bzip_read(&c->z, e->offset, buf, (size_t)e->size, err);
    if (rc == DFT_OK && bzip_crc32(0, buf, (size_t)e->size) != e->crc) {
        rc = bad(err, "entry '%s' is damaged (its checksum is wrong)", name);
    }
    if (rc != DFT_OK) {
        free(buf);
        return rc;
    }
    buf[e->size] = '\0';
    *out = buf;
    *len = (size_t)e->size;
    return DFT_OK;
}

static enum dft_err
entry_json(struct vctx *c, const char *name, uint64_t max, json_t **out, struct dft_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    enum dft_err rc = entry_load(c, name, max, &buf, &len, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_error_t jerr;
    *out = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return bad(err, "entry '%s' is not a valid JSON object", name);
    }
    return DFT_OK;
}

/* ---- trust: the log key, witness keys, quorum ---- */

static enum dft_err
parse_vkey(struct dft_note_verifier *v, const json_t *j, unsigned char alg, const char *what,
           struct dft_error *err)
{
    struct dft_error ignored;
    if (!json_is_string(j) ||
        note_verifier_parse(v, json_string_value(j), json_string_length(j), &ignored) != DFT_OK ||
        v->alg != alg) {
        return bad(err, "%s is not a valid verifier key", what);
    }
    return DFT_OK;
}

static enum dft_err
load_trust(struct vctx *c, const json_t *policy, struct dft_error *err)
{
    const json_t *log = json_object_get(c->manifest, "log");
    const json_t *wit = json_object_get(c->manifest, "witnesses");
    enum dft_err rc;
    if ((rc = parse_vkey(&c->logv, json_object_get(log, "vkey"), DFT_NOTE_ALG_ED25519,
                         "the bundle's log key", err)) != DFT_OK) {
        return rc;
    }
    char origin[DFT_TLOG_ORIGIN_BYTES];
    tlog_origin(origin, c->logv.pub);
    if (strcmp(origin, c->logv.name) != 0 || !json_is_string(json_object_get(log, "origin")) ||
        strcmp(json_string_value(json_object_get(log, "origin")), origin) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the bundle's log key does not match its origin name");
    }
    const json_t *keys = json_object_get(wit, "keys");
    const json_t *k = json_object_get(wit, "policy");
    if (policy != NULL) {
        struct dft_note_verifier pl;
        if ((rc = parse_vkey(&pl, json_object_get(policy, "log"), DFT_NOTE_ALG_ED25519,
                             "the policy's log key", err)) != DFT_OK) {
            return rc;
        }
        if (sodium_memcmp(pl.pub, c->logv.pub, 32) != 0) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the bundle is signed by another log than the policy trusts");
        }
        keys = json_object_get(policy, "witnesses");
        k = json_object_get(policy, "quorum");
        c->trusted = 1;
    }
    if (!json_is_array(keys) || json_array_size(keys) > DFT_WITNESS_MAX || !json_is_integer(k) ||
        json_integer_value(k) < 0 || (size_t)json_integer_value(k) > json_array_size(keys)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the %s witness keys or quorum are malformed",
                        policy != NULL ? "policy's" : "bundle's");
    }
    c->quorum = (uint64_t)json_integer_value(k);
    size_t i;
    const json_t *w;
    json_array_foreach((json_t *)(uintptr_t)keys, i, w)
    {
        if ((rc = parse_vkey(&c->wit[i], w, DFT_NOTE_ALG_COSIG_V1, "a witness key", err)) !=
            DFT_OK) {
            return rc;
        }
        c->nwit = i + 1;
    }
    return DFT_OK;
}

static enum dft_err
open_checkpoint(struct vctx *c, const json_t *note, struct dft_checkpoint *cp, size_t *cosigs,
                const char *what, struct dft_error *err)
{
    struct dft_note_check checks[DFT_WITNESS_MAX];
    struct dft_error ignored;
    if (!json_is_string(note) ||
        checkpoint_open(cp, json_string_value(note), json_string_length(note), &c->logv, c->wit,
                        c->nwit, checks, &ignored) != DFT_OK) {
        return bad(err, "the %s does not verify under the log and witness keys", what);
    }
    *cosigs = 0;
    for (size_t i = 0; i < c->nwit; i++) {
        *cosigs += checks[i].verified ? 1 : 0;
    }
    return DFT_OK;
}

static int
decode_hashes(const json_t *a, unsigned char (*out)[32], size_t max, size_t *n)
{
    size_t i;
    const json_t *h;
    if (!json_is_array(a) || json_array_size(a) > max) {
        return 0;
    }
    json_array_foreach((json_t *)(uintptr_t)a, i, h)
    {
        struct dft_error ignored;
        if (!json_is_string(h) || tlog_hash_decode(out[i], json_string_value(h),
                                                   json_string_length(h), &ignored) != DFT_OK) {
            return 0;
        }
    }
    *n = json_array_size(a);
    return 1;
}

static enum dft_err
check_log(struct vctx *c, struct dft_error *err)
{
    const json_t *log = json_object_get(c->manifest, "log");
    const json_t *wit = json_object_get(c->manifest, "witnesses");
    size_t sigs = 0;
    enum dft_err rc = open_checkpoint(c, json_object_get(log, "checkpoint"), &c->latest, &sigs,
                                      "log checkpoint", err);
    if (rc != DFT_OK) {
        return rc;
    }
    const json_t *size = json_object_get(log, "size");
    if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != c->latest.size) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the manifest's log size differs from its checkpoint");
    }
    c->latest_note = (char *)(uintptr_t)json_string_value(json_object_get(log, "checkpoint"));
    const json_t *cos = json_object_get(wit, "cosigned");
    const json_t *cons = json_object_get(wit, "consistency");
    if (json_is_null(cos)) {
        if (!json_is_null(cons)) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the manifest has a consistency proof but no cosigned checkpoint");
        }
        return DFT_OK;
    }
    if ((rc = open_checkpoint(c, cos, &c->cosigned, &c->cosigned_sigs, "cosigned checkpoint",
                              err)) != DFT_OK) {
        return rc;
    }
    c->has_cosigned = 1;
    c->cosigned_note = (char *)(uintptr_t)json_string_value(cos);
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    const json_t *old_size = json_object_get(cons, "old_size");
    const json_t *new_size = json_object_get(cons, "new_size");
    if (!json_is_object(cons) || !json_is_integer(old_size) || !json_is_integer(new_size) ||
        (uint64_t)json_integer_value(old_size) != c->cosigned.size ||
        (uint64_t)json_integer_value(new_size) != c->latest.size ||
        !decode_hashes(json_object_get(cons, "proof"), proof, DFT_TLOG_PROOF_MAX, &n) ||
        c->cosigned.size == 0 || c->cosigned.size > c->latest.size ||
        tlog_verify_consistency(c->cosigned.size, c->latest.size, c->cosigned.root, c->latest.root,
                                (const unsigned char(*)[32])proof, n, NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the log checkpoint is not consistent with the cosigned checkpoint");
    }
    return DFT_OK;
}

/* ---- envelopes and their tlog-proofs ---- */

static enum dft_err
check_envelope(struct vctx *c, const json_t *e, size_t k, struct dft_error *err)
{
    const json_t *ij = json_object_get(e, "index");
    const char *env_name = json_string_value(json_object_get(e, "envelope"));
    const char *proof_name = json_string_value(json_object_get(e, "proof"));
    char want_env[NAME_MAX_LEN], want_proof[NAME_MAX_LEN];
    if (!json_is_object(e) || json_object_size(e) != 3 || !json_is_integer(ij) ||
        json_integer_value(ij) < 0 || env_name == NULL || proof_name == NULL) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of envelopes is malformed");
    }
    uint64_t index = (uint64_t)json_integer_value(ij);
    snprintf(want_env, sizeof want_env, "entries/%llu.envelope", (unsigned long long)index);
    snprintf(want_proof, sizeof want_proof, "entries/%llu.tlog-proof", (unsigned long long)index);
    if (strcmp(env_name, want_env) != 0 || strcmp(proof_name, want_proof) != 0 ||
        (k > 0 && c->envs[k - 1].index >= index)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of envelopes is malformed");
    }
    unsigned char *env = NULL, *ptext = NULL;
    size_t env_len = 0, plen = 0;
    enum dft_err rc = entry_load(c, env_name, ENVELOPE_MAX, &env, &env_len, err);
    if (rc != DFT_OK || (rc = entry_load(c, proof_name, PROOF_MAX, &ptext, &plen, err)) != DFT_OK) {
        goto out;
    }
    struct dft_envelope_info info;
    struct dft_error ignored;
    if (envelope_inspect(env, env_len, &info, &ignored) != DFT_OK) {
        rc = bad(err, "envelope '%s' is malformed or its signature does not verify", env_name);
        goto out;
    }
    struct dft_tlog_proof p;
    if (dft_tlog_proof_parse(&p, (const char *)ptext, plen, &ignored) != DFT_OK ||
        p.index != index) {
        rc = bad(err, "the tlog-proof '%s' is malformed", proof_name);
        goto out;
    }
    const struct dft_checkpoint *cp = NULL;
    int cosigned = 0;
    if (p.checkpoint_len == strlen(c->latest_note) &&
        memcmp(p.checkpoint, c->latest_note, p.checkpoint_len) == 0) {
        cp = &c->latest;
    } else if (c->has_cosigned && p.checkpoint_len == strlen(c->cosigned_note) &&
               memcmp(p.checkpoint, c->cosigned_note, p.checkpoint_len) == 0) {
        cp = &c->cosigned;
        cosigned = 1;
    }
    if (cp == NULL) {
        rc = bad(err, "the tlog-proof '%s' carries a checkpoint the manifest does not", proof_name);
        goto out;
    }
    unsigned char leaf[32];
    crypto_leaf_hash(leaf, env, env_len);
    if (tlog_verify_inclusion(index, cp->size, leaf, (const unsigned char(*)[32])p.hashes, p.n,
                              cp->root, NULL) != DFT_OK) {
        rc = bad(err, "envelope '%s' is not in the log: its inclusion proof fails", env_name);
        goto out;
    }
    c->envs[k].index = index;
    c->envs[k].cosigned = cosigned;
    memcpy(c->envs[k].leaf, leaf, 32);
    c->envs[k].size = cp->size;
    memcpy(c->envs[k].root, cp->root, 32);
    dft_b64_encode(c->envs[k].head_b64, env, DFT_ENV_HEAD_BYTES);
    c->nenvs = k + 1;
out:
    free(env);
    free(ptext);
    return rc;
}

static const struct env_seen *
find_env(const struct vctx *c, uint64_t index)
{
    size_t lo = 0, hi = c->nenvs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->envs[mid].index == index) {
            return &c->envs[mid];
        }
        if (c->envs[mid].index < index) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* ---- records and custody histories ---- */

/*
 * Check the operations of a record file (disclosures) and replay the revealed fields: *state
 * gets {"type","fields","withheld","operations","ops":[...]}.
 */
static enum dft_err
check_history(struct vctx *c, const json_t *doc, const char *id, const char *file, json_t *state,
              struct dft_error *err)
{
    const json_t *ops = json_object_get(doc, "operations");
    if (!json_is_array(ops) || json_array_size(ops) == 0) {
        return bad(err, "'%s' lists no operations", file);
    }
    json_t *fields = json_object_get(state, "fields");
    json_t *shown_ops = json_object_get(state, "ops");
    json_int_t withheld = 0;
    size_t i;
    const json_t *o;
    json_array_foreach((json_t *)(uintptr_t)ops, i, o)
    {
        const json_t *ij = json_object_get(o, "index");
        const json_t *sj = json_object_get(o, "seq");
        const json_t *d = json_object_get(o, "disclosure");
        if (!json_is_object(o) || json_object_size(o) != 3 || !json_is_integer(ij) ||
            !json_is_integer(sj) || !json_is_object(d) || json_integer_value(ij) < 0) {
            return bad(err, "'%s' has a malformed operation", file);
        }
        const struct env_seen *env = find_env(c, (uint64_t)json_integer_value(ij));
        if (env == NULL) {
            return bad(err, "'%s' has an operation whose envelope is not in the bundle", file);
        }
        const json_t *head = json_object_get(d, "head");
        if (!json_is_string(head) || strcmp(json_string_value(head), env->head_b64) != 0 ||
            !json_equal(json_object_get(d, "index"), sj)) {
            return bad(err, "'%s' has an operation that is not from its envelope", file);
        }
        json_t *revealed = NULL;
        struct dft_error ignored;
        if (disclosure_verify(d, NULL, NULL, &revealed, &ignored) != DFT_OK) {
            return bad(err,
                       "'%s' has an operation whose disclosed fields do not match the "
                       "signed digests",
                       file);
        }
        const char *rec = json_string_value(json_object_get(revealed, "record"));
        const char *to = json_string_value(json_object_get(revealed, "to"));
        const char *action = json_string_value(json_object_get(revealed, "action"));
        if (action == NULL ||
            ((rec == NULL || strcmp(rec, id) != 0) && (to == NULL || strcmp(to, id) != 0))) {
            json_decref(revealed);
            return bad(err, "'%s' has an operation that does not touch its record", file);
        }
        withheld += (json_int_t)json_array_size(json_object_get(d, "withheld"));
        const char *type = json_string_value(json_object_get(revealed, "type"));
        if (strcmp(action, "create") == 0 && rec != NULL && strcmp(rec, id) == 0 && type != NULL) {
            const char *claimed = json_string_value(json_object_get(state, "type"));
            if (claimed != NULL && strcmp(claimed, type) != 0) {
                json_decref(revealed);
                return bad(err, "'%s' claims another type than its signed creation", file);
            }
        }
        /* Replay the record's own field changes. */
        if (rec != NULL && strcmp(rec, id) == 0 &&
            (strcmp(action, "create") == 0 || strcmp(action, "update") == 0)) {
            const char *k;
            json_t *val;
            json_object_foreach(revealed, k, val)
            {
                if (strncmp(k, "fields/", 7) != 0) {
                    continue;
                }
                if (json_is_null(val)) {
                    json_object_del(fields, k + 7);
                } else {
                    json_object_set(fields, k + 7, val);
                }
            }
        }
        json_t *item = json_object();
        const char *k;
        json_t *val;
        json_object_foreach(revealed, k, val)
        {
            json_object_set(item, k, val);
        }
        json_object_set_new(item, "index", json_integer(json_integer_value(ij)));
        json_object_set_new(
            item, "withheld",
            json_integer((json_int_t)json_array_size(json_object_get(d, "withheld"))));
        json_object_set_new(item, "witnessed", json_boolean(env->cosigned));
        json_array_append_new(shown_ops, item);
        json_decref(revealed);
    }
    json_object_set_new(state, "withheld", json_integer(withheld));
    return DFT_OK;
}

static enum dft_err
check_records(struct vctx *c, struct dft_error *err)
{
    const json_t *recs = json_object_get(c->manifest, "records");
    json_t *out = json_array();
    json_object_set_new(c->report, "records", out);
    size_t i;
    const json_t *r;
    json_array_foreach((json_t *)(uintptr_t)recs, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *type = json_string_value(json_object_get(r, "type"));
        const char *file = json_string_value(json_object_get(r, "file"));
        char want[NAME_MAX_LEN];
        if (!json_is_object(r) || json_object_size(r) != 3 || id == NULL || type == NULL ||
            file == NULL || strlen(id) > 64 ||
            snprintf(want, sizeof want, "records/%s.json", id) >= (int)sizeof want ||
            strcmp(want, file) != 0) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of records is malformed");
        }
        json_t *doc = NULL;
        enum dft_err rc = entry_json(c, file, RECORD_MAX, &doc, err);
        if (rc != DFT_OK) {
            return rc;
        }
        if (json_object_size(doc) != 3 || !json_is_string(json_object_get(doc, "id")) ||
            strcmp(json_string_value(json_object_get(doc, "id")), id) != 0 ||
            !json_is_string(json_object_get(doc, "type")) ||
            strcmp(json_string_value(json_object_get(doc, "type")), type) != 0) {
            json_decref(doc);
            return bad(err, "'%s' does not name the record the manifest lists", file);
        }
        json_t *state = json_pack("{ss ss s{} s[]}", "id", id, "type", type, "fields", "ops");
        json_array_append_new(out, state);
        rc = check_history(c, doc, id, file, state, err);
        json_decref(doc);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

static void *
evidence_worker(void *p)
{
    const struct worker_arg *a = p;
    struct vctx *c = a->c;
    unsigned char *buf = malloc(READ_CHUNK);
    for (size_t i = 0; i < c->z.n && !atomic_load(&c->stop); i++) {
        const struct bzip_entry *e = &c->z.e[i];
        if (strncmp(e->name, "evidence/", 9) != 0 || e->size > EVIDENCE_MAX) {
            continue;
        }
        struct crypto_sha256 h = {0};
        struct dft_error ignored;
        if (buf == NULL || (a->kind == 0 && crypto_sha256_init(&h, &ignored) != DFT_OK)) {
            c->res[i].failed[a->kind] = 1;
            continue;
        }
        uint32_t crc = 0;
        for (uint64_t off = 0; off < e->size && !atomic_load(&c->stop);) {
            size_t n = e->size - off < READ_CHUNK ? (size_t)(e->size - off) : READ_CHUNK;
            if (bzip_read(&c->z, e->offset + off, buf, n, &ignored) != DFT_OK) {
                c->res[i].failed[a->kind] = 1;
                break;
            }
            if (a->kind == 0) {
                crypto_sha256_update(&h, buf, n);
            } else {
                crc = bzip_crc32(crc, buf, n);
            }
            off += n;
        }
        if (a->kind == 0) {
            crypto_sha256_final(&h, c->res[i].sha);
            crypto_sha256_release(&h);
        } else {
            c->res[i].crc = crc;
        }
    }
    free(buf);
    return NULL;
}

/* Start hashing the evidence entries (after the ZIP index); on no thread, join does it. */
static enum dft_err
start_workers(struct vctx *c, struct dft_error *err)
{
    c->res = calloc(c->z.n + 1, sizeof *c->res);
    if (c->res == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < 2; k++) {
        c->args[k].c = c;
        c->args[k].kind = k;
        c->started[k] = pthread_create(&c->th[k], NULL, evidence_worker, &c->args[k]) == 0;
    }
    return DFT_OK;
}

/* Wait for the workers (or do their work here when a thread could not start). */
static void
join_workers(struct vctx *c)
{
    if (c->joined || c->res == NULL) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        if (c->started[k]) {
            void *ret = NULL;
            pthread_join(c->th[k], &ret);
        } else {
            evidence_worker(&c->args[k]);
        }
    }
    c->joined = 1;
}

/* Hash an evidence entry as it streams out of the ZIP (and check its CRC). */
static enum dft_err
hash_entry(struct vctx *c, const char *name, unsigned char out[32], uint64_t *size,
           struct dft_error *err)
{
    const struct bzip_entry *e = entry_find(c, name, EVIDENCE_MAX, err);
    if (e == NULL) {
        return DFT_ERR_INTEGRITY;
    }
    join_workers(c);
    const struct evd_result *r = &c->res[e - c->z.e];
    if (r->failed[0] || r->failed[1]) {
        return dft_fail(err, DFT_ERR_IO, "cannot read entry '%s' of the bundle", name);
    }
    if (r->crc != e->crc) {
        return bad(err, "entry '%s' is damaged (its checksum is wrong)", name);
    }
    memcpy(out, r->sha, 32);
    *size = e->size;
    return DFT_OK;
}

static enum dft_err
check_evidence(struct vctx *c, struct dft_error *err)
{
    const json_t *list = json_object_get(c->manifest, "evidence");
    json_t *out = json_array();
    json_object_set_new(c->report, "evidence", out);
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)(uintptr_t)list, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        const char *custody = json_string_value(json_object_get(e, "custody"));
        const json_t *file = json_object_get(e, "file");
        const json_t *size = json_object_get(e, "size");
        const json_t *record = json_object_get(e, "record");
        char want_c[NAME_MAX_LEN], want_f[NAME_MAX_LEN];
        if (!json_is_object(e) || json_object_size(e) != 6 || id == NULL || strlen(id) > 64 ||
            sha == NULL || strlen(sha) != 64 || !all_of(sha, 64, HEX) || custody == NULL ||
            !json_is_integer(size) || json_integer_value(size) < 0 || !json_is_string(record) ||
            !(json_is_null(file) || json_is_string(file))) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of evidence is malformed");
        }
        snprintf(want_c, sizeof want_c, "custody/%s.json", id);
        snprintf(want_f, sizeof want_f, "evidence/%s", sha);
        if (strcmp(custody, want_c) != 0 ||
            (json_is_string(file) && strcmp(json_string_value(file), want_f) != 0)) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of evidence is malformed");
        }
        json_t *doc = NULL;
        enum dft_err rc = entry_json(c, custody, RECORD_MAX, &doc, err);
        if (rc != DFT_OK) {
            return rc;
        }
        if (json_object_size(doc) != 2 || !json_is_string(json_object_get(doc, "id")) ||
            strcmp(json_string_value(json_object_get(doc, "id")), id) != 0) {
            json_decref(doc);
            return bad(err, "'%s' does not name the evidence the manifest lists", custody);
        }
        json_t *state = json_pack("{ss ss sO sO s{} s[]}", "id", id, "sha256", sha, "size", size,
                                  "record", record, "fields", "ops");
        json_array_append_new(out, state);
        rc = check_history(c, doc, id, custody, state, err);
        json_decref(doc);
        if (rc != DFT_OK) {
            return rc;
        }
        /* The signed "evidence" operation must vouch for this hash and size. */
        int vouched = 0;
        size_t k;
        const json_t *op;
        json_array_foreach(json_object_get(state, "ops"), k, op)
        {
            const char *action = json_string_value(json_object_get(op, "action"));
            const char *to = json_string_value(json_object_get(op, "to"));
            const char *osha = json_string_value(json_object_get(op, "fields/sha256"));
            const json_t *osize = json_object_get(op, "fields/size");
            const json_t *orec = json_object_get(op, "record");
            if (action != NULL && strcmp(action, "evidence") == 0 && to != NULL &&
                strcmp(to, id) == 0 && osha != NULL && strcmp(osha, sha) == 0 &&
                (osize == NULL || json_equal(osize, size)) &&
                (orec == NULL || json_equal(orec, record))) {
                vouched = 1;
            }
        }
        if (!vouched) {
            return bad(err, "evidence '%s' has no signed operation that records its SHA-256", id);
        }
        json_object_set_new(state, "file", json_boolean(json_is_string(file)));
        if (json_is_string(file)) {
            unsigned char got[32], want[32];
            uint64_t fsize = 0;
            if ((rc = hash_entry(c, json_string_value(file), got, &fsize, err)) != DFT_OK) {
                return rc;
            }
            if (dft_hex_decode(want, 32, sha) != DFT_OK || sodium_memcmp(got, want, 32) != 0 ||
                fsize != (uint64_t)json_integer_value(size)) {
                return bad(err, "evidence file '%s' does not match its signed SHA-256",
                           json_string_value(file));
            }
        }
    }
    return DFT_OK;
}

/* ---- the whole bundle ---- */

static enum dft_err
check_manifest_shape(struct vctx *c, struct dft_error *err)
{
    static const char *const keys[] = {"mediaType", "profile", "log",     "witnesses",
                                       "envelopes", "records", "evidence"};
    const json_t *m = c->manifest;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (json_object_get(m, keys[i]) == NULL) {
            return bad(err, "the manifest has no \"%s\"", keys[i]);
        }
    }
    const json_t *mt = json_object_get(m, "mediaType");
    if (json_object_size(m) != sizeof keys / sizeof keys[0] || !json_is_string(mt) ||
        strcmp(json_string_value(mt), DFT_BUNDLE_MEDIA_TYPE) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest is not a Defter bundle v1 manifest");
    }
    const json_t *log = json_object_get(m, "log");
    const json_t *wit = json_object_get(m, "witnesses");
    if (!json_is_string(json_object_get(m, "profile")) || !json_is_object(log) ||
        json_object_size(log) != 4 || !json_is_object(wit) || json_object_size(wit) != 4 ||
        !json_is_array(json_object_get(m, "envelopes")) ||
        !json_is_array(json_object_get(m, "records")) ||
        !json_is_array(json_object_get(m, "evidence"))) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest is malformed");
    }
    return DFT_OK;
}

static enum dft_err
verify_zip(struct vctx *c, const json_t *policy, struct dft_error *err)
{
    enum dft_err rc;
    if ((rc = zip_index(c, err)) != DFT_OK || (rc = start_workers(c, err)) != DFT_OK ||
        (rc = entry_json(c, "manifest.json", MANIFEST_MAX, &c->manifest, err)) != DFT_OK ||
        (rc = check_manifest_shape(c, err)) != DFT_OK ||
        (rc = load_trust(c, policy, err)) != DFT_OK || (rc = check_log(c, err)) != DFT_OK) {
        return rc;
    }
    const json_t *envs = json_object_get(c->manifest, "envelopes");
    size_t ne = json_array_size(envs);
    if (ne > DFT_BUNDLE_MAX_ENTRIES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the manifest's list of envelopes is malformed");
    }
    c->envs = calloc(ne + 1, sizeof *c->envs);
    if (c->envs == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < ne; k++) {
        if ((rc = check_envelope(c, json_array_get(envs, k), k, err)) != DFT_OK) {
            return rc;
        }
    }
    if ((rc = check_records(c, err)) != DFT_OK || (rc = check_evidence(c, err)) != DFT_OK) {
        return rc;
    }
    const char *name;
    json_t *val;
    json_object_foreach(c->names, name, val)
    {
        if (json_object_get(c->used, name) == NULL) {
            return bad(err, "entry '%s' is not named in the manifest", name);
        }
    }
    size_t witnessed = 0;
    for (size_t k = 0; k < c->nenvs; k++) {
        witnessed += c->envs[k].cosigned ? 1 : 0;
    }
    if (c->quorum > 0 && (!c->has_cosigned || c->cosigned_sigs < c->quorum)) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the witness quorum is not met: the cosigned checkpoint has %zu of the "
                        "%llu cosignatures required",
                        c->has_cosigned ? c->cosigned_sigs : (size_t)0,
                        (unsigned long long)c->quorum);
    }
    if (c->trusted && c->quorum > 0 && witnessed < c->nenvs) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the witness quorum is not met: %zu of %zu envelopes are not covered by "
                        "the cosigned checkpoint",
                        c->nenvs - witnessed, c->nenvs);
    }
    char vkey[DFT_NOTE_VKEY_MAX];
    note_verifier_format(&c->logv, vkey);
    json_object_set_new(c->report, "ok", json_true());
    json_object_set(c->report, "profile", json_object_get(c->manifest, "profile"));
    json_object_set_new(c->report, "log",
                        json_pack("{ss ss sI sb}", "origin", c->logv.name, "vkey", vkey, "size",
                                  (json_int_t)c->latest.size, "trusted", c->trusted));
    json_object_set_new(
        c->report, "witnesses",
        json_pack("{sI sI sI sI sI}", "keys", (json_int_t)c->nwit, "quorum", (json_int_t)c->quorum,
                  "cosignatures", (json_int_t)(c->has_cosigned ? c->cosigned_sigs : 0),
                  "cosigned_size", (json_int_t)(c->has_cosigned ? c->cosigned.size : 0),
                  "envelopes_witnessed", (json_int_t)witnessed));
    json_object_set_new(c->report, "envelopes", json_integer((json_int_t)c->nenvs));
    /* Each envelope's proof, for briefings (QR codes) and other readers. */
    json_t *entries = json_array();
    for (size_t k = 0; k < c->nenvs; k++) {
        char leaf[DFT_TLOG_HASH_B64], root[DFT_TLOG_HASH_B64];
        tlog_hash_encode(leaf, c->envs[k].leaf);
        tlog_hash_encode(root, c->envs[k].root);
        json_array_append_new(entries,
                              json_pack("{sI ss sI ss sb}", "index", (json_int_t)c->envs[k].index,
                                        "leaf_hash", leaf, "size", (json_int_t)c->envs[k].size,
                                        "root", root, "witnessed", c->envs[k].cosigned));
    }
    json_object_set_new(c->report, "entries", entries);
    return DFT_OK;
}

static enum dft_err
verify_opened(struct vctx *c, const json_t *policy, json_t **report, struct dft_error *err)
{
    enum dft_err rc;
    c->names = json_object();
    c->used = json_object();
    c->report = json_object();
    if (c->names == NULL || c->used == NULL || c->report == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else {
        rc = verify_zip(c, policy, err);
    }
    if (rc == DFT_OK && report != NULL) {
        *report = c->report;
        c->report = NULL;
    }
    atomic_store(&c->stop, 1);
    join_workers(c);
    free(c->res);
    bzip_close(&c->z);
    free(c->envs);
    json_decref(c->names);
    json_decref(c->used);
    json_decref(c->manifest);
    json_decref(c->report);
    return rc;
}

enum dft_err
dft_bundle_verify(const char *path, const json_t *policy, json_t **report, struct dft_error *err)
{
    struct vctx c;
    memset(&c, 0, sizeof c);
    enum dft_err rc = bzip_open_file(&c.z, path, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return verify_opened(&c, policy, report, err);
}

enum dft_err
dft_bundle_verify_buffer(const void *data, size_t len, const json_t *policy, json_t **report,
                         struct dft_error *err)
{
    struct vctx c;
    memset(&c, 0, sizeof c);
    enum dft_err rc = bzip_open_mem(&c.z, data, len, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return verify_opened(&c, policy, report, err);
}
