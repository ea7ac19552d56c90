/*
 * client.c - the team-sync engine (client.h): share, invite, join, member list and revoke,
 * and sync (push, then pull and verify).
 *
 * The engine's state lives sealed in the vault (dft_vault_sync_state_put):
 *   {"v":1,"server":URL,"vkey":VKEY,"collection":CID,
 *    "checkpoint":{"size","root","note"}   the last checkpoint this device verified,
 *    "frontier":[b64...]                   the tree's complete subtrees at that size (readers),
 *    "members_seen":N                      membership entries verified in the log so far,
 *    "history":[{"t","size"}]              when each checkpoint was verified (revoke --since),
 *    "evidence":[{"reason","old","new","t"}]  signed checkpoints that did not agree}
 * It trusts the server for nothing it can check: every checkpoint must verify under the
 * server key learned at share or from the invite, extend the last one (consistency proof),
 * and, for readers, equal the root rebuilt from the pulled entries; the membership chain is
 * replayed from genesis. Nothing is merged before all of that holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "defter/vault_sync.h"
#include "defter/vault.h"
#include "log/tlog.h"
#include "sync/client.h"
#include "sync/member.h"
#include "sync/server.h"
#include "sync/sync_internal.h"

#define ENTRY_HEAD      5
#define PUSH_BATCH_MAX  (32u * 1024u * 1024u)
#define PUSH_COUNT_MAX  4096
#define CHAIN_BYTES_MAX (64u * 1024u * 1024u)

struct signer {
    struct dft_vault *v;
    const unsigned char *sk; /* a raw Ed25519 secret key instead (the invite key), or NULL */
};

static enum dft_err
sign_cb(void *ctx, const unsigned char *msg, size_t n, unsigned char sig[64], struct dft_error *err)
{
    struct signer *s = ctx;
    if (s->sk != NULL) {
        crypto_sign_detached(sig, NULL, msg, n, s->sk);
        return DFT_OK;
    }
    return dft_vault_sign(s->v, msg, n, sig, err);
}

/* The engine's working set for one command. */
struct eng {
    struct dft_vault *v;
    json_t *state;
    struct dft_sync_keyring ring;
    struct sync_http http;
    struct signer signer;
    unsigned char pub[32], xpub[32];
    char pub_b64[dft_b64_len(32)];
    char cid[SYNC_CID_MAX + 1];
    struct dft_note_verifier server; /* named for this collection's origin */
    struct member_chain chain;
    json_t *ops; /* [{"index","op"}] as the server listed them */
};

static void
eng_release(struct eng *e)
{
    sync_http_release(&e->http);
    dft_sync_keyring_free(&e->ring);
    member_chain_release(&e->chain);
    json_decref(e->state);
    json_decref(e->ops);
    memset(e, 0, sizeof *e);
}

static enum dft_err
identity(struct eng *e, struct dft_error *err)
{
    json_t *id = NULL;
    size_t n = 0;
    enum dft_err rc = dft_vault_identity(e->v, &id, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const char *sp = json_string_value(json_object_get(id, "sign_pub"));
    const char *bp = json_string_value(json_object_get(id, "box_pub"));
    if (sp == NULL || bp == NULL || dft_b64_decode(e->pub, 32, &n, sp, strlen(sp)) != DFT_OK ||
        n != 32 || dft_b64_decode(e->xpub, 32, &n, bp, strlen(bp)) != DFT_OK || n != 32) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "vault identity lacks its keys");
    }
    dft_b64_encode(e->pub_b64, e->pub, 32);
    json_decref(id);
    return rc;
}

static enum dft_err
server_verifier(struct eng *e, const char *vkey, struct dft_error *err)
{
    struct dft_note_verifier sv;
    char origin[DFT_NOTE_NAME_MAX + 1], name[64];
    enum dft_err rc = note_verifier_parse(&sv, vkey, strlen(vkey), err);
    if (rc != DFT_OK) {
        return rc;
    }
    sync_server_name(name, sv.pub);
    if (sv.alg != DFT_NOTE_ALG_ED25519 || strcmp(sv.name, name) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "not a sync server's verifier key");
    }
    sync_server_origin(origin, sv.pub, e->cid);
    return note_verifier_init(&e->server, origin, DFT_NOTE_ALG_ED25519, sv.pub, err);
}

/* Open the engine on a shared vault: state, keys, connection, server key. */
static enum dft_err
eng_open(struct eng *e, struct dft_vault *v, struct dft_error *err)
{
    memset(e, 0, sizeof *e);
    e->v = v;
    e->signer.v = v;
    enum dft_err rc = identity(e, err);
    if (rc == DFT_OK) {
        rc = dft_vault_sync_state_get(v, &e->state, err);
        if (rc == DFT_ERR_NOT_FOUND) {
            return dft_fail(err, DFT_ERR_USAGE,
                            "this vault is not shared: run `defter share --server URL` or "
                            "`defter init --join INVITE`");
        }
    }
    if (rc != DFT_OK) {
        return rc;
    }
    const char *url = json_string_value(json_object_get(e->state, "server"));
    const char *vkey = json_string_value(json_object_get(e->state, "vkey"));
    const char *cid = json_string_value(json_object_get(e->state, "collection"));
    if (url == NULL || vkey == NULL || cid == NULL || strlen(cid) != 32) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync state is damaged");
    }
    snprintf(e->cid, sizeof e->cid, "%s", cid);
    member_chain_init(&e->chain, e->cid);
    if ((rc = server_verifier(e, vkey, err)) != DFT_OK ||
        (rc = dft_vault_sync_keys_get(v, &e->ring, err)) != DFT_OK) {
        return rc;
    }
    return sync_http_init(&e->http, url, e->pub, sign_cb, &e->signer, err);
}

static enum dft_err
path_of(char *out, size_t max, const char *cid, const char *rest)
{
    snprintf(out, max, "/v1/c/%s%s", cid, rest);
    return DFT_OK;
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- keys ---- */

static struct dft_sync_epoch *
ring_find(struct dft_sync_keyring *r, uint32_t epoch)
{
    for (size_t i = 0; i < r->count; i++) {
        if (r->epochs[i].epoch == epoch) {
            return &r->epochs[i];
        }
    }
    return NULL;
}

/* Add (or upgrade to a secret) an epoch: a new sodium_malloc'd array, the old one wiped. */
static enum dft_err
ring_put(struct dft_sync_keyring *r, const struct dft_sync_epoch *ep, int *changed,
         struct dft_error *err)
{
    struct dft_sync_epoch *have = ring_find(r, ep->epoch);
    if (have != NULL) {
        if (!have->has_secret && ep->has_secret) {
            memcpy(have, ep, sizeof *have);
            *changed = 1;
        }
        return DFT_OK;
    }
    struct dft_sync_epoch *a = sodium_malloc((r->count + 1) * sizeof *a);
    if (a == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (r->count > 0) {
        memcpy(a, r->epochs, r->count * sizeof *a);
    }
    memcpy(&a[r->count], ep, sizeof *a);
    sodium_free(r->epochs);
    r->epochs = a;
    r->count++;
    *changed = 1;
    return DFT_OK;
}

static int
key_field(const json_t *o, const char *name, unsigned char out[32])
{
    size_t n = 0;
    const char *s = json_string_value(json_object_get(o, name));
    return s != NULL && dft_b64_decode(out, 32, &n, s, strlen(s)) == DFT_OK && n == 32 ? 0 : -1;
}

/* The epoch keys a chain operation gives this device (genesis, epoch, grant). */
static enum dft_err
keys_from_op(struct eng *e, const json_t *op, int *changed, struct dft_error *err)
{
    const char *action = json_string_value(json_object_get(op, "action"));
    struct dft_sync_epoch ep;
    enum dft_err rc = DFT_OK;
    const char *sealed = NULL;
    if (action == NULL) {
        return DFT_OK;
    }
    memset(&ep, 0, sizeof ep);
    if (strcmp(action, "genesis") == 0 || strcmp(action, "epoch") == 0) {
        ep.epoch = (uint32_t)json_integer_value(json_object_get(op, "epoch"));
        if (key_field(op, "drop", ep.drop_pk) != 0) {
            return DFT_OK;
        }
        sealed = json_string_value(json_object_get(json_object_get(op, "sealed"), e->pub_b64));
    } else if (strcmp(action, "grant") == 0) {
        unsigned char k[32];
        if (key_field(op, "key", k) != 0 || memcmp(k, e->pub, 32) != 0) {
            return DFT_OK;
        }
        ep.epoch = (uint32_t)json_integer_value(json_object_get(op, "epoch"));
        const struct dft_sync_epoch *have = ring_find(&e->ring, ep.epoch);
        if (have == NULL) {
            return DFT_OK; /* a grant names an epoch whose drop key we learn from its op */
        }
        memcpy(ep.drop_pk, have->drop_pk, 32);
        sealed = json_string_value(json_object_get(op, "sealed"));
    } else {
        return DFT_OK;
    }
    if (sealed != NULL) {
        unsigned char box[MEMBER_SEALED_BYTES + 3];
        unsigned char *keys = sodium_malloc(64);
        size_t n = 0;
        if (keys == NULL) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        if (dft_b64_decode(box, sizeof box, &n, sealed, strlen(sealed)) != DFT_OK ||
            n != MEMBER_SEALED_BYTES) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "a sealed epoch key is malformed");
        } else if ((rc = dft_vault_unseal(e->v, box, n, keys, err)) == DFT_OK) {
            memcpy(ep.ck, keys, 32);
            memcpy(ep.drop_sk, keys + 32, 32);
            ep.has_secret = 1;
        }
        sodium_free(keys);
    }
    if (rc == DFT_OK) {
        rc = ring_put(&e->ring, &ep, changed, err);
    }
    sodium_memzero(&ep, sizeof ep);
    return rc;
}

/* ---- the membership chain ---- */

static enum dft_err
fetch_chain(struct eng *e, struct dft_error *err)
{
    char path[128];
    struct sync_http_meta m;
    struct dft_buf resp;
    json_error_t jerr;
    int changed = 0;
    dft_buf_init(&resp, CHAIN_BYTES_MAX, 0);
    path_of(path, sizeof path, e->cid, "/members");
    enum dft_err rc = sync_http_call(&e->http, "GET", path, NULL, 0, &m, &resp, err);
    json_t *j = NULL;
    if (rc == DFT_OK) {
        j = json_loadb((const char *)resp.data, resp.len, 0, &jerr);
        if (!json_is_array(json_object_get(j, "ops"))) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent a malformed membership list");
        }
    }
    dft_buf_release(&resp);
    member_chain_release(&e->chain);
    member_chain_init(&e->chain, e->cid);
    size_t i;
    json_t *x;
    uint64_t last = 0;
    json_array_foreach(json_object_get(j, "ops"), i, x)
    {
        if (rc != DFT_OK) {
            break;
        }
        const char *s = json_string_value(json_object_get(x, "op"));
        json_t *ix = json_object_get(x, "index");
        size_t sl = s != NULL ? strlen(s) : 0;
        unsigned char *buf = malloc(sl + 4);
        size_t n = 0;
        json_t *op = NULL;
        if (buf == NULL || !json_is_integer(ix) || json_integer_value(ix) < 0 ||
            (i > 0 && (uint64_t)json_integer_value(ix) <= last) ||
            dft_b64_decode(buf, sl + 4, &n, s, sl) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent a malformed membership list");
        } else if ((rc = member_apply(&e->chain, buf, n, (uint64_t)json_integer_value(ix), 0, &op,
                                      err)) == DFT_OK &&
                   e->v != NULL) {
            rc = keys_from_op(e, op, &changed, err);
        }
        last = ix != NULL ? (uint64_t)json_integer_value(ix) : 0;
        json_decref(op);
        free(buf);
    }
    if (rc == DFT_OK && e->chain.seq == 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent no membership genesis");
    }
    if (rc == DFT_OK && changed) {
        rc = dft_vault_sync_keys_put(e->v, &e->ring, err);
    }
    if (rc == DFT_OK) {
        json_decref(e->ops);
        e->ops = json_incref(json_object_get(j, "ops"));
    } else if (rc == DFT_ERR_INPUT) {
        rc = DFT_ERR_INTEGRITY; /* a server that serves a bad chain is not to be believed */
    }
    json_decref(j);
    return rc;
}

static enum dft_err
post_op(struct eng *e, json_t *op, struct dft_buf *payload_out, struct dft_error *err)
{
    char path[128];
    struct sync_http_meta m;
    struct dft_buf payload, resp;
    dft_buf_init(&payload, MEMBER_JSON_MAX + 1024, 0);
    dft_buf_init(&resp, 1 << 20, 0);
    if (json_object_get(op, "by") == NULL) {
        json_object_set_new(op, "by", json_string(e->pub_b64));
    }
    enum dft_err rc = member_seal_op(&e->chain, op, sign_cb, &e->signer, &payload, err);
    if (rc == DFT_OK) {
        path_of(path, sizeof path, e->cid, "/members");
        rc = sync_http_call(&e->http, "POST", path, payload.data, payload.len, &m, &resp, err);
    }
    if (rc == DFT_OK && payload_out != NULL) {
        rc = dft_buf_add(payload_out, payload.data, payload.len);
    }
    dft_buf_release(&payload);
    dft_buf_release(&resp);
    return rc;
}

/* A fresh epoch's keys sealed to each reading member of the chain (or to one key). */
static enum dft_err
new_epoch(struct eng *e, uint32_t epoch, const unsigned char *only_xkey, const char *only_key,
          struct dft_sync_epoch *ep, json_t **sealed, struct dft_error *err)
{
    unsigned char *keys = sodium_malloc(64);
    if (keys == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memset(ep, 0, sizeof *ep);
    ep->epoch = epoch;
    ep->has_secret = 1;
    randombytes_buf(ep->ck, sizeof ep->ck);
    crypto_box_keypair(ep->drop_pk, ep->drop_sk);
    memcpy(keys, ep->ck, 32);
    memcpy(keys + 32, ep->drop_sk, 32);
    *sealed = json_object();
    for (size_t i = 0; *sealed != NULL && i < (only_xkey != NULL ? 1 : e->chain.n); i++) {
        const struct member *m = only_xkey != NULL ? NULL : &e->chain.members[i];
        if (m != NULL && (m->revoked || !member_role_reads(m->role))) {
            continue;
        }
        unsigned char box[MEMBER_SEALED_BYTES];
        char b[dft_b64_len(MEMBER_SEALED_BYTES)], k[dft_b64_len(32)];
        crypto_box_seal(box, keys, 64, m != NULL ? m->xkey : only_xkey);
        dft_b64_encode(b, box, sizeof box);
        if (m != NULL) {
            dft_b64_encode(k, m->key, 32);
        } else {
            snprintf(k, sizeof k, "%s", only_key);
        }
        json_object_set_new(*sealed, k, json_string(b));
    }
    sodium_free(keys);
    return *sealed != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}

/* ---- the tree's frontier (complete subtrees, largest first) ---- */

struct frontier {
    uint64_t size;
    unsigned char h[64][32];
    unsigned n;
};

static void
frontier_add(struct frontier *f, const unsigned char leaf[32])
{
    unsigned char h[32];
    memcpy(h, leaf, 32);
    for (uint64_t s = f->size; (s & 1) != 0; s >>= 1) {
        tlog_hash_node(h, f->h[--f->n], h);
    }
    memcpy(f->h[f->n++], h, 32);
    f->size++;
}

static void
frontier_root(const struct frontier *f, unsigned char root[32])
{
    if (f->n == 0) {
        tlog_hash_empty(root);
        return;
    }
    memcpy(root, f->h[f->n - 1], 32);
    for (unsigned i = f->n - 1; i-- > 0;) {
        tlog_hash_node(root, f->h[i], root);
    }
}

static enum dft_err
frontier_load(struct frontier *f, const json_t *state, struct dft_error *err)
{
    memset(f, 0, sizeof *f);
    f->size =
        (uint64_t)json_integer_value(json_object_get(json_object_get(state, "checkpoint"), "size"));
    const json_t *a = json_object_get(state, "frontier");
    if (a == NULL) {
        f->size = 0;
        return DFT_OK;
    }
    if ((unsigned)__builtin_popcountll(f->size) != json_array_size(a)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync state: frontier does not fit its size");
    }
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        const char *s = json_string_value(x);
        if (s == NULL || tlog_hash_decode(f->h[i], s, strlen(s), err) != DFT_OK) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "sync state: bad frontier");
        }
    }
    f->n = (unsigned)json_array_size(a);
    return DFT_OK;
}

static json_t *
frontier_json(const struct frontier *f)
{
    json_t *a = json_array();
    for (unsigned i = 0; a != NULL && i < f->n; i++) {
        char b[DFT_TLOG_HASH_B64];
        tlog_hash_encode(b, f->h[i]);
        json_array_append_new(a, json_string(b));
    }
    return a;
}

/* ---- checkpoints and evidence ---- */

static enum dft_err
keep_evidence(struct eng *e, const char *reason, const char *old_note, const char *new_note,
              size_t new_len)
{
    json_t *ev = json_object_get(e->state, "evidence");
    if (!json_is_array(ev)) {
        ev = json_array();
        json_object_set_new(e->state, "evidence", ev);
    }
    json_t *o = json_pack("{s:s,s:s?,s:s%,s:I}", "reason", reason, "old", old_note, "new",
                          new_note != NULL ? new_note : "", new_note != NULL ? new_len : 0, "t",
                          (json_int_t)now_s());
    json_array_append_new(ev, o);
    return dft_vault_sync_state_put(e->v, e->state, NULL);
}

static enum dft_err
get_proof(struct eng *e, const char *query, unsigned char (*proof)[32], size_t *n,
          struct dft_error *err)
{
    char path[256];
    struct sync_http_meta m;
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/proof/%s", e->cid, query);
    enum dft_err rc = sync_http_call(&e->http, "GET", path, NULL, 0, &m, &resp, err);
    json_t *j = rc == DFT_OK ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
    const json_t *a = json_object_get(j, "proof");
    if (rc == DFT_OK && (!json_is_array(a) || json_array_size(a) > DFT_TLOG_PROOF_MAX)) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent a malformed proof");
    }
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        const char *s = json_string_value(x);
        if (rc == DFT_OK &&
            (s == NULL || tlog_hash_decode(proof[i], s, strlen(s), NULL) != DFT_OK)) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent a malformed proof");
        }
    }
    *n = json_array_size(a);
    json_decref(j);
    dft_buf_release(&resp);
    return rc;
}

/*
 * Fetch and check the latest checkpoint against the last verified one: signature, no rollback,
 * consistency proof. On failure keep both notes as evidence and return DFT_ERR_INTEGRITY.
 */
static enum dft_err
fetch_checkpoint(struct eng *e, struct dft_checkpoint *cp, struct dft_buf *note,
                 struct dft_error *err)
{
    char path[128];
    struct sync_http_meta m;
    path_of(path, sizeof path, e->cid, "/checkpoint");
    enum dft_err rc = sync_http_call(&e->http, "GET", path, NULL, 0, &m, note, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const json_t *old = json_object_get(e->state, "checkpoint");
    const char *old_note = json_string_value(json_object_get(old, "note"));
    if (checkpoint_open(cp, (const char *)note->data, note->len, &e->server, NULL, 0, NULL, err) !=
        DFT_OK) {
        (void)keep_evidence(e, "checkpoint not signed by the server key", old_note,
                            (const char *)note->data, note->len);
        return dft_fail(err, DFT_ERR_INTEGRITY, "server checkpoint does not verify");
    }
    if (old == NULL) {
        return DFT_OK;
    }
    uint64_t osize = (uint64_t)json_integer_value(json_object_get(old, "size"));
    unsigned char oroot[32];
    const char *ors = json_string_value(json_object_get(old, "root"));
    if (ors == NULL || tlog_hash_decode(oroot, ors, strlen(ors), err) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync state: bad checkpoint");
    }
    if (cp->size < osize) {
        (void)keep_evidence(e, "rollback: the server's log is shorter than one it signed before",
                            old_note, (const char *)note->data, note->len);
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "server rolled back its log (size %llu after %llu): evidence kept",
                        (unsigned long long)cp->size, (unsigned long long)osize);
    }
    if (osize == 0) {
        return DFT_OK;
    }
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    char q[96];
    snprintf(q, sizeof q, "consistency?old=%llu&new=%llu", (unsigned long long)osize,
             (unsigned long long)cp->size);
    if (cp->size == osize) {
        n = 0;
    } else if ((rc = get_proof(e, q, proof, &n, err)) != DFT_OK) {
        if (rc != DFT_ERR_INTEGRITY) {
            return rc;
        }
    }
    if (rc != DFT_OK ||
        tlog_verify_consistency(osize, cp->size, oroot, cp->root, (const unsigned char(*)[32])proof,
                                n, NULL) != DFT_OK) {
        (void)keep_evidence(e, "fork: no consistency between two signed checkpoints", old_note,
                            (const char *)note->data, note->len);
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "server log forked: no consistency from size %llu to %llu; evidence "
                        "kept",
                        (unsigned long long)osize, (unsigned long long)cp->size);
    }
    return DFT_OK;
}

/* Remember cp as verified (and the frontier, when the caller rebuilt it). */
static enum dft_err
save_checkpoint(struct eng *e, const struct dft_checkpoint *cp, const struct dft_buf *note,
                const struct frontier *f, uint64_t members_seen, struct dft_error *err)
{
    char root[DFT_TLOG_HASH_B64];
    tlog_hash_encode(root, cp->root);
    json_object_set_new(e->state, "checkpoint",
                        json_pack("{s:I,s:s,s:s%}", "size", (json_int_t)cp->size, "root", root,
                                  "note", (const char *)note->data, note->len));
    if (e->ops != NULL) {
        json_object_set(e->state, "chain", e->ops); /* for re-seeding a new server */
    }
    if (f != NULL) {
        json_object_set_new(e->state, "frontier", frontier_json(f));
        json_object_set_new(e->state, "members_seen", json_integer((json_int_t)members_seen));
    }
    json_t *h = json_object_get(e->state, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(e->state, "history", h);
    }
    json_array_append_new(
        h, json_pack("{s:I,s:I}", "t", (json_int_t)now_s(), "size", (json_int_t)cp->size));
    while (json_array_size(h) > 1000) {
        json_array_remove(h, 0);
    }
    return dft_vault_sync_state_put(e->v, e->state, err);
}

/* ---- push ---- */

struct push_ctx {
    struct dft_buf batch;
    uint64_t *locals;
    size_t n, cap;
    int too_big;
};

static int
on_out(void *ctx, uint64_t local_index, const unsigned char *body, size_t n)
{
    struct push_ctx *p = ctx;
    unsigned char head[ENTRY_HEAD];
    if (n > PUSH_BATCH_MAX - ENTRY_HEAD || p->batch.len + ENTRY_HEAD + n > PUSH_BATCH_MAX) {
        p->too_big = p->n == 0;
        return 1;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        uint64_t *a = realloc(p->locals, nc * sizeof *a);
        if (a == NULL) {
            p->too_big = 1;
            return 1;
        }
        p->locals = a;
        p->cap = nc;
    }
    head[0] = 1;
    dft_be_put(head + 1, n, 4);
    if (dft_buf_add(&p->batch, head, ENTRY_HEAD) != DFT_OK ||
        dft_buf_add(&p->batch, body, n) != DFT_OK) {
        p->too_big = 1;
        return 1;
    }
    p->locals[p->n++] = local_index;
    return p->n >= PUSH_COUNT_MAX;
}

struct chunk_ctx {
    struct eng *e;
    enum dft_err rc;
    struct dft_error *err;
    size_t count;
};

static int
on_chunk(void *ctx, const char *name, const unsigned char *body, size_t n)
{
    struct chunk_ctx *c = ctx;
    char path[200];
    struct sync_http_meta m;
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 16, 0);
    snprintf(path, sizeof path, "/v1/c/%s/chunks/%.64s", c->e->cid, name);
    c->rc = sync_http_call(&c->e->http, "PUT", path, body, n, &m, &resp, c->err);
    dft_buf_release(&resp);
    c->count += c->rc == DFT_OK;
    return c->rc != DFT_OK;
}

static enum dft_err
push(struct eng *e, uint64_t *pushed, struct dft_error *err)
{
    char path[128];
    enum dft_err rc = DFT_OK;
    struct chunk_ctx cc = {e, DFT_OK, err, 0};
    *pushed = 0;
    /* evidence first, so a member that sees an envelope can fetch what it names */
    if ((rc = dft_vault_sync_chunks_out(e->v, &e->ring, on_chunk, &cc, err)) != DFT_OK ||
        (rc = cc.rc) != DFT_OK) {
        return rc;
    }
    path_of(path, sizeof path, e->cid, "/envelopes");
    for (;;) {
        struct push_ctx p;
        memset(&p, 0, sizeof p);
        dft_buf_init(&p.batch, PUSH_BATCH_MAX, 0);
        rc = dft_vault_sync_outbox(e->v, &e->ring, PUSH_COUNT_MAX, on_out, &p, err);
        if (rc == DFT_OK && p.too_big) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "an envelope is too large to push");
        }
        if (rc == DFT_OK && p.n > 0) {
            struct sync_http_meta m;
            struct dft_buf resp;
            dft_buf_init(&resp, 1 << 16, 0);
            rc = sync_http_call(&e->http, "POST", path, p.batch.data, p.batch.len, &m, &resp, err);
            json_t *j =
                rc == DFT_OK ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
            json_t *first = json_object_get(j, "first");
            if (rc == DFT_OK && !json_is_integer(first)) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY, "server did not say where it logged a push");
            }
            for (size_t i = 0; rc == DFT_OK && i < p.n; i++) {
                rc = dft_vault_sync_acked(e->v, p.locals[i],
                                          (uint64_t)json_integer_value(first) + i, err);
            }
            json_decref(j);
            dft_buf_release(&resp);
            *pushed += rc == DFT_OK ? p.n : 0;
        }
        size_t got = p.n;
        dft_buf_release(&p.batch);
        free(p.locals);
        if (rc != DFT_OK || got == 0 || got < PUSH_COUNT_MAX) {
            break;
        }
    }
    return rc;
}

/* ---- pull ---- */

struct pulled {
    struct dft_sync_entry *e;
    size_t n, cap;
    struct dft_buf data; /* every pulled body, back to back */
};

static int
author_cb(void *ctx, const unsigned char author[32], uint64_t index)
{
    return member_author_ok(ctx, author, index);
}

/* The chain's operation logged at index, or NULL. */
static const json_t *
op_at(const struct eng *e, uint64_t index)
{
    size_t i;
    json_t *x;
    json_array_foreach(e->ops, i, x)
    {
        if ((uint64_t)json_integer_value(json_object_get(x, "index")) == index) {
            return x;
        }
    }
    return NULL;
}

/* Each "seen" checkpoint another member's operation carries must be a prefix of ours. */
static enum dft_err
cross_check(struct eng *e, const struct dft_checkpoint *cp, const json_t *report,
            struct dft_error *err)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(report, "seen"), i, x)
    {
        uint64_t size = (uint64_t)json_integer_value(json_object_get(x, "size"));
        const char *rs = json_string_value(json_object_get(x, "root"));
        unsigned char root[32], proof[DFT_TLOG_PROOF_MAX][32];
        size_t n = 0;
        char q[96];
        if (size == 0 || size > cp->size) {
            continue; /* nothing to prove, or beyond what this device has verified yet */
        }
        if (rs == NULL || tlog_hash_decode(root, rs, strlen(rs), NULL) != DFT_OK) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "an operation carries a malformed seen");
        }
        snprintf(q, sizeof q, "consistency?old=%llu&new=%llu", (unsigned long long)size,
                 (unsigned long long)cp->size);
        enum dft_err rc = size == cp->size ? DFT_OK : get_proof(e, q, proof, &n, err);
        if (rc != DFT_OK && rc != DFT_ERR_INTEGRITY) {
            return rc;
        }
        if (rc != DFT_OK ||
            tlog_verify_consistency(size, cp->size, root, cp->root,
                                    (const unsigned char(*)[32])proof, n, NULL) != DFT_OK) {
            char note[200];
            snprintf(note, sizeof note, "seen by %s at entry %lld: size %llu root %s",
                     json_string_value(json_object_get(x, "author")),
                     (long long)json_integer_value(json_object_get(x, "index")),
                     (unsigned long long)size, rs);
            (void)keep_evidence(e, "fork: another member saw a history this one does not extend",
                                note, NULL, 0);
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "fork: another member saw a log of size %llu that is not a prefix "
                            "of this one; evidence kept",
                            (unsigned long long)size);
        }
    }
    return DFT_OK;
}

/* cross_check as the vault's seen hook: before anything pulled is merged. */
struct seen_ctx {
    struct eng *e;
    const struct dft_checkpoint *cp;
};

static enum dft_err
seen_hook(void *ctx, const json_t *seen, struct dft_error *err)
{
    struct seen_ctx *c = ctx;
    json_t *r = json_pack("{s:O}", "seen", seen);
    if (r == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = cross_check(c->e, c->cp, r, err);
    json_decref(r);
    return rc;
}

static enum dft_err
pull(struct eng *e, const struct dft_checkpoint *cp, struct frontier *f, uint64_t *pulled,
     json_t **report, int64_t *waiting, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct pulled pl;
    uint64_t members_seen = (uint64_t)json_integer_value(json_object_get(e->state, "members_seen"));
    memset(&pl, 0, sizeof pl);
    dft_buf_init(&pl.data, (size_t)1 << 40, 0);
    *pulled = 0;
    uint64_t next = f->size;
    while (rc == DFT_OK && next < cp->size) {
        char path[200];
        struct sync_http_meta m;
        size_t mark = pl.data.len;
        snprintf(path, sizeof path, "/v1/c/%s/envelopes?since=%llu&limit=%llu", e->cid,
                 (unsigned long long)next, (unsigned long long)(cp->size - next));
        if ((rc = sync_http_call(&e->http, "GET", path, NULL, 0, &m, &pl.data, err)) != DFT_OK) {
            break;
        }
        if (m.first != next || pl.data.len == mark) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "server answered a pull with other entries");
            break;
        }
        size_t off = mark;
        while (rc == DFT_OK && off < pl.data.len && next < cp->size) {
            const unsigned char *p = pl.data.data + off;
            size_t left = pl.data.len - off;
            uint64_t len = left >= ENTRY_HEAD ? dft_be_get(p + 1, 4) : 0;
            if (left < ENTRY_HEAD || len > left - ENTRY_HEAD || (p[0] != 1 && p[0] != 2)) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent a malformed entry");
                break;
            }
            unsigned char leaf[32];
            crypto_leaf_hash(leaf, p, ENTRY_HEAD + (size_t)len);
            frontier_add(f, leaf);
            if (p[0] == 2) {
                /* the same operation the membership list shows at this index */
                const json_t *x = op_at(e, next);
                const char *s = json_string_value(json_object_get(x, "op"));
                char *b = malloc(dft_b64_len((size_t)len));
                if (b != NULL) {
                    dft_b64_encode(b, p + ENTRY_HEAD, (size_t)len);
                }
                if (b == NULL || s == NULL || strcmp(s, b) != 0) {
                    rc = dft_fail(err, DFT_ERR_INTEGRITY,
                                  "membership entry %llu differs from the membership list",
                                  (unsigned long long)next);
                }
                free(b);
                members_seen++;
            } else {
                if (pl.n == pl.cap) {
                    size_t nc = pl.cap ? pl.cap * 2 : 256;
                    struct dft_sync_entry *a = realloc(pl.e, nc * sizeof *a);
                    if (a == NULL) {
                        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                        break;
                    }
                    pl.e = a;
                    pl.cap = nc;
                }
                /* offsets for now: the buffer may still move */
                pl.e[pl.n++] = (struct dft_sync_entry){next, NULL, (size_t)len};
                pl.e[pl.n - 1].body = (const unsigned char *)(uintptr_t)(off + ENTRY_HEAD);
            }
            off += ENTRY_HEAD + (size_t)len;
            next++;
        }
        if (rc == DFT_OK && off != pl.data.len) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "server sent more than it was asked");
        }
    }
    unsigned char root[32];
    if (rc == DFT_OK) {
        frontier_root(f, root);
        if (f->size != cp->size || sodium_memcmp(root, cp->root, 32) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "pulled entries do not hash into the signed root (size %llu)",
                          (unsigned long long)cp->size);
        }
    }
    /* every membership operation below the checkpoint was seen in the log, none withheld */
    if (rc == DFT_OK) {
        uint64_t listed = 0;
        size_t i;
        json_t *x;
        json_array_foreach(e->ops, i, x)
        {
            listed += (uint64_t)json_integer_value(json_object_get(x, "index")) < cp->size;
        }
        if (listed != members_seen) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "membership list and log disagree (%llu listed, %llu logged)",
                          (unsigned long long)listed, (unsigned long long)members_seen);
        }
    }
    if (rc == DFT_OK) {
        for (size_t i = 0; i < pl.n; i++) {
            pl.e[i].body = pl.data.data + (uintptr_t)pl.e[i].body;
        }
        /* an epoch this device holds no key of yet (an owner grants it): merge nothing now */
        for (size_t i = 0; i < pl.n && *waiting < 0; i++) {
            const struct dft_sync_epoch *ep =
                pl.e[i].len >= 4 ? ring_find(&e->ring, (uint32_t)dft_be_get(pl.e[i].body, 4))
                                 : NULL;
            if (pl.e[i].len >= 4 && (ep == NULL || !ep->has_secret)) {
                *waiting = (int64_t)dft_be_get(pl.e[i].body, 4);
            }
        }
        if (*waiting >= 0) {
            pl.n = 0;
        }
        if (pl.n > 0) {
            struct seen_ctx sc = {e, cp};
            rc = dft_vault_sync_apply_checked(e->v, pl.e, pl.n, &e->ring, author_cb, &e->chain,
                                              seen_hook, &sc, report, err);
        }
        *pulled = pl.n;
    }
    if (rc == DFT_OK) {
        json_object_set_new(e->state, "members_seen", json_integer((json_int_t)members_seen));
    }
    free(pl.e);
    dft_buf_release(&pl.data);
    return rc;
}

static enum dft_err
fetch_chunks(struct eng *e, struct dft_error *err)
{
    json_t *names = NULL;
    enum dft_err rc = dft_vault_sync_chunks_wanted(e->v, &names, err);
    size_t i;
    json_t *x;
    json_array_foreach(names, i, x)
    {
        char path[200];
        struct sync_http_meta m;
        struct dft_buf body;
        const char *name = json_string_value(x);
        if (rc != DFT_OK || name == NULL) {
            break;
        }
        dft_buf_init(&body, SYNC_CHUNK_MAX + 1, 0);
        snprintf(path, sizeof path, "/v1/c/%s/chunks/%.64s", e->cid, name);
        rc = sync_http_call(&e->http, "GET", path, NULL, 0, &m, &body, err);
        if (rc == DFT_ERR_NOT_FOUND) {
            rc = DFT_OK; /* not uploaded yet: asked again at the next sync */
        } else if (rc == DFT_OK) {
            rc = dft_vault_sync_chunk_in(e->v, &e->ring, name, body.data, body.len, err);
        }
        dft_buf_release(&body);
    }
    json_decref(names);
    return rc;
}

/*
 * An owner's duty: a reading member who joined with an invite made before the current epoch
 * began, and was sealed no key of it since, gets a grant of the current epoch.
 */
static enum dft_err
owner_grants(struct eng *e, size_t *granted, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    uint32_t cur = e->chain.epoch;
    const struct dft_sync_epoch *ep = ring_find(&e->ring, cur);
    uint64_t epoch_at = 0;
    json_t *ops = json_array();
    size_t i;
    json_t *x;
    *granted = 0;
    if (ep == NULL || !ep->has_secret || ops == NULL) {
        json_decref(ops);
        return DFT_OK;
    }
    /* parse the chain once (each was verified by fetch_chain) */
    json_array_foreach(e->ops, i, x)
    {
        const char *s = json_string_value(json_object_get(x, "op"));
        size_t sl = s != NULL ? strlen(s) : 0, n = 0;
        unsigned char *buf = malloc(sl + 4);
        json_t *op = NULL;
        if (buf != NULL && dft_b64_decode(buf, sl + 4, &n, s, sl) == DFT_OK &&
            member_parse(buf, n, &op, NULL) == DFT_OK) {
            json_object_set(op, "_index", json_object_get(x, "index"));
            const char *a = json_string_value(json_object_get(op, "action"));
            if ((strcmp(a, "genesis") == 0 || strcmp(a, "epoch") == 0) &&
                json_integer_value(json_object_get(op, "epoch")) == (json_int_t)cur) {
                epoch_at = (uint64_t)json_integer_value(json_object_get(x, "index"));
            }
            json_array_append_new(ops, op);
        }
        free(buf);
    }
    for (size_t k = 0; rc == DFT_OK && k < e->chain.n; k++) {
        const struct member *m = &e->chain.members[k];
        char kb[dft_b64_len(32)];
        int has = 0;
        if (m->revoked || !member_role_reads(m->role)) {
            continue;
        }
        dft_b64_encode(kb, m->key, 32);
        json_t *op;
        const char *invite = NULL;
        json_array_foreach(ops, i, op)
        {
            const char *a = json_string_value(json_object_get(op, "action"));
            json_int_t ep_no = json_integer_value(json_object_get(op, "epoch"));
            if ((strcmp(a, "genesis") == 0 || strcmp(a, "epoch") == 0) &&
                ep_no == (json_int_t)cur &&
                json_object_get(json_object_get(op, "sealed"), kb) != NULL) {
                has = 1;
            } else if (strcmp(a, "grant") == 0 && ep_no == (json_int_t)cur &&
                       strcmp(json_string_value(json_object_get(op, "key")), kb) == 0) {
                has = 1;
            } else if (strcmp(a, "join") == 0 &&
                       strcmp(json_string_value(json_object_get(op, "key")), kb) == 0) {
                invite = json_string_value(json_object_get(op, "invite"));
            }
        }
        json_array_foreach(ops, i, op)
        {
            const char *a = json_string_value(json_object_get(op, "action"));
            const char *iv = json_string_value(json_object_get(op, "invite"));
            if (invite != NULL && strcmp(a, "invite") == 0 && iv != NULL &&
                strcmp(iv, invite) == 0 &&
                (uint64_t)json_integer_value(json_object_get(op, "_index")) > epoch_at) {
                has = 1; /* the invite carried the current epoch's keys */
            }
        }
        if (has) {
            continue;
        }
        unsigned char *keys = sodium_malloc(64), box[MEMBER_SEALED_BYTES];
        char bb[dft_b64_len(MEMBER_SEALED_BYTES)];
        if (keys == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(keys, ep->ck, 32);
        memcpy(keys + 32, ep->drop_sk, 32);
        crypto_box_seal(box, keys, 64, m->xkey);
        sodium_free(keys);
        dft_b64_encode(bb, box, sizeof box);
        json_t *g = json_pack("{s:s,s:I,s:s,s:s}", "action", "grant", "epoch", (json_int_t)cur,
                              "key", kb, "sealed", bb);
        rc = post_op(e, g, NULL, err);
        json_decref(g);
        if (rc == DFT_OK) {
            (*granted)++;
            rc = fetch_chain(e, err); /* the next operation extends this one */
        }
    }
    json_decref(ops);
    return rc;
}

static enum dft_err
run(struct eng *e, json_t **out, struct dft_error *err)
{
    uint64_t pushed = 0, pulled = 0;
    struct dft_checkpoint cp;
    struct dft_buf note;
    struct frontier *f = calloc(1, sizeof *f);
    json_t *report = NULL;
    enum dft_err rc = f == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    if (rc == DFT_OK) {
        rc = fetch_chain(e, err);
    }
    const struct member *me = rc == DFT_OK ? member_find(&e->chain, e->pub) : NULL;
    if (rc == DFT_OK && (me == NULL || me->revoked)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "this device is not a member of the collection");
    }
    size_t granted = 0;
    int64_t waiting = -1;
    if (rc == DFT_OK && me->role == MEMBER_OWNER) {
        rc = owner_grants(e, &granted, err);
        me = rc == DFT_OK ? member_find(&e->chain, e->pub) : NULL;
    }
    int reads = me != NULL && member_role_reads(me->role);
    /* a server that forked or rolled back gets nothing pushed: check it first */
    if (rc == DFT_OK && json_object_get(e->state, "checkpoint") != NULL) {
        rc = fetch_checkpoint(e, &cp, &note, err);
        dft_buf_reset(&note);
    }
    if (rc == DFT_OK && member_role_writes(me->role)) {
        rc = push(e, &pushed, err);
    }
    if (rc == DFT_OK) {
        rc = fetch_checkpoint(e, &cp, &note, err);
    }
    if (rc == DFT_OK && reads) {
        rc = frontier_load(f, e->state, err);
        if (rc == DFT_OK) {
            rc = pull(e, &cp, f, &pulled, &report, &waiting, err);
        }
        if (rc == DFT_OK && waiting < 0) {
            rc = fetch_chunks(e, err);
        }
    }
    if (rc == DFT_OK && waiting < 0) {
        rc = save_checkpoint(
            e, &cp, &note, reads ? f : NULL,
            (uint64_t)json_integer_value(json_object_get(e->state, "members_seen")), err);
    }
    if (rc == DFT_OK) {
        char root[DFT_TLOG_HASH_B64];
        tlog_hash_encode(root, cp.root);
        *out = json_pack("{s:I,s:I,s:I,s:s,s:I}", "pushed", (json_int_t)pushed, "pulled",
                         (json_int_t)pulled, "size", (json_int_t)cp.size, "root", root, "held",
                         (json_int_t)json_integer_value(json_object_get(report, "held")));
        if (*out != NULL && waiting >= 0) {
            /* verified, but not merged: the next sync after an owner's grant merges it */
            json_object_set_new(*out, "pulled", json_integer(0));
            json_object_set_new(*out, "waiting_for_epoch", json_integer((json_int_t)waiting));
        }
        if (*out != NULL && granted > 0) {
            json_object_set_new(*out, "granted", json_integer((json_int_t)granted));
        }
    } else if (rc == DFT_ERR_INPUT && me != NULL) {
        /* nothing */
    }
    json_decref(report);
    dft_buf_release(&note);
    free(f);
    return rc;
}

/* ---- public entry points ---- */

static enum dft_err health_vkey(struct sync_http *h, char *vkey, size_t max, struct dft_error *err);

struct copy_ctx {
    struct dft_buf *out;
    uint64_t next, size;
    const json_t *chain;
    int gap;
};

/* Membership entries of the chain up to (not including) index upto, into the copy. */
static int
copy_chain_until(struct copy_ctx *c, uint64_t upto)
{
    size_t i;
    json_t *x;
    while (c->next < upto) {
        const char *s = NULL;
        json_array_foreach(c->chain, i, x)
        {
            if ((uint64_t)json_integer_value(json_object_get(x, "index")) == c->next) {
                s = json_string_value(json_object_get(x, "op"));
            }
        }
        if (s == NULL) {
            c->gap = 1;
            return -1;
        }
        size_t sl = strlen(s), n = 0;
        unsigned char *buf = malloc(sl + 4), head[ENTRY_HEAD];
        if (buf == NULL || dft_b64_decode(buf, sl + 4, &n, s, sl) != DFT_OK) {
            free(buf);
            c->gap = 1;
            return -1;
        }
        head[0] = 2;
        dft_be_put(head + 1, n, 4);
        int bad = dft_buf_add(c->out, head, ENTRY_HEAD) != DFT_OK ||
                  dft_buf_add(c->out, buf, n) != DFT_OK;
        free(buf);
        if (bad) {
            c->gap = 1;
            return -1;
        }
        c->next++;
    }
    return 0;
}

static int
on_pulled(void *ctx, uint64_t index, const unsigned char *body, size_t n)
{
    struct copy_ctx *c = ctx;
    unsigned char head[ENTRY_HEAD];
    if (index >= c->size) {
        return 1;
    }
    if (copy_chain_until(c, index) != 0) {
        return 1;
    }
    head[0] = 1;
    dft_be_put(head + 1, n, 4);
    if (dft_buf_add(c->out, head, ENTRY_HEAD) != DFT_OK || dft_buf_add(c->out, body, n) != DFT_OK) {
        c->gap = 1;
        return 1;
    }
    c->next++;
    return 0;
}

/*
 * Re-seed to_url from this vault's copy (every entry up to the last verified checkpoint, whose
 * root it must rebuild), then make it this device's server. A server that already holds the
 * collection is just adopted: the next sync checks it against the last verified checkpoint.
 */
static enum dft_err
reseed(struct eng *e, const char *to_url, struct dft_error *err)
{
    struct dft_buf body, resp;
    struct sync_http nh;
    struct sync_http_meta m;
    char vkey[DFT_NOTE_VKEY_MAX];
    struct frontier *f = calloc(1, sizeof *f);
    const json_t *cpj = json_object_get(e->state, "checkpoint");
    uint64_t size = (uint64_t)json_integer_value(json_object_get(cpj, "size"));
    const char *rs = json_string_value(json_object_get(cpj, "root"));
    unsigned char root[32], want[32];
    memset(&nh, 0, sizeof nh);
    dft_buf_init(&body, SYNC_PUSH_MAX, 0);
    dft_buf_init(&resp, 1 << 16, 0);
    enum dft_err rc = f == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    if (rc == DFT_OK &&
        (size == 0 || rs == NULL || !json_is_array(json_object_get(e->state, "chain")))) {
        rc = dft_fail(err, DFT_ERR_USAGE,
                      "this device holds no verified copy to re-seed from "
                      "(a reading member must have synced)");
    }
    if (rc == DFT_OK && tlog_hash_decode(want, rs, strlen(rs), err) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "sync state: bad checkpoint");
    }
    struct copy_ctx cc = {&body, 0, size, json_object_get(e->state, "chain"), 0};
    if (rc == DFT_OK && (rc = dft_vault_sync_pulled(e->v, 0, on_pulled, &cc, err)) == DFT_OK &&
        (copy_chain_until(&cc, size) != 0 || cc.gap || cc.next != size)) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE,
                      "this copy cannot re-seed: entry %llu is missing or the log is over 64 MiB",
                      (unsigned long long)cc.next);
    }
    /* the copy must be exactly the log this device verified */
    for (size_t off = 0; rc == DFT_OK && off < body.len;) {
        size_t len = ENTRY_HEAD + (size_t)dft_be_get(body.data + off + 1, 4);
        unsigned char leaf[32];
        crypto_leaf_hash(leaf, body.data + off, len);
        frontier_add(f, leaf);
        off += len;
    }
    if (rc == DFT_OK) {
        frontier_root(f, root);
        if (f->size != size || sodium_memcmp(root, want, 32) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "this copy does not rebuild the verified root");
        }
    }
    if (rc == DFT_OK &&
        (rc = sync_http_init(&nh, to_url, e->pub, sign_cb, &e->signer, err)) == DFT_OK) {
        rc = health_vkey(&nh, vkey, sizeof vkey, err);
    }
    if (rc == DFT_OK) {
        rc = sync_http_raw(&nh, "POST", "/v1/collections?reseed=1", body.data, body.len, NULL, &m,
                           &resp, err);
        if (rc == DFT_OK && m.status != 201 && m.status != 409) {
            rc = dft_fail(err, m.status == 413 ? DFT_ERR_TOO_LARGE : DFT_ERR_IO,
                          "%s refused the re-seed: %ld %.*s", nh.base, m.status,
                          (int)(resp.len < 160 ? resp.len : 160), (const char *)resp.data);
        }
    }
    if (rc == DFT_OK && (rc = server_verifier(e, vkey, err)) == DFT_OK) {
        json_object_set_new(e->state, "server", json_string(nh.base));
        json_object_set_new(e->state, "vkey", json_string(vkey));
        rc = dft_vault_sync_state_put(e->v, e->state, err);
    }
    if (rc == DFT_OK) {
        sync_http_release(&e->http);
        e->http = nh;
        memset(&nh, 0, sizeof nh);
    }
    sync_http_release(&nh);
    dft_buf_release(&body);
    dft_buf_release(&resp);
    free(f);
    return rc;
}

enum dft_err
dft_sync_run(struct dft_vault *v, const char *to_url, json_t **out, struct dft_error *err)
{
    struct eng e;
    *out = NULL;
    enum dft_err rc = eng_open(&e, v, err);
    if (rc == DFT_OK && to_url != NULL) {
        rc = reseed(&e, to_url, err);
    }
    if (rc == DFT_OK) {
        rc = run(&e, out, err);
    }
    if (rc == DFT_OK && to_url != NULL) {
        json_object_set_new(*out, "server", json_string(e.http.base));
    }
    eng_release(&e);
    return rc;
}

static enum dft_err
health_vkey(struct sync_http *h, char *vkey, size_t max, struct dft_error *err)
{
    struct sync_http_meta m;
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 16, 0);
    enum dft_err rc = sync_http_call(h, "GET", "/v1/health", NULL, 0, &m, &resp, err);
    json_t *j = rc == DFT_OK ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(j, "vkey"));
    if (rc == DFT_OK && (s == NULL || strlen(s) >= max)) {
        rc = dft_fail(err, DFT_ERR_IO, "%s is not a defter sync server", h->base);
    }
    if (rc == DFT_OK) {
        snprintf(vkey, max, "%s", s);
    }
    json_decref(j);
    dft_buf_release(&resp);
    return rc;
}

enum dft_err
dft_sync_share(struct dft_vault *v, const char *url, json_t **out, struct dft_error *err)
{
    struct eng e;
    json_t *st = NULL, *sealed = NULL, *res = NULL;
    char vkey[DFT_NOTE_VKEY_MAX], xk[dft_b64_len(32)], dk[dft_b64_len(32)], nk[dft_b64_len(32)];
    unsigned char nonce[32], in[64], h[32];
    struct dft_sync_epoch *ep = sodium_malloc(sizeof *ep);
    struct dft_buf payload, resp;
    struct sync_http_meta m;
    *out = NULL;
    memset(&e, 0, sizeof e);
    dft_buf_init(&payload, MEMBER_JSON_MAX + 1024, 0);
    dft_buf_init(&resp, 1 << 16, 0);
    e.v = v;
    e.signer.v = v;
    enum dft_err rc = ep == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    if (rc == DFT_OK && (rc = dft_vault_sync_state_get(v, &st, NULL)) == DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INPUT, "this vault is already shared (collection %s)",
                      json_string_value(json_object_get(st, "collection")));
        goto out;
    }
    rc = DFT_OK;
    if ((rc = identity(&e, err)) != DFT_OK ||
        (rc = sync_http_init(&e.http, url, e.pub, sign_cb, &e.signer, err)) != DFT_OK ||
        (rc = health_vkey(&e.http, vkey, sizeof vkey, err)) != DFT_OK) {
        goto out;
    }
    randombytes_buf(nonce, sizeof nonce);
    memcpy(in, e.pub, 32);
    memcpy(in + 32, nonce, 32);
    crypto_sha256_once(h, in, sizeof in);
    dft_hex_encode(e.cid, h, 16);
    member_chain_init(&e.chain, e.cid);
    if ((rc = server_verifier(&e, vkey, err)) != DFT_OK ||
        (rc = new_epoch(&e, 0, e.xpub, e.pub_b64, ep, &sealed, err)) != DFT_OK) {
        goto out;
    }
    dft_b64_encode(xk, e.xpub, 32);
    dft_b64_encode(dk, ep->drop_pk, 32);
    dft_b64_encode(nk, nonce, 32);
    json_t *op =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "action", "genesis", "by", e.pub_b64, "key",
                  e.pub_b64, "xkey", xk, "epoch", 0, "drop", dk, "nonce", nk, "sealed", sealed);
    sealed = NULL;
    rc = member_seal_op(&e.chain, op, sign_cb, &e.signer, &payload, err);
    json_decref(op);
    if (rc != DFT_OK) {
        goto out;
    }
    /* keys and state first: a crash after the server took the genesis loses nothing */
    e.ring.count = 1;
    e.ring.epochs = ep;
    ep = NULL;
    st = json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "server", e.http.base, "vkey", vkey, "collection",
                   e.cid);
    if ((rc = dft_vault_sync_keys_put(v, &e.ring, err)) != DFT_OK ||
        (rc = dft_vault_sync_state_put(v, st, err)) != DFT_OK ||
        (rc = sync_http_call(&e.http, "POST", "/v1/collections", payload.data, payload.len, &m,
                             &resp, err)) != DFT_OK) {
        goto out;
    }
    json_decref(st);
    st = NULL;
    e.state = NULL;
    if ((rc = dft_vault_sync_state_get(v, &e.state, err)) != DFT_OK) {
        goto out;
    }
    rc = run(&e, &res, err);
    if (rc == DFT_OK) {
        json_object_set_new(res, "collection", json_string(e.cid));
        json_object_set_new(res, "server", json_string(e.http.base));
        json_object_set_new(res, "vkey", json_string(vkey));
        *out = res;
    }
out:
    json_decref(st);
    json_decref(sealed);
    sodium_free(ep);
    dft_buf_release(&payload);
    dft_buf_release(&resp);
    eng_release(&e);
    return rc;
}

enum dft_err
dft_sync_members(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    struct eng e;
    *out = NULL;
    enum dft_err rc = eng_open(&e, v, err);
    if (rc == DFT_OK) {
        rc = fetch_chain(&e, err);
    }
    if (rc == DFT_OK) {
        json_t *list = member_list_json(&e.chain);
        size_t i;
        json_t *x;
        json_array_foreach(list, i, x)
        {
            json_object_set_new(
                x, "you",
                json_boolean(strcmp(json_string_value(json_object_get(x, "key")), e.pub_b64) == 0));
        }
        *out = json_pack("{s:s,s:I,s:o}", "collection", e.cid, "epoch", (json_int_t)e.chain.epoch,
                         "members", list);
    }
    eng_release(&e);
    return rc;
}

static enum dft_err
require_owner(struct eng *e, struct dft_error *err)
{
    const struct member *me = member_find(&e->chain, e->pub);
    if (me == NULL || me->revoked || me->role != MEMBER_OWNER) {
        return dft_fail(err, DFT_ERR_INPUT, "only an owner of the collection may do this");
    }
    return DFT_OK;
}

enum dft_err
dft_sync_invite(struct dft_vault *v, const char *role, json_t **out, struct dft_error *err)
{
    struct eng e;
    unsigned char ipk[32], *isk = sodium_malloc(64);
    char ib[dft_b64_len(32)];
    enum member_role r = member_role_parse(role);
    *out = NULL;
    if (isk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (r == MEMBER_NONE) {
        sodium_free(isk);
        return dft_fail(err, DFT_ERR_USAGE, "role must be owner, editor, viewer or field");
    }
    enum dft_err rc = eng_open(&e, v, err);
    if (rc == DFT_OK && (rc = fetch_chain(&e, err)) == DFT_OK) {
        rc = require_owner(&e, err);
    }
    int64_t expires = now_s() + SYNC_INVITE_TTL;
    crypto_sign_keypair(ipk, isk);
    dft_b64_encode(ib, ipk, 32);
    if (rc == DFT_OK) {
        json_t *op = json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", ib, "role", role,
                               "expires", (json_int_t)expires);
        rc = post_op(&e, op, NULL, err);
        json_decref(op);
    }
    if (rc == DFT_OK) {
        /* the invite: where, whose, and the keys a new member needs to read at once */
        json_t *keys = json_array();
        for (size_t i = 0; i < e.ring.count; i++) {
            const struct dft_sync_epoch *ep = &e.ring.epochs[i];
            char a[dft_b64_len(32)], b[dft_b64_len(32)], c[dft_b64_len(32)];
            dft_b64_encode(c, ep->drop_pk, 32);
            if (r == MEMBER_FIELD) {
                if (ep->epoch == e.chain.epoch) {
                    json_array_append_new(
                        keys, json_pack("{s:I,s:s}", "epoch", (json_int_t)ep->epoch, "drop_pk", c));
                }
                continue;
            }
            if (!ep->has_secret) {
                continue;
            }
            dft_b64_encode(a, ep->ck, 32);
            dft_b64_encode(b, ep->drop_sk, 32);
            json_array_append_new(keys,
                                  json_pack("{s:I,s:s,s:s,s:s}", "epoch", (json_int_t)ep->epoch,
                                            "ck", a, "drop_sk", b, "drop_pk", c));
            sodium_memzero(a, sizeof a);
            sodium_memzero(b, sizeof b);
        }
        char sk[dft_b64_len(32)];
        dft_b64_encode(sk, isk, 32); /* the seed */
        json_t *inv = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:o}", "v", 1, "server", e.http.base,
                                "vkey", json_string_value(json_object_get(e.state, "vkey")),
                                "collection", e.cid, "role", role, "invite_sk", sk, "keys", keys);
        sodium_memzero(sk, sizeof sk);
        char *js = inv != NULL ? json_dumps(inv, JSON_COMPACT) : NULL;
        json_decref(inv);
        size_t jl = js != NULL ? strlen(js) : 0;
        size_t bl = sodium_base64_ENCODED_LEN(jl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        char *str = malloc(sizeof SYNC_INVITE_PREFIX + bl);
        if (js == NULL || str == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        } else {
            memcpy(str, SYNC_INVITE_PREFIX, sizeof SYNC_INVITE_PREFIX - 1);
            sodium_bin2base64(str + sizeof SYNC_INVITE_PREFIX - 1, bl, (const unsigned char *)js,
                              jl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
            *out = json_pack("{s:s,s:s,s:I}", "invite", str, "role", role, "expires",
                             (json_int_t)expires);
            sodium_memzero(str, strlen(str));
        }
        if (js != NULL) {
            sodium_memzero(js, jl);
        }
        sync_json_free(js);
        free(str);
    }
    sodium_free(isk);
    eng_release(&e);
    return rc;
}

enum dft_err
dft_sync_invite_check(const char *invite, struct dft_error *err)
{
    size_t pl = sizeof SYNC_INVITE_PREFIX - 1, n = 0, il = strlen(invite);
    unsigned char *raw = NULL, *isk = sodium_malloc(64), ipk[32], seed[32];
    json_t *inv = NULL;
    struct eng e;
    memset(&e, 0, sizeof e);
    enum dft_err rc = isk == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    if (rc == DFT_OK &&
        (il <= pl || il > 1u << 20 || strncmp(invite, SYNC_INVITE_PREFIX, pl) != 0)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "not a defter invite (it starts with '%s')",
                      SYNC_INVITE_PREFIX);
    }
    if (rc == DFT_OK) {
        raw = sodium_malloc(il);
        if (raw == NULL ||
            sodium_base642bin(raw, il, invite + pl, il - pl, NULL, &n, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            (inv = json_loadb((const char *)raw, n, 0, NULL)) == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "invite is damaged");
        }
    }
    const char *url = json_string_value(json_object_get(inv, "server"));
    const char *vkey = json_string_value(json_object_get(inv, "vkey"));
    const char *cid = json_string_value(json_object_get(inv, "collection"));
    if (rc == DFT_OK && (url == NULL || vkey == NULL || cid == NULL || strlen(cid) != 32 ||
                         key_field(inv, "invite_sk", seed) != 0)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "invite is damaged");
    }
    if (rc == DFT_OK) {
        crypto_sign_seed_keypair(ipk, isk, seed);
        snprintf(e.cid, sizeof e.cid, "%s", cid);
        member_chain_init(&e.chain, e.cid);
        e.signer.sk = isk;
        if ((rc = server_verifier(&e, vkey, err)) == DFT_OK &&
            (rc = sync_http_init(&e.http, url, ipk, sign_cb, &e.signer, err)) == DFT_OK) {
            rc = fetch_chain(&e, err);
            if (rc == DFT_ERR_INPUT) {
                rc = dft_fail(err, DFT_ERR_INPUT, "invite was used, has expired or is unknown");
            }
        }
    }
    sodium_memzero(seed, sizeof seed);
    json_decref(inv);
    sodium_free(isk);
    sodium_free(raw);
    eng_release(&e);
    return rc;
}

enum dft_err
dft_sync_join(struct dft_vault *v, const char *invite, json_t **out, struct dft_error *err)
{
    struct eng e;
    size_t pl = sizeof SYNC_INVITE_PREFIX - 1, n = 0;
    json_t *inv = NULL, *st = NULL;
    unsigned char *isk = sodium_malloc(64), ipk[32], seed[32];
    unsigned char *raw = NULL;
    *out = NULL;
    memset(&e, 0, sizeof e);
    e.v = v;
    e.signer.v = v;
    enum dft_err rc = isk == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    size_t il = strlen(invite);
    if (rc == DFT_OK &&
        (il <= pl || il > 1u << 20 || strncmp(invite, SYNC_INVITE_PREFIX, pl) != 0)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "not a defter invite (it starts with '%s')",
                      SYNC_INVITE_PREFIX);
    }
    if (rc == DFT_OK) {
        raw = sodium_malloc(il);
        if (raw == NULL ||
            sodium_base642bin(raw, il, invite + pl, il - pl, NULL, &n, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            (inv = json_loadb((const char *)raw, n, 0, NULL)) == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "invite is damaged");
        }
    }
    const char *url = json_string_value(json_object_get(inv, "server"));
    const char *vkey = json_string_value(json_object_get(inv, "vkey"));
    const char *cid = json_string_value(json_object_get(inv, "collection"));
    const char *role = json_string_value(json_object_get(inv, "role"));
    if (rc == DFT_OK &&
        (url == NULL || vkey == NULL || cid == NULL || strlen(cid) != 32 ||
         member_role_parse(role) == MEMBER_NONE || key_field(inv, "invite_sk", seed) != 0)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "invite is damaged");
    }
    if (rc == DFT_OK && dft_vault_sync_state_get(v, &st, NULL) == DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INPUT, "this vault is already a member of a collection");
    }
    if (rc != DFT_OK) {
        goto out;
    }
    crypto_sign_seed_keypair(ipk, isk, seed);
    snprintf(e.cid, sizeof e.cid, "%s", cid);
    member_chain_init(&e.chain, e.cid);
    if ((rc = identity(&e, err)) != DFT_OK || (rc = server_verifier(&e, vkey, err)) != DFT_OK) {
        goto out;
    }
    /* keys from the invite */
    size_t i;
    json_t *x;
    int changed = 0;
    json_array_foreach(json_object_get(inv, "keys"), i, x)
    {
        struct dft_sync_epoch ep;
        memset(&ep, 0, sizeof ep);
        ep.epoch = (uint32_t)json_integer_value(json_object_get(x, "epoch"));
        if (key_field(x, "drop_pk", ep.drop_pk) != 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "invite is damaged");
            break;
        }
        if (json_object_get(x, "ck") != NULL) {
            ep.has_secret =
                key_field(x, "ck", ep.ck) == 0 && key_field(x, "drop_sk", ep.drop_sk) == 0;
        }
        rc = ring_put(&e.ring, &ep, &changed, err);
        sodium_memzero(&ep, sizeof ep);
        if (rc != DFT_OK) {
            break;
        }
    }
    if (rc != DFT_OK) {
        goto out;
    }
    /* read the chain as the invite key, then post the join signed by it */
    e.signer.sk = isk;
    if ((rc = sync_http_init(&e.http, url, ipk, sign_cb, &e.signer, err)) != DFT_OK ||
        (rc = fetch_chain(&e, err)) != DFT_OK) {
        goto out;
    }
    char ib[dft_b64_len(32)], xk[dft_b64_len(32)];
    dft_b64_encode(ib, ipk, 32);
    dft_b64_encode(xk, e.xpub, 32);
    json_t *op = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "action", "join", "by", ib, "key",
                           e.pub_b64, "xkey", xk, "role", role, "invite", ib);
    struct dft_buf payload;
    dft_buf_init(&payload, MEMBER_JSON_MAX + 1024, 0);
    rc = member_seal_op(&e.chain, op, sign_cb, &e.signer, &payload, err);
    json_decref(op);
    /* the join is posted by the new device's own key */
    e.signer.sk = NULL;
    memcpy(e.http.pub, e.pub, 32);
    st = json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "server", e.http.base, "vkey", vkey, "collection",
                   e.cid);
    if (rc == DFT_OK && (rc = dft_vault_sync_keys_put(v, &e.ring, err)) == DFT_OK &&
        (rc = dft_vault_sync_state_put(v, st, err)) == DFT_OK) {
        char path[128];
        struct sync_http_meta m;
        struct dft_buf resp;
        dft_buf_init(&resp, 1 << 16, 0);
        path_of(path, sizeof path, e.cid, "/members");
        rc = sync_http_call(&e.http, "POST", path, payload.data, payload.len, &m, &resp, err);
        dft_buf_release(&resp);
    }
    dft_buf_release(&payload);
    if (rc == DFT_OK && (rc = dft_vault_sync_state_get(v, &e.state, err)) == DFT_OK) {
        rc = run(&e, out, err);
    }
    if (rc == DFT_OK) {
        json_object_set_new(*out, "collection", json_string(e.cid));
        json_object_set_new(*out, "role", json_string(role));
    }
out:
    sodium_memzero(seed, sizeof seed);
    json_decref(inv);
    json_decref(st);
    sodium_free(isk);
    sodium_free(raw);
    eng_release(&e);
    return rc;
}

enum dft_err
dft_sync_revoke(struct dft_vault *v, const char *key, int64_t since, json_t **out,
                struct dft_error *err)
{
    struct eng e;
    unsigned char k[32];
    size_t n = 0;
    *out = NULL;
    if (strlen(key) != 44 || dft_b64_decode(k, 32, &n, key, 44) != DFT_OK || n != 32) {
        return dft_fail(err, DFT_ERR_USAGE, "KEY is a member's base64 key (defter member list)");
    }
    enum dft_err rc = eng_open(&e, v, err);
    if (rc == DFT_OK && (rc = fetch_chain(&e, err)) == DFT_OK) {
        rc = require_owner(&e, err);
    }
    const struct member *m = rc == DFT_OK ? member_find(&e.chain, k) : NULL;
    if (rc == DFT_OK && (m == NULL || m->revoked)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "'%s' is not a current member", key);
    }
    json_t *op = NULL;
    uint64_t since_index = 0;
    if (rc == DFT_OK) {
        op = json_pack("{s:s,s:s}", "action", "revoke", "key", key);
        if (since >= 0) {
            /* the newest checkpoint verified at or before since: later entries are held */
            size_t i;
            json_t *x;
            json_array_foreach(json_object_get(e.state, "history"), i, x)
            {
                if (json_integer_value(json_object_get(x, "t")) <= since) {
                    since_index = (uint64_t)json_integer_value(json_object_get(x, "size"));
                }
            }
            json_object_set_new(op, "since_index", json_integer((json_int_t)since_index));
        }
        rc = post_op(&e, op, NULL, err);
    }
    json_decref(op);
    /* a new epoch sealed to the remaining readers: the revoked key opens nothing new */
    struct dft_sync_epoch *ep = sodium_malloc(sizeof *ep);
    json_t *sealed = NULL;
    if (rc == DFT_OK && ep == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (rc == DFT_OK && (rc = fetch_chain(&e, err)) == DFT_OK &&
        (rc = new_epoch(&e, e.chain.epoch + 1, NULL, NULL, ep, &sealed, err)) == DFT_OK) {
        char dk[dft_b64_len(32)];
        dft_b64_encode(dk, ep->drop_pk, 32);
        op = json_pack("{s:s,s:I,s:s,s:o}", "action", "epoch", "epoch", (json_int_t)ep->epoch,
                       "drop", dk, "sealed", sealed);
        int changed = 0;
        /* keep the keys before the server has them, so a crash cannot lose the epoch */
        if ((rc = ring_put(&e.ring, ep, &changed, err)) == DFT_OK &&
            (rc = dft_vault_sync_keys_put(v, &e.ring, err)) == DFT_OK) {
            rc = post_op(&e, op, NULL, err);
        }
        json_decref(op);
    }
    if (rc == DFT_OK) {
        *out = json_pack("{s:s,s:I,s:I}", "revoked", key, "epoch", (json_int_t)ep->epoch,
                         "since_index", (json_int_t)since_index);
    }
    sodium_free(ep);
    eng_release(&e);
    return rc;
}
