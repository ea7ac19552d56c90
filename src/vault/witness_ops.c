/*
 * witness_ops.c - the vault's side of witnessing for every front end: where to ask each
 * trusted witness, the policy file, asking for cosignatures and the tlog-proof of a record.
 *
 * Moved out of the command line (issue 10's debt): the CLI now calls only these functions
 * through include/defter/vault.h. The witness URLs and the policy text are kept in the vault
 * database by src/log/witness_client.c; trusting a key and the K of a policy are signed
 * operations (src/vault/witness.c).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "log/cosign.h"
#include "log/policy.h"
#include "log/tlog.h"
#include "log/witness_client.h"
#include "vault/vault_internal.h"

/* Append ops in one envelope; on success reload ws. */
static enum dft_err
append_ops(struct dft_vault *v, json_t *ops, struct dft_witness_set *ws, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (json_array_size(ops) > 0) {
        rc = dft_vault_append_ops(v, ops, NULL, err);
    }
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, ws, err);
    }
    return rc;
}

/* Trust key (if not yet) into ops, keeping ws as it will be. */
static enum dft_err
trust_op(struct dft_witness_set *ws, const struct dft_note_verifier *key, json_t *ops,
         struct dft_error *err)
{
    char vk[DFT_NOTE_VKEY_MAX];
    json_t *op = NULL;
    for (size_t i = 0; i < ws->n; i++) {
        if (ws->keys[i].key_id == key->key_id && strcmp(ws->keys[i].name, key->name) == 0) {
            return DFT_OK;
        }
    }
    if (ws->n >= DFT_WITNESS_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "at most %d witnesses can be trusted", DFT_WITNESS_MAX);
    }
    note_verifier_format(key, vk);
    enum dft_err rc = witness_add_op(ws, vk, &op, err);
    if (rc == DFT_OK && json_array_append_new(ops, op) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (rc == DFT_OK) {
        ws->keys[ws->n++] = *key;
    }
    return rc;
}

enum dft_err
dft_vault_witness_add_url(struct dft_vault *v, const char *vkey, const char *url, json_t **out,
                          struct dft_error *err)
{
    struct dft_witness_set ws;
    struct dft_note_verifier key;
    char vk[DFT_NOTE_VKEY_MAX];
    *out = NULL;
    enum dft_err rc = note_verifier_parse(&key, vkey, strlen(vkey), err);
    if (rc == DFT_OK && key.alg != DFT_NOTE_ALG_COSIG_V1) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "'%s' is not a witness key: a witness key has type 0x04 "
                        "(tlog-cosignature/v1), this one 0x%02x",
                        key.name, (unsigned)key.alg);
    }
    if (rc != DFT_OK) {
        return rc;
    }
    note_verifier_format(&key, vk);
    json_t *ops = json_array();
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_witness_set(v, &ws, err);
    if (rc == DFT_OK) {
        char probe[WCLIENT_URL_MAX];
        uint64_t last = 0;
        /* check the URL and the table before changing anything */
        rc = wclient_get(vault_db(v), vk, probe, &last, err);
    }
    if (rc == DFT_OK) {
        rc = wclient_url_check(url, err);
    }
    if (rc == DFT_OK) {
        rc = trust_op(&ws, &key, ops, err);
    }
    if (rc == DFT_OK) {
        rc = append_ops(v, ops, &ws, err);
    }
    if (rc == DFT_OK) {
        rc = wclient_set_url(vault_db(v), vk, url, err);
    }
    json_decref(ops);
    if (rc == DFT_OK) {
        *out = json_pack("{sssssssIsI}", "vkey", vk, "name", key.name, "url", url, "trusted",
                         (json_int_t)ws.n, "policy", (json_int_t)ws.policy);
        if (*out == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return rc;
}

/* The policy that holds now: the stored text, or K of the trusted witnesses. */
static enum dft_err
current_policy(struct dft_vault *v, const struct dft_witness_set *ws, struct policy *p,
               int *from_text, struct dft_error *err)
{
    struct dft_buf text;
    dft_buf_init(&text, POLICY_BYTES_MAX, 0);
    enum dft_err rc = wclient_policy_get(vault_db(v), &text, err);
    *from_text = rc == DFT_OK;
    if (rc == DFT_OK && ws->has_policy_text) {
        /* the kept text must be the one the latest policy operation signed */
        unsigned char sha[32];
        crypto_sha256_once(sha, text.data, text.len);
        if (sodium_memcmp(sha, ws->policy_sha256, sizeof sha) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "the kept witness policy is not the one the log signed");
        }
    }
    if (rc == DFT_OK) {
        rc = policy_parse(p, text.data != NULL ? (const char *)text.data : "", text.len, err);
        dft_buf_release(&text);
        return rc;
    }
    dft_buf_release(&text);
    if (rc != DFT_ERR_NOT_FOUND) {
        return rc;
    }
    memset(p, 0, sizeof *p);
    json_t *id = NULL;
    if ((rc = dft_vault_identity(v, &id, err)) != DFT_OK) {
        return rc;
    }
    const char *lv = json_string_value(json_object_get(id, "vkey"));
    if (lv != NULL && note_verifier_parse(&p->logs[0].key, lv, strlen(lv), NULL) == DFT_OK) {
        p->nlogs = 1;
    }
    json_decref(id);
    for (size_t i = 0; i < ws->n && p->nwitnesses < POLICY_WITNESS_MAX; i++) {
        struct policy_witness *w = &p->witnesses[p->nwitnesses];
        char vk[DFT_NOTE_VKEY_MAX];
        uint64_t last = 0;
        snprintf(w->name, sizeof w->name, "w%zu", i + 1);
        w->key = ws->keys[i];
        note_verifier_format(&ws->keys[i], vk);
        if ((rc = wclient_get(vault_db(v), vk, w->url, &last, err)) != DFT_OK) {
            return rc;
        }
        p->nwitnesses++;
    }
    if (ws->policy == 0 || ws->n == 0) {
        p->quorum = POLICY_NONE;
    } else {
        struct policy_group *g = &p->groups[0];
        snprintf(g->name, sizeof g->name, "witnesses");
        g->k = ws->policy;
        g->n = (unsigned)p->nwitnesses;
        for (unsigned i = 0; i < g->n; i++) {
            g->members[i] = (int)i;
        }
        p->ngroups = 1;
        p->quorum = -1;
    }
    return DFT_OK;
}

/* A new policy p (parsed from text): check it against this vault, then store it. */
static enum dft_err
policy_store(struct dft_vault *v, struct dft_witness_set *ws, const struct policy *p,
             const char *text, size_t n, struct dft_error *err)
{
    /* The policy's logs must include this vault's key when it names any. */
    json_t *id = NULL;
    enum dft_err rc = dft_vault_identity(v, &id, err);
    if (rc == DFT_OK && p->nlogs > 0) {
        struct dft_note_verifier mine;
        const char *lv = json_string_value(json_object_get(id, "vkey"));
        int found = 0;
        if (lv != NULL && note_verifier_parse(&mine, lv, strlen(lv), NULL) == DFT_OK) {
            for (size_t i = 0; i < p->nlogs; i++) {
                found |= memcmp(p->logs[i].key.pub, mine.pub, 32) == 0 &&
                         strcmp(p->logs[i].key.name, mine.name) == 0;
            }
        }
        if (!found) {
            rc = dft_fail(err, DFT_ERR_INPUT,
                          "the policy's log lines do not include this vault's key");
        }
    }
    json_decref(id);
    for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
        if (p->witnesses[i].url[0] != '\0') {
            rc = wclient_url_check(p->witnesses[i].url, err);
        }
    }
    json_t *ops = json_array();
    if (ops == NULL && rc == DFT_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
        rc = trust_op(ws, &p->witnesses[i].key, ops, err);
    }
    json_t *op = NULL;
    unsigned char sha[32];
    crypto_sha256_once(sha, (const unsigned char *)text, n);
    if (rc == DFT_OK &&
        (rc = witness_policy_text_op(ws, policy_min_cosignatures(p), sha, &op, err)) == DFT_OK &&
        json_array_append_new(ops, op) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (rc == DFT_OK) {
        rc = append_ops(v, ops, ws, err);
    }
    json_decref(ops);
    for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
        char vk[DFT_NOTE_VKEY_MAX];
        note_verifier_format(&p->witnesses[i].key, vk);
        if (p->witnesses[i].url[0] != '\0') {
            rc = wclient_set_url(vault_db(v), vk, p->witnesses[i].url, err);
        }
    }
    if (rc == DFT_OK) {
        rc = wclient_policy_set(vault_db(v), text, n, err);
    }
    return rc;
}

enum dft_err
dft_vault_witness_policy_text(struct dft_vault *v, const char *text, size_t n, json_t **out,
                              struct dft_error *err)
{
    struct dft_witness_set ws;
    struct dft_buf fmt;
    int from_text = 0;
    *out = NULL;
    struct policy *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    dft_buf_init(&fmt, POLICY_BYTES_MAX, 0);
    enum dft_err rc = DFT_OK;
    if (text != NULL) {
        if (n > POLICY_BYTES_MAX) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "the policy is larger than %u bytes",
                          POLICY_BYTES_MAX);
        } else {
            rc = policy_parse(p, text, n, err);
        }
    }
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, &ws, err);
    }
    if (rc == DFT_OK && text != NULL) {
        rc = policy_store(v, &ws, p, text, n, err);
    }
    if (rc == DFT_OK) {
        rc = current_policy(v, &ws, p, &from_text, err);
    }
    if (rc == DFT_OK) {
        rc = policy_format(p, &fmt, err);
    }
    if (rc == DFT_OK) {
        *out = json_pack("{s:s%,s:b,s:I,s:I,s:I}", "policy", (const char *)fmt.data, fmt.len,
                         "from_file", from_text, "trusted", (json_int_t)ws.n, "witnesses",
                         (json_int_t)p->nwitnesses, "min_cosignatures",
                         (json_int_t)policy_min_cosignatures(p));
        if (*out == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    dft_buf_release(&fmt);
    free(p);
    return rc;
}

static enum dft_err
consistency(void *ctx, uint64_t old_size, uint64_t new_size, unsigned char (*proof)[32], size_t *n,
            struct dft_error *err)
{
    return tlog_prove_consistency(ctx, old_size, new_size, proof, n, err);
}

static const char *
result_word(enum cosign_result r)
{
    return r == COSIGN_OK ? "cosigned" : r == COSIGN_FORK ? "fork" : "failed";
}

/* Everything one cosign round needs, on the heap (witness arrays are large). */
struct cosign_round {
    struct dft_witness_set ws;
    struct policy policy;
    struct cosign_target t[DFT_WITNESS_MAX];
    struct cosign_target asked[DFT_WITNESS_MAX];
    size_t map[DFT_WITNESS_MAX];
    char vks[DFT_WITNESS_MAX][DFT_NOTE_VKEY_MAX];
    char urls[DFT_WITNESS_MAX][WCLIENT_URL_MAX];
    int cosigned[POLICY_WITNESS_MAX];
};

/* Ask every trusted witness with a URL to cosign the current checkpoint. */
static enum dft_err
cosign_ask(struct dft_vault *v, struct cosign_round *r, struct dft_buf *note, uint64_t *size,
           size_t *nasked, struct dft_error *err)
{
    sqlite3 *db = vault_db(v);
    int from_text = 0;
    enum dft_err rc = vault_witness_set(v, &r->ws, err);
    if (rc == DFT_OK) {
        rc = tlog_size(db, size, err);
    }
    if (rc == DFT_OK) {
        rc = dft_vault_checkpoint(v, *size, note, err);
    }
    if (rc == DFT_OK) {
        rc = current_policy(v, &r->ws, &r->policy, &from_text, err);
    }
    if (rc == DFT_OK && r->ws.n == 0) {
        rc =
            dft_fail(err, DFT_ERR_INPUT, "no witness is trusted yet (defter witness add VKEY URL)");
    }
    for (size_t i = 0; rc == DFT_OK && i < r->ws.n; i++) {
        note_verifier_format(&r->ws.keys[i], r->vks[i]);
        r->t[i].key = &r->ws.keys[i];
        rc = wclient_get(db, r->vks[i], r->urls[i], &r->t[i].last_size, err);
        r->t[i].url = r->urls[i];
    }
    /* ask those with a URL (the rest fail with a message) */
    *nasked = 0;
    for (size_t i = 0; rc == DFT_OK && i < r->ws.n; i++) {
        if (r->urls[i][0] == '\0') {
            snprintf(r->t[i].msg, sizeof r->t[i].msg,
                     "no URL to ask (defter witness add VKEY URL)");
            continue;
        }
        r->asked[*nasked] = r->t[i];
        r->map[*nasked] = i;
        (*nasked)++;
    }
    if (rc == DFT_OK && *nasked > 0) {
        rc = cosign_gather((const char *)note->data, note->len, r->asked, *nasked, consistency, db,
                           10000, err);
    }
    for (size_t j = 0; rc == DFT_OK && j < *nasked; j++) {
        r->t[r->map[j]] = r->asked[j];
    }
    return rc;
}

/* Remember the witnesses' sizes, merge the cosignatures that verified and keep the note. */
static enum dft_err
cosign_keep(struct dft_vault *v, struct cosign_round *r, const struct dft_buf *note, size_t *ok,
            size_t *forks, struct dft_error *err)
{
    sqlite3 *db = vault_db(v);
    struct dft_buf merged;
    dft_buf_init(&merged, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc = DFT_OK;
    if (dft_buf_add(&merged, note->data, note->len) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == DFT_OK && i < r->ws.n; i++) {
        if (r->t[i].size_known) {
            rc = wclient_set_last(db, r->vks[i], r->t[i].witness_size, err);
        }
        if (rc == DFT_OK && r->t[i].result == COSIGN_OK) {
            (*ok)++;
            if (dft_buf_adds(&merged, r->t[i].line) != DFT_OK) {
                rc = dft_fail(err, DFT_ERR_TOO_LARGE, "cosigned checkpoint is too large");
            }
            for (size_t k = 0; k < r->policy.nwitnesses; k++) {
                if (r->policy.witnesses[k].key.key_id == r->ws.keys[i].key_id &&
                    memcmp(r->policy.witnesses[k].key.pub, r->ws.keys[i].pub, 32) == 0) {
                    r->cosigned[k] = 1;
                }
            }
        }
        *forks += r->t[i].result == COSIGN_FORK;
    }
    if (rc == DFT_OK && *ok > 0) {
        struct witness_import res;
        rc = witness_import(db, vault_keys(v)->sign_pk, &r->ws, (const char *)merged.data,
                            merged.len, &res, err);
    }
    dft_buf_release(&merged);
    return rc;
}

enum dft_err
dft_vault_cosign(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    struct dft_buf note;
    uint64_t size = 0;
    size_t ok = 0, forks = 0, nasked = 0;
    *out = NULL;
    struct cosign_round *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc = cosign_ask(v, r, &note, &size, &nasked, err);
    if (rc == DFT_OK) {
        rc = cosign_keep(v, r, &note, &ok, &forks, err);
    }
    json_t *list = rc == DFT_OK ? json_array() : NULL;
    for (size_t i = 0; list != NULL && i < r->ws.n; i++) {
        const struct cosign_target *t = &r->t[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "name", r->ws.keys[i].name, "url", r->urls[i],
                              "result", result_word(t->result), "http", (json_int_t)t->http);
        if (o != NULL) {
            json_object_set_new(o, t->result == COSIGN_OK ? "timestamp" : "message",
                                t->result == COSIGN_OK ? json_integer((json_int_t)t->timestamp)
                                                       : json_string(t->msg));
        }
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (rc == DFT_OK) {
        int met = policy_met(&r->policy, r->cosigned) && ok >= 1;
        if (r->policy.quorum == POLICY_NONE && ok == 0) {
            met = 0; /* asking witnesses and getting nothing is a failure even without a quorum */
        }
        *out = list == NULL ? NULL
                            : json_pack("{s:I,s:I,s:b,s:b,s:o}", "size", (json_int_t)size,
                                        "cosignatures", (json_int_t)ok, "quorum_met", met, "fork",
                                        forks > 0, "witnesses", list);
        if (*out == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    dft_buf_release(&note);
    free(r);
    return rc;
}

enum dft_err
dft_vault_tlog_proof(struct dft_vault *v, const char *id, struct dft_buf *out, json_t **info,
                     struct dft_error *err)
{
    struct dft_witness_set ws;
    struct dft_buf cos;
    json_t *j = NULL;
    unsigned char(*proof)[32] = calloc(DFT_TLOG_PROOF_MAX, 32);
    size_t np = 0;
    int cosigned = 0;
    *info = NULL;
    if (proof == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    dft_buf_init(&cos, DFT_NOTE_MAX_BYTES, 0);
    sqlite3 *db = vault_db(v);
    enum dft_err rc = dft_vault_prove(v, id, &j, err);
    uint64_t index = rc == DFT_OK ? (uint64_t)json_integer_value(json_object_get(j, "index")) : 0;
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, &ws, err);
    }
    if (rc == DFT_OK) {
        struct dft_note n;
        struct dft_checkpoint c;
        enum dft_err lrc = witness_latest(db, vault_keys(v)->sign_pk, &ws, &cos, NULL);
        if (lrc == DFT_OK && note_parse(&n, (const char *)cos.data, cos.len, NULL) == DFT_OK) {
            if (checkpoint_parse(&c, n.text, n.text_len, NULL) == DFT_OK && c.size > index &&
                tlog_prove_inclusion(db, index, c.size, proof, &np, err) == DFT_OK) {
                cosigned = 1;
            }
            note_release(&n);
        } else if (lrc != DFT_OK && lrc != DFT_ERR_NOT_FOUND) {
            rc = dft_fail(err, lrc, "the kept cosigned checkpoint does not verify");
        }
    }
    if (rc == DFT_OK && !cosigned) {
        size_t i;
        json_t *h;
        np = 0;
        json_array_foreach(json_object_get(j, "proof"), i, h)
        {
            const char *b = json_string_value(h);
            if (np >= DFT_TLOG_PROOF_MAX || b == NULL ||
                tlog_hash_decode(proof[np++], b, strlen(b), err) != DFT_OK) {
                rc = dft_fail(err, DFT_ERR_INTERNAL, "bad proof hash");
                break;
            }
        }
        dft_buf_reset(&cos);
        const char *ck = json_string_value(json_object_get(j, "checkpoint"));
        if (rc == DFT_OK && (ck == NULL || dft_buf_adds(&cos, ck) != DFT_OK)) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    if (rc == DFT_OK) {
        rc = tlog_proof_format(out, index, (const unsigned char(*)[32])proof, np,
                               (const char *)cos.data, cos.len, err);
    }
    if (rc == DFT_OK) {
        *info = json_pack("{s:b,s:I}", "cosigned", cosigned, "index", (json_int_t)index);
        if (*info == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    json_decref(j);
    dft_buf_release(&cos);
    free(proof);
    return rc;
}
