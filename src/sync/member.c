/*
 * member.c - replay and build the membership chain of a sync collection (member.h).
 *
 * Every rule a server or client relies on for "who may write, who may read" is checked here
 * and nowhere else, so server and client cannot disagree. It must never accept an operation
 * whose signature, seq, prev or signer does not check, and never change the chain on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "sync/member.h"
#include "sync/sync_internal.h"

static const char *const role_names[] = {"none", "owner", "editor", "viewer", "field"};

const char *
member_role_name(enum member_role r)
{
    return (unsigned)r < 5 ? role_names[r] : "none";
}

enum member_role
member_role_parse(const char *s)
{
    for (int i = 1; s != NULL && i < 5; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            return (enum member_role)i;
        }
    }
    return MEMBER_NONE;
}

int
member_role_reads(enum member_role r)
{
    return r == MEMBER_OWNER || r == MEMBER_EDITOR || r == MEMBER_VIEWER;
}

int
member_role_writes(enum member_role r)
{
    return r == MEMBER_OWNER || r == MEMBER_EDITOR || r == MEMBER_FIELD;
}

void
member_chain_init(struct member_chain *c, const char *cid)
{
    memset(c, 0, sizeof *c);
    snprintf(c->cid, sizeof c->cid, "%s", cid);
}

void
member_chain_release(struct member_chain *c)
{
    free(c->members);
    free(c->invites);
    memset(c, 0, sizeof *c);
}

const struct member *
member_find(const struct member_chain *c, const unsigned char key[32])
{
    for (size_t i = 0; i < c->n; i++) {
        if (memcmp(c->members[i].key, key, 32) == 0) {
            return &c->members[i];
        }
    }
    return NULL;
}

int
member_author_ok(const struct member_chain *c, const unsigned char key[32], uint64_t index)
{
    const struct member *m = member_find(c, key);
    if (m == NULL || !member_role_writes(m->role) || m->joined > index) {
        return 1;
    }
    if (m->revoked && index > m->revoked_at) {
        return 1;
    }
    if (m->revoked && m->has_since && index >= m->since_index) {
        return 2;
    }
    return 0;
}

enum dft_err
member_parse(const unsigned char *payload, size_t n, json_t **op, struct dft_error *err)
{
    json_error_t jerr;
    unsigned char by[32];
    size_t bl = 0;
    *op = NULL;
    if (n < 4 + 2 + 64) {
        return dft_fail(err, DFT_ERR_INPUT, "membership operation is truncated");
    }
    uint64_t jl = dft_be_get(payload, 4);
    if (jl > MEMBER_JSON_MAX || jl + 4 + 64 != n) {
        return dft_fail(err, DFT_ERR_INPUT, "membership operation has a bad length");
    }
    const char *js = (const char *)payload + 4;
    if (!dft_utf8_valid(js, (size_t)jl) || memchr(js, '\0', (size_t)jl) != NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "membership operation is not UTF-8 JSON");
    }
    json_t *o = json_loadb(js, (size_t)jl, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return dft_fail(err, DFT_ERR_INPUT, "membership operation is not a JSON object");
    }
    const char *bys = json_string_value(json_object_get(o, "by"));
    if (bys == NULL || strlen(bys) != 44 || dft_b64_decode(by, sizeof by, &bl, bys, 44) != DFT_OK ||
        bl != 32) {
        json_decref(o);
        return dft_fail(err, DFT_ERR_INPUT, "membership operation names no signer");
    }
    size_t cl = sizeof MEMBER_CONTEXT - 1;
    unsigned char *msg = malloc(cl + (size_t)jl);
    if (msg == NULL) {
        json_decref(o);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(msg, MEMBER_CONTEXT, cl);
    memcpy(msg + cl, js, (size_t)jl);
    int bad = crypto_sign_verify_detached(payload + 4 + jl, msg, cl + (size_t)jl, by);
    free(msg);
    if (bad != 0) {
        json_decref(o);
        return dft_fail(err, DFT_ERR_INTEGRITY, "membership operation: bad signature");
    }
    *op = o;
    return DFT_OK;
}

static int
get_key(const json_t *o, const char *name, unsigned char out[32])
{
    size_t n = 0;
    const char *s = json_string_value(json_object_get(o, name));
    return s != NULL && strlen(s) == 44 && dft_b64_decode(out, 32, &n, s, 44) == DFT_OK && n == 32
               ? 0
               : -1;
}

static int
get_u64(const json_t *o, const char *name, uint64_t *out)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* sealed: {b64 member key: b64 sealed box} for exactly the keys in want (n of them). */
static int
check_sealed(const json_t *sealed, const struct member_chain *c, const unsigned char *extra)
{
    if (!json_is_object(sealed)) {
        return -1;
    }
    size_t readers = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct member *m = &c->members[i];
        if (m->revoked || !member_role_reads(m->role)) {
            continue;
        }
        readers++;
        char k[dft_b64_len(32)];
        dft_b64_encode(k, m->key, 32);
        if (json_object_get(sealed, k) == NULL) {
            return -1;
        }
    }
    if (extra != NULL) {
        char k[dft_b64_len(32)];
        dft_b64_encode(k, extra, 32);
        if (json_object_get(sealed, k) == NULL) {
            return -1;
        }
        readers++;
    }
    if (json_object_size(sealed) != readers) {
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)sealed, k, v)
    {
        unsigned char box[MEMBER_SEALED_BYTES + 3];
        size_t bn = 0;
        const char *s = json_string_value(v);
        if (s == NULL || dft_b64_decode(box, sizeof box, &bn, s, strlen(s)) != DFT_OK ||
            bn != MEMBER_SEALED_BYTES) {
            return -1;
        }
    }
    return 0;
}

static const struct member *
live_owner(const struct member_chain *c, const unsigned char key[32])
{
    const struct member *m = member_find(c, key);
    return m != NULL && !m->revoked && m->role == MEMBER_OWNER ? m : NULL;
}

static struct member_invite *
find_invite(const struct member_chain *c, const unsigned char pub[32])
{
    for (size_t i = 0; i < c->ni; i++) {
        if (memcmp(c->invites[i].pub, pub, 32) == 0) {
            return &c->invites[i];
        }
    }
    return NULL;
}

static enum dft_err
grow(struct member_chain *c, int invites, struct dft_error *err)
{
    size_t *n = invites ? &c->ni : &c->n, *cap = invites ? &c->icap : &c->cap;
    if (*n < *cap) {
        return DFT_OK;
    }
    if (*n >= MEMBER_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many members or invites");
    }
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = invites ? realloc(c->invites, nc * sizeof *c->invites)
                      : realloc(c->members, nc * sizeof *c->members);
    if (p == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (invites) {
        c->invites = p;
    } else {
        c->members = p;
    }
    *cap = nc;
    return DFT_OK;
}

#define REFUSE(...) dft_fail(err, DFT_ERR_INTEGRITY, __VA_ARGS__)

static enum dft_err
apply_op(struct member_chain *c, const json_t *op, uint64_t index, int64_t now,
         struct dft_error *err)
{
    unsigned char by[32], key[32], xkey[32];
    uint64_t v = 0, seq = 0;
    const char *action = json_string_value(json_object_get(op, "action"));
    const char *coll = json_string_value(json_object_get(op, "collection"));
    const char *prev = json_string_value(json_object_get(op, "prev"));
    char last_hex[65];
    enum dft_err rc = DFT_OK;
    if (get_u64(op, "v", &v) != 0 || v != 1 || action == NULL || coll == NULL || prev == NULL ||
        get_u64(op, "seq", &seq) != 0 || get_key(op, "by", by) != 0) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "membership operation lacks v, collection, seq, "
                        "prev, action or by");
    }
    if (strcmp(coll, c->cid) != 0) {
        return REFUSE("membership operation belongs to another collection");
    }
    if (seq != c->seq) {
        return REFUSE("membership operation out of sequence (%llu, want %llu)",
                      (unsigned long long)seq, (unsigned long long)c->seq);
    }
    if (c->seq == 0) {
        memset(last_hex, '0', 64);
        last_hex[64] = '\0';
    } else {
        dft_hex_encode(last_hex, c->last, 32);
    }
    if (strcmp(prev, last_hex) != 0) {
        return REFUSE("membership operation does not follow the previous one");
    }
    if ((c->seq == 0) != (strcmp(action, "genesis") == 0)) {
        return REFUSE("the chain starts with exactly one genesis");
    }
    if (strcmp(action, "genesis") == 0) {
        uint64_t epoch = 0;
        unsigned char drop[32], nonce[32];
        unsigned char h[32];
        char hex[65];
        if (get_key(op, "key", key) != 0 || get_key(op, "xkey", xkey) != 0 ||
            get_key(op, "drop", drop) != 0 || get_key(op, "nonce", nonce) != 0 ||
            get_u64(op, "epoch", &epoch) != 0 || epoch != 0 || memcmp(key, by, 32) != 0) {
            return REFUSE("malformed genesis");
        }
        unsigned char in[64];
        memcpy(in, key, 32);
        memcpy(in + 32, nonce, 32);
        crypto_sha256_once(h, in, sizeof in);
        dft_hex_encode(hex, h, 16);
        if (strcmp(hex, c->cid) != 0) {
            return REFUSE("collection id is not derived from the genesis");
        }
        if ((rc = grow(c, 0, err)) != DFT_OK) {
            return rc;
        }
        struct member *m = &c->members[c->n];
        memset(m, 0, sizeof *m);
        memcpy(m->key, key, 32);
        memcpy(m->xkey, xkey, 32);
        m->role = MEMBER_OWNER;
        m->joined = index;
        c->n++;
        if (check_sealed(json_object_get(op, "sealed"), c, NULL) != 0) {
            c->n--;
            return REFUSE("genesis must seal the first epoch to the owner");
        }
        memcpy(c->drop_pk, drop, 32);
        c->epoch = 0;
        return DFT_OK;
    }
    if (strcmp(action, "join") == 0) {
        struct member_invite *inv = find_invite(c, by);
        unsigned char ikey[32];
        const char *role = json_string_value(json_object_get(op, "role"));
        if (inv == NULL || get_key(op, "invite", ikey) != 0 || memcmp(ikey, by, 32) != 0) {
            return REFUSE("join is not signed by an invite of this collection");
        }
        if (inv->used) {
            return REFUSE("invite was already used");
        }
        if (now != 0 && now > inv->expires) {
            return REFUSE("invite has expired");
        }
        if (get_key(op, "key", key) != 0 || get_key(op, "xkey", xkey) != 0 || role == NULL ||
            member_role_parse(role) != inv->role) {
            return REFUSE("malformed join");
        }
        if (member_find(c, key) != NULL) {
            return REFUSE("key is already a member");
        }
        if ((rc = grow(c, 0, err)) != DFT_OK) {
            return rc;
        }
        struct member *m = &c->members[c->n++];
        memset(m, 0, sizeof *m);
        memcpy(m->key, key, 32);
        memcpy(m->xkey, xkey, 32);
        m->role = inv->role;
        m->joined = index;
        inv->used = 1;
        return DFT_OK;
    }
    if (live_owner(c, by) == NULL) {
        return REFUSE("membership operation is not signed by an owner");
    }
    if (strcmp(action, "invite") == 0) {
        unsigned char pub[32];
        uint64_t expires = 0;
        enum member_role role = member_role_parse(json_string_value(json_object_get(op, "role")));
        if (get_key(op, "invite", pub) != 0 || role == MEMBER_NONE ||
            get_u64(op, "expires", &expires) != 0 || expires > (uint64_t)INT64_MAX) {
            return REFUSE("malformed invite");
        }
        if (find_invite(c, pub) != NULL || member_find(c, pub) != NULL) {
            return REFUSE("invite key was used before");
        }
        if ((rc = grow(c, 1, err)) != DFT_OK) {
            return rc;
        }
        struct member_invite *inv = &c->invites[c->ni++];
        memcpy(inv->pub, pub, 32);
        inv->role = role;
        inv->expires = (int64_t)expires;
        inv->used = 0;
        return DFT_OK;
    }
    if (strcmp(action, "epoch") == 0) {
        uint64_t epoch = 0;
        unsigned char drop[32];
        if (get_u64(op, "epoch", &epoch) != 0 || epoch != (uint64_t)c->epoch + 1 ||
            get_key(op, "drop", drop) != 0) {
            return REFUSE("epoch must be the next one and carry a drop key");
        }
        if (check_sealed(json_object_get(op, "sealed"), c, NULL) != 0) {
            return REFUSE("epoch must be sealed to exactly the reading members");
        }
        c->epoch = (uint32_t)epoch;
        memcpy(c->drop_pk, drop, 32);
        return DFT_OK;
    }
    if (strcmp(action, "grant") == 0) {
        uint64_t epoch = 0;
        const struct member *m = NULL;
        json_t *sealed = json_object_get(op, "sealed");
        const char *s = json_string_value(sealed);
        unsigned char box[MEMBER_SEALED_BYTES + 3];
        size_t bn = 0;
        if (get_u64(op, "epoch", &epoch) != 0 || epoch > c->epoch || get_key(op, "key", key) != 0 ||
            (m = member_find(c, key)) == NULL || m->revoked || !member_role_reads(m->role) ||
            s == NULL || dft_b64_decode(box, sizeof box, &bn, s, strlen(s)) != DFT_OK ||
            bn != MEMBER_SEALED_BYTES) {
            return REFUSE("grant must seal a past or current epoch to a reading member");
        }
        return DFT_OK;
    }
    if (strcmp(action, "revoke") == 0) {
        uint64_t since = 0;
        json_t *js = json_object_get(op, "since_index");
        if (get_key(op, "key", key) != 0) {
            return REFUSE("malformed revoke");
        }
        struct member *m = (struct member *)(uintptr_t)member_find(c, key);
        if (m == NULL || m->revoked) {
            return REFUSE("revoke names no current member");
        }
        if (memcmp(key, by, 32) == 0) {
            return REFUSE("an owner cannot revoke its own key");
        }
        if (js != NULL && (get_u64(op, "since_index", &since) != 0 || since > index)) {
            return REFUSE("revoke: since_index is after the revocation");
        }
        m->revoked = 1;
        m->revoked_at = index;
        m->has_since = js != NULL;
        m->since_index = since;
        return DFT_OK;
    }
    return REFUSE("unknown membership action '%.32s'", action);
}

enum dft_err
member_apply(struct member_chain *c, const unsigned char *payload, size_t n, uint64_t index,
             int64_t now, json_t **op, struct dft_error *err)
{
    json_t *o = NULL;
    if (op != NULL) {
        *op = NULL;
    }
    enum dft_err rc = member_parse(payload, n, &o, err);
    if (rc != DFT_OK) {
        return rc;
    }
    /* apply_op changes the chain only on its success paths (grow only adds capacity) */
    if ((rc = apply_op(c, o, index, now, err)) != DFT_OK) {
        json_decref(o);
        return rc;
    }
    crypto_sha256_once(c->last, payload, n);
    c->seq++;
    if (op != NULL) {
        *op = o;
    } else {
        json_decref(o);
    }
    return DFT_OK;
}

enum dft_err
member_seal_op(const struct member_chain *c, json_t *op, member_sign_fn sign, void *ctx,
               struct dft_buf *out, struct dft_error *err)
{
    char prev[65];
    unsigned char sig[64], len[4];
    enum dft_err rc = DFT_OK;
    if (json_object_get(op, "by") == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "membership operation names no signer");
    }
    if (c->seq == 0) {
        memset(prev, '0', 64);
        prev[64] = '\0';
    } else {
        dft_hex_encode(prev, c->last, 32);
    }
    if (json_object_set_new(op, "v", json_integer(1)) != 0 ||
        json_object_set_new(op, "collection", json_string(c->cid)) != 0 ||
        json_object_set_new(op, "seq", json_integer((json_int_t)c->seq)) != 0 ||
        json_object_set_new(op, "prev", json_string(prev)) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    char *js = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS);
    if (js == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t jl = strlen(js);
    struct dft_buf msg;
    dft_buf_init(&msg, MEMBER_JSON_MAX + 64, 0);
    if (jl > MEMBER_JSON_MAX) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE, "membership operation too large");
    } else if (dft_buf_adds(&msg, MEMBER_CONTEXT) != DFT_OK ||
               dft_buf_add(&msg, js, jl) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else if ((rc = sign(ctx, msg.data, msg.len, sig, err)) == DFT_OK) {
        dft_be_put(len, jl, 4);
        if (dft_buf_add(out, len, 4) != DFT_OK || dft_buf_add(out, js, jl) != DFT_OK ||
            dft_buf_add(out, sig, 64) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "membership operation too large");
        }
    }
    dft_buf_release(&msg);
    sync_json_free(js);
    return rc;
}

json_t *
member_list_json(const struct member_chain *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < c->n; i++) {
        const struct member *m = &c->members[i];
        char k[dft_b64_len(32)];
        dft_b64_encode(k, m->key, 32);
        json_t *o = json_pack("{s:s,s:s,s:I,s:b}", "key", k, "role", member_role_name(m->role),
                              "joined", (json_int_t)m->joined, "revoked", m->revoked);
        if (o != NULL && m->revoked) {
            json_object_set_new(o, "revoked_at", json_integer((json_int_t)m->revoked_at));
        }
        json_array_append_new(a, o);
    }
    return a;
}
