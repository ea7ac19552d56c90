/*
 * server.c - `defter serve` (server.h): collections in memory (membership chain, Merkle tree
 * of leaf hashes, latest checkpoint), group-committed appends through the storage interface,
 * and the HTTP front (libmicrohttpd, one thread per connection so a push can wait for its
 * group's commit and a pull for news).
 *
 * Order of checks on each request, before any body is read: route (404), address bucket (429),
 * signature over the rebuilt base (401), created within HTTPSIG_SKEW (401), device bucket
 * (429), nonce not seen (401), key a live member (401), role (403), declared length (413).
 * After the body: its Content-Digest (401). Nothing is acknowledged before storage returned
 * from a durable append. It must never log a body, a key's name or a chunk name beyond ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/file.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "defter/net.h"
#include "defter/ratelimit.h"
#include "sync/httpsig.h"
#include "sync/member.h"
#include "sync/sync_internal.h"
#include "sync/server.h"
#include "sync/storage.h"

#define HEADER_MEMORY (64u * 1024u)
#define ENTRY_HEAD    5 /* u8 kind || u32 length */

/* ---- collections ---- */

struct pending {
    const unsigned char *const *bodies;
    const size_t *lens;
    const unsigned char (*leaves)[32];
    size_t count;
    uint64_t first;
    enum dft_err rc;
    int done;
    struct pending *next;
};

#define TAIL_ENTRIES 65536
#define TAIL_BYTES   (32u * 1024u * 1024u)

struct tail_ent {
    unsigned char *data;
    size_t n;
};

struct memop {
    uint64_t index;
    unsigned char *payload;
    size_t n;
};

struct coll {
    char cid[SYNC_CID_MAX + 1];
    struct member_chain chain;
    sqlite3 *tree; /* in-memory node store of the Merkle tree */
    struct dft_tlog_writer *tw;
    struct dft_tlog_reader *tr;
    uint64_t size;
    uint64_t cp_size; /* size of the cached checkpoint (cp_note.len 0: none) */
    struct dft_buf cp_note;
    struct memop *ops; /* membership operations, for GET members */
    size_t nops, opcap;
    struct pending *queue, *tail;
    int committing;
    pthread_cond_t cond; /* commit done, news, revocations */
    /* the newest entries in memory, so pulls of news do not wait for the store */
    struct tail_ent *tail_ring; /* TAIL_ENTRIES slots */
    size_t tail_head, tail_count, tail_bytes;
    uint64_t tail_first; /* index of the oldest cached entry; cache is [tail_first, size) */
    struct coll *next;
};

struct conn {
    MHD_socket fd;
    unsigned char key[32];
    char cid[SYNC_CID_MAX + 1];
    int authed;
    struct conn *prev, *next;
};

struct dft_serve {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;       /* collections, trees, chains, connections */
    pthread_mutex_t store_mu; /* every storage call */
    const struct sync_log_ops *log;
    const struct sync_blob_ops *blob;
    void *log_self, *blob_self;
    struct coll *colls;
    struct conn *conns;
    struct httpsig_nonces *nonces;
    struct dft_ratelimit *rl_ip, *rl_dev;
    unsigned char *sk; /* sodium_malloc'd Ed25519 secret key */
    unsigned char pub[32];
    char vkey[DFT_NOTE_VKEY_MAX];
    char url[96];
    int64_t (*clock)(void);
};

void
sync_server_name(char out[64], const unsigned char pub[32])
{
    unsigned char h[32];
    char hex[17];
    crypto_sha256_once(h, pub, 32);
    dft_hex_encode(hex, h, 8);
    snprintf(out, 64, "%s%s", SYNC_ORIGIN_PREFIX, hex);
}

void
sync_server_origin(char out[DFT_NOTE_NAME_MAX + 1], const unsigned char pub[32], const char *cid)
{
    char name[64];
    sync_server_name(name, pub);
    snprintf(out, DFT_NOTE_NAME_MAX + 1, "%s/%s", name, cid);
}

static int64_t
now_s(const struct dft_serve *s)
{
    return s->clock != NULL ? s->clock() : (int64_t)time(NULL);
}

static struct coll *
find_coll(struct dft_serve *s, const char *cid)
{
    for (struct coll *c = s->colls; c != NULL; c = c->next) {
        if (strcmp(c->cid, cid) == 0) {
            return c;
        }
    }
    return NULL;
}

static void
coll_free(struct coll *c)
{
    if (c == NULL) {
        return;
    }
    tlog_writer_close(c->tw);
    tlog_reader_close(c->tr);
    sqlite3_close(c->tree);
    member_chain_release(&c->chain);
    for (size_t i = 0; i < c->nops; i++) {
        free(c->ops[i].payload);
    }
    free(c->ops);
    dft_buf_release(&c->cp_note);
    pthread_cond_destroy(&c->cond);
    for (size_t i = 0; c->tail_ring != NULL && i < c->tail_count; i++) {
        free(c->tail_ring[(c->tail_head + i) % TAIL_ENTRIES].data);
    }
    free(c->tail_ring);
    free(c);
}

/* Drop the oldest cached entry (caller holds mu). */
static void
tail_drop(struct coll *c)
{
    struct tail_ent *t = &c->tail_ring[c->tail_head];
    c->tail_bytes -= t->n;
    free(t->data);
    t->data = NULL;
    c->tail_head = (c->tail_head + 1) % TAIL_ENTRIES;
    c->tail_count--;
    c->tail_first++;
}

/*
 * Cache entry body (just appended at c->size - 1; caller holds mu). On any failure the cache
 * empties, so it always holds a contiguous range ending at the log's end.
 */
static void
tail_add(struct coll *c, const unsigned char *body, size_t n)
{
    unsigned char *copy = NULL;
    if (c->tail_ring == NULL) {
        c->tail_ring = calloc(TAIL_ENTRIES, sizeof *c->tail_ring);
    }
    if (c->tail_ring != NULL && n <= TAIL_BYTES) {
        copy = malloc(n > 0 ? n : 1);
    }
    if (copy == NULL) {
        while (c->tail_count > 0) {
            tail_drop(c);
        }
        c->tail_first = c->size;
        return;
    }
    memcpy(copy, body, n);
    while (c->tail_count > 0 && (c->tail_count == TAIL_ENTRIES || c->tail_bytes + n > TAIL_BYTES)) {
        tail_drop(c);
    }
    if (c->tail_count == 0) {
        c->tail_first = c->size - 1;
    }
    c->tail_ring[(c->tail_head + c->tail_count) % TAIL_ENTRIES] = (struct tail_ent){copy, n};
    c->tail_count++;
    c->tail_bytes += n;
}

static enum dft_err
coll_new(const char *cid, struct coll **out, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct coll *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    snprintf(c->cid, sizeof c->cid, "%s", cid);
    member_chain_init(&c->chain, cid);
    dft_buf_init(&c->cp_note, DFT_NOTE_MAX_BYTES, 0);
    pthread_cond_init(&c->cond, NULL);
    if (sqlite3_open_v2(":memory:", &c->tree, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot open a tree");
    }
    if (rc == DFT_OK && sqlite3_exec(c->tree, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot open a tree");
    }
    if (rc == DFT_OK && (rc = tlog_setup(c->tree, err)) == DFT_OK &&
        sqlite3_exec(c->tree, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot open a tree");
    }
    if (rc == DFT_OK && (rc = tlog_writer_open(c->tree, &c->tw, err)) == DFT_OK) {
        rc = tlog_reader_open(c->tree, &c->tr, err);
    }
    if (rc != DFT_OK) {
        coll_free(c);
        return rc;
    }
    *out = c;
    return DFT_OK;
}

/* Leaves into the in-memory tree (caller holds mu). */
static enum dft_err
tree_add(struct coll *c, const unsigned char (*leaves)[32], size_t count, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    for (size_t i = 0; i < count && rc == DFT_OK; i++) {
        rc = tlog_writer_append(c->tw, c->size + i, leaves[i], err);
    }
    if (rc == DFT_OK) {
        c->size += count;
    }
    return rc;
}

static enum dft_err
keep_op(struct coll *c, uint64_t index, const unsigned char *payload, size_t n,
        struct dft_error *err)
{
    if (c->nops == c->opcap) {
        size_t nc = c->opcap ? c->opcap * 2 : 16;
        struct memop *p = realloc(c->ops, nc * sizeof *p);
        if (p == NULL) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        c->ops = p;
        c->opcap = nc;
    }
    unsigned char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(copy, payload, n);
    c->ops[c->nops++] = (struct memop){index, copy, n};
    return DFT_OK;
}

/* Parse "kind || len || bytes" at p; 0 ok (sets *kind, *payload, *plen, *total). */
static int
entry_split(const unsigned char *p, size_t n, unsigned *kind, const unsigned char **payload,
            size_t *plen, size_t *total)
{
    if (n < ENTRY_HEAD) {
        return -1;
    }
    uint64_t len = dft_be_get(p + 1, 4);
    if (len > n - ENTRY_HEAD || (p[0] != 1 && p[0] != 2)) {
        return -1;
    }
    *kind = p[0];
    *payload = p + ENTRY_HEAD;
    *plen = (size_t)len;
    *total = ENTRY_HEAD + (size_t)len;
    return 0;
}

struct load_ctx {
    struct coll *c;
    enum dft_err rc;
    struct dft_error *err;
};

static int
load_entry(void *ctx, uint64_t index, const unsigned char *body, size_t n,
           const unsigned char leaf[32])
{
    struct load_ctx *l = ctx;
    unsigned kind = 0;
    const unsigned char *payload = NULL;
    size_t plen = 0, total = 0;
    unsigned char check[32];
    crypto_leaf_hash(check, body, n);
    if (index != l->c->size || sodium_memcmp(check, leaf, 32) != 0 ||
        entry_split(body, n, &kind, &payload, &plen, &total) != 0 || total != n) {
        l->rc = dft_fail(l->err, DFT_ERR_INTEGRITY, "collection %s: entry %llu is damaged",
                         l->c->cid, (unsigned long long)index);
        return 1;
    }
    if (kind == 2) {
        if ((l->rc = member_apply(&l->c->chain, payload, plen, index, 0, NULL, l->err)) != DFT_OK ||
            (l->rc = keep_op(l->c, index, payload, plen, l->err)) != DFT_OK) {
            return 1;
        }
    }
    unsigned char lf[1][32];
    memcpy(lf[0], leaf, 32);
    l->rc = tree_add(l->c, (const unsigned char(*)[32])lf, 1, l->err);
    return l->rc != DFT_OK;
}

struct load_all {
    struct dft_serve *s;
    enum dft_err rc;
    struct dft_error *err;
};

static int
load_coll(void *ctx, const char *cid)
{
    struct load_all *la = ctx;
    struct coll *c = NULL;
    if ((la->rc = coll_new(cid, &c, la->err)) != DFT_OK) {
        return 1;
    }
    struct load_ctx l = {c, DFT_OK, la->err};
    uint64_t size = 0;
    if ((la->rc = la->s->log->size(la->s->log_self, cid, &size, la->err)) == DFT_OK) {
        la->rc = la->s->log->read(la->s->log_self, cid, 0, size, load_entry, &l, la->err);
    }
    if (la->rc == DFT_OK) {
        la->rc = l.rc;
    }
    if (la->rc == DFT_OK && c->size != size) {
        la->rc = dft_fail(la->err, DFT_ERR_INTEGRITY, "collection %s: entries missing", cid);
    }
    if (la->rc != DFT_OK) {
        coll_free(c);
        return 1;
    }
    c->tail_first = c->size; /* the cache starts empty */
    c->next = la->s->colls;
    la->s->colls = c;
    return 0;
}

/*
 * Group commit: queue p on c and wait; the first waiter with no commit running appends every
 * queued batch in one storage transaction. Caller holds s->mu (released while waiting).
 */
static enum dft_err
commit(struct dft_serve *s, struct coll *c, struct pending *p, struct dft_error *err)
{
    p->done = 0;
    p->next = NULL;
    if (c->tail != NULL) {
        c->tail->next = p;
    } else {
        c->queue = p;
    }
    c->tail = p;
    while (!p->done) {
        if (c->committing) {
            pthread_cond_wait(&c->cond, &s->mu);
            continue;
        }
        c->committing = 1;
        struct pending *batch = c->queue;
        c->queue = c->tail = NULL;
        size_t total = 0;
        for (struct pending *q = batch; q != NULL; q = q->next) {
            total += q->count;
        }
        const unsigned char **bodies = calloc(total + 1, sizeof *bodies);
        size_t *lens = calloc(total + 1, sizeof *lens);
        unsigned char(*leaves)[32] = calloc(total + 1, 32);
        enum dft_err rc = DFT_OK;
        struct dft_error cerr = {0};
        uint64_t first = 0;
        if (bodies == NULL || lens == NULL || leaves == NULL) {
            rc = dft_fail(&cerr, DFT_ERR_NOMEM, "out of memory");
        } else {
            size_t k = 0;
            for (struct pending *q = batch; q != NULL; q = q->next) {
                for (size_t i = 0; i < q->count; i++, k++) {
                    bodies[k] = q->bodies[i];
                    lens[k] = q->lens[i];
                    memcpy(leaves[k], q->leaves[i], 32);
                }
            }
            pthread_mutex_unlock(&s->mu);
            pthread_mutex_lock(&s->store_mu);
            rc = s->log->append(s->log_self, c->cid, total, bodies, lens,
                                (const unsigned char(*)[32])leaves, &first, &cerr);
            pthread_mutex_unlock(&s->store_mu);
            pthread_mutex_lock(&s->mu);
            if (rc == DFT_OK && first != c->size) {
                rc = dft_fail(&cerr, DFT_ERR_INTEGRITY, "storage and tree disagree");
            }
            if (rc == DFT_OK) {
                rc = tree_add(c, (const unsigned char(*)[32])leaves, total, &cerr);
            }
            if (rc == DFT_OK) {
                /* tree_add moved size past all of them: cache them in order */
                uint64_t end = c->size;
                c->size = end - total;
                for (size_t j = 0; j < total; j++) {
                    c->size++;
                    tail_add(c, bodies[j], lens[j]);
                }
                c->size = end;
            }
        }
        uint64_t at = first;
        for (struct pending *q = batch; q != NULL; q = q->next) {
            q->rc = rc;
            q->first = at;
            at += q->count;
            q->done = 1;
        }
        if (rc != DFT_OK) {
            dft_log(DFT_LOG_ERROR, "sync: append failed: %s", cerr.msg);
        }
        free(bodies);
        free(lens);
        free(leaves);
        c->committing = 0;
        pthread_cond_broadcast(&c->cond);
    }
    if (p->rc != DFT_OK) {
        return dft_fail(err, p->rc, "cannot store the entries");
    }
    return DFT_OK;
}

/* Wait until no commit runs and take the commit slot (for membership operations). */
static void
commit_exclusive(struct dft_serve *s, struct coll *c)
{
    while (c->committing || c->queue != NULL) {
        pthread_cond_wait(&c->cond, &s->mu);
    }
    c->committing = 1;
}

static void
commit_release(struct coll *c)
{
    c->committing = 0;
    pthread_cond_broadcast(&c->cond);
}

/* Append one membership entry (caller holds mu and the commit slot). */
static enum dft_err
append_member(struct dft_serve *s, struct coll *c, const unsigned char *payload, size_t n,
              uint64_t *index, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    size_t total = ENTRY_HEAD + n;
    unsigned char *entry = malloc(total);
    unsigned char leaf[1][32];
    uint64_t first = 0;
    if (entry == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    entry[0] = 2;
    dft_be_put(entry + 1, n, 4);
    memcpy(entry + ENTRY_HEAD, payload, n);
    crypto_leaf_hash(leaf[0], entry, total);
    const unsigned char *bodies[1] = {entry};
    size_t lens[1] = {total};
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->store_mu);
    rc = s->log->append(s->log_self, c->cid, 1, bodies, lens, (const unsigned char(*)[32])leaf,
                        &first, err);
    pthread_mutex_unlock(&s->store_mu);
    pthread_mutex_lock(&s->mu);
    if (rc == DFT_OK && first != c->size) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "storage and tree disagree");
    }
    if (rc == DFT_OK) {
        rc = tree_add(c, (const unsigned char(*)[32])leaf, 1, err);
    }
    if (rc == DFT_OK) {
        tail_add(c, entry, total);
        *index = first;
    }
    free(entry);
    return rc;
}

/* ---- connections and revocation ---- */

static void
cut_key(struct dft_serve *s, const char *cid, const unsigned char key[32])
{
    for (struct conn *k = s->conns; k != NULL; k = k->next) {
        if (k->authed && strcmp(k->cid, cid) == 0 && memcmp(k->key, key, 32) == 0) {
            (void)shutdown(k->fd, SHUT_RDWR);
        }
    }
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct dft_serve *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *k = calloc(1, sizeof *k);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (k == NULL) {
            *socket_context = NULL;
            return;
        }
        k->fd = ci != NULL ? ci->connect_fd : MHD_INVALID_SOCKET;
        pthread_mutex_lock(&s->mu);
        k->next = s->conns;
        if (s->conns != NULL) {
            s->conns->prev = k;
        }
        s->conns = k;
        pthread_mutex_unlock(&s->mu);
        *socket_context = k;
    } else {
        struct conn *k = *socket_context;
        if (k == NULL) {
            return;
        }
        pthread_mutex_lock(&s->mu);
        if (k->prev != NULL) {
            k->prev->next = k->next;
        } else {
            s->conns = k->next;
        }
        if (k->next != NULL) {
            k->next->prev = k->prev;
        }
        pthread_mutex_unlock(&s->mu);
        free(k);
        *socket_context = NULL;
    }
}

/* ---- requests ---- */

enum route {
    R_NONE,
    R_HEALTH,
    R_CREATE,
    R_RESEED,
    R_PUSH,
    R_PULL,
    R_CHECKPOINT,
    R_CONSISTENCY,
    R_INCLUSION,
    R_MEMBERS_GET,
    R_MEMBERS_POST,
    R_CHUNK_PUT,
    R_CHUNK_GET,
};

struct req {
    enum route route;
    char cid[SYNC_CID_MAX + 1];
    char chunk[65];
    struct dft_buf body;
    int answered; /* a refusal was queued before the body */
    int too_large;
    char digest[HTTPSIG_HEADER_MAX];
    unsigned char key[32];
    enum member_role role;
};

struct answer {
    unsigned status;
    const char *ctype;
    struct dft_buf body;
    unsigned retry_after;
    char first[24], size[24];
};

static enum MHD_Result
send_answer(struct MHD_Connection *mc, struct answer *a)
{
    size_t len = a->body.len;
    unsigned char *data = dft_buf_take(&a->body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(
        len, data != NULL ? data : (unsigned char *)calloc(1, 1), free);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, "Content-Type", a->ctype);
    (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (a->status == 429) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", a->retry_after > 0 ? a->retry_after : 1);
        (void)MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (a->first[0] != '\0') {
        (void)MHD_add_response_header(resp, "X-Defter-First", a->first);
    }
    if (a->size[0] != '\0') {
        (void)MHD_add_response_header(resp, "X-Defter-Size", a->size);
    }
    if (a->status == 401 || a->status == 413) {
        (void)MHD_add_response_header(resp, "Connection", "close");
    }
    enum MHD_Result ret = MHD_queue_response(mc, a->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
answer_init(struct answer *a, size_t max)
{
    memset(a, 0, sizeof *a);
    dft_buf_init(&a->body, max, 0);
    a->status = 200;
    a->ctype = "application/json";
}

static void
answer_json(struct answer *a, unsigned status, json_t *j)
{
    a->status = status;
    a->ctype = "application/json";
    char *txt = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    dft_buf_reset(&a->body);
    if (txt == NULL || dft_buf_adds(&a->body, txt) != DFT_OK ||
        dft_buf_add(&a->body, "\n", 1) != DFT_OK) {
        a->status = 500;
    }
    sync_json_free(txt);
    json_decref(j);
}

static void
answer_error(struct answer *a, unsigned status, const char *msg)
{
    answer_json(a, status, json_pack("{s:s}", "error", msg));
    a->status = status;
}

static enum MHD_Result
refuse(struct MHD_Connection *mc, struct req *r, unsigned status, const char *msg,
       unsigned retry_after)
{
    struct answer a;
    answer_init(&a, 4096);
    answer_error(&a, status, msg);
    a.retry_after = retry_after;
    r->answered = 1;
    dft_log(DFT_LOG_INFO, "sync refused a request: %u %s", status, msg);
    enum MHD_Result ret = send_answer(mc, &a);
    dft_buf_release(&a.body);
    return ret;
}

static int
hex_token(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static enum route
route_of(const char *url, const char *method, struct req *r)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
        put = strcmp(method, "PUT") == 0;
    if (strcmp(url, "/v1/health") == 0) {
        return get ? R_HEALTH : R_NONE;
    }
    if (strcmp(url, "/v1/collections") == 0) {
        return post ? R_CREATE : R_NONE;
    }
    if (strncmp(url, "/v1/c/", 6) != 0) {
        return R_NONE;
    }
    const char *p = url + 6;
    if (strlen(p) < 33 || !hex_token(p, 32) || p[32] != '/') {
        return R_NONE;
    }
    memcpy(r->cid, p, 32);
    r->cid[32] = '\0';
    const char *rest = p + 32;
    if (strcmp(rest, "/envelopes") == 0) {
        return post ? R_PUSH : get ? R_PULL : R_NONE;
    }
    if (strcmp(rest, "/checkpoint") == 0) {
        return get ? R_CHECKPOINT : R_NONE;
    }
    if (strcmp(rest, "/proof/consistency") == 0) {
        return get ? R_CONSISTENCY : R_NONE;
    }
    if (strcmp(rest, "/proof/inclusion") == 0) {
        return get ? R_INCLUSION : R_NONE;
    }
    if (strcmp(rest, "/members") == 0) {
        return post ? R_MEMBERS_POST : get ? R_MEMBERS_GET : R_NONE;
    }
    if (strncmp(rest, "/chunks/", 8) == 0 && strlen(rest + 8) == 64 && hex_token(rest + 8, 64)) {
        memcpy(r->chunk, rest + 8, 65);
        return put ? R_CHUNK_PUT : get ? R_CHUNK_GET : R_NONE;
    }
    return R_NONE;
}

static void
client_ip(struct MHD_Connection *mc, char out[INET6_ADDRSTRLEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sa->sin_addr, out, INET6_ADDRSTRLEN);
    }
}

struct query_ctx {
    struct dft_buf *b;
    int n;
    int bad;
};

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_ctx *q = cls;
    (void)kind;
    if (dft_buf_adds(q->b, q->n++ == 0 ? "?" : "&") != DFT_OK ||
        dft_buf_adds(q->b, key) != DFT_OK ||
        (value != NULL &&
         (dft_buf_add(q->b, "=", 1) != DFT_OK || dft_buf_adds(q->b, value) != DFT_OK))) {
        q->bad = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

/* "http://" Host path [?query]: the @target-uri as the client signed it. */
static int
target_uri(struct MHD_Connection *mc, const char *url, struct dft_buf *out)
{
    const char *host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == NULL || dft_buf_adds(out, "http://") != DFT_OK ||
        dft_buf_adds(out, host) != DFT_OK || dft_buf_adds(out, url) != DFT_OK) {
        return -1;
    }
    struct query_ctx q = {out, 0, 0};
    (void)MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    return q.bad ? -1 : 0;
}

static int
arg_u64(struct MHD_Connection *mc, const char *name, uint64_t *out, int required)
{
    const char *v = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, name);
    if (v == NULL) {
        return required ? -1 : 0;
    }
    uint64_t x = 0;
    if (*v == '\0' || strlen(v) > 19) {
        return -1;
    }
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return 0;
}

static size_t
body_max(enum route rt)
{
    switch (rt) {
    case R_PUSH:
    case R_RESEED:
        return SYNC_PUSH_MAX;
    case R_CHUNK_PUT:
        return SYNC_CHUNK_MAX;
    case R_CREATE:
    case R_MEMBERS_POST:
        return SYNC_SMALL_MAX;
    default:
        return 0;
    }
}

/* First call of a request: every check that needs no body. MHD_YES to go on reading. */
static enum MHD_Result
admit(struct dft_serve *s, struct MHD_Connection *mc, const char *url, const char *method,
      struct req *r, struct conn *k)
{
    char ip[INET6_ADDRSTRLEN];
    unsigned retry = 0;
    struct dft_error err = {0};
    struct httpsig_params hp;
    client_ip(mc, ip);
    r->route = route_of(url, method, r);
    const char *reseed = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "reseed");
    if (r->route == R_CREATE && reseed != NULL && strcmp(reseed, "1") == 0) {
        r->route = R_RESEED;
    }
    if (r->route == R_NONE) {
        return refuse(mc, r, 404, "not found", 0);
    }
    if (!dft_ratelimit_take(s->rl_ip, ip, &retry)) {
        return refuse(mc, r, 429, "too many requests from this address", retry);
    }
    if (r->route == R_HEALTH) {
        return MHD_YES;
    }
    const char *in = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Signature-Input");
    const char *sg = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Signature");
    const char *dg = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Digest");
    if (in == NULL || sg == NULL || dg == NULL) {
        return refuse(mc, r, 401, "request is not signed", 0);
    }
    struct dft_buf target;
    dft_buf_init(&target, 8192, 0);
    enum dft_err rc = DFT_ERR_INPUT;
    if (target_uri(mc, url, &target) == 0) {
        rc = httpsig_verify(&hp, method, (const char *)target.data, dg, in, sg, &err);
    }
    dft_buf_release(&target);
    if (rc != DFT_OK) {
        return refuse(mc, r, 401, err.msg[0] != '\0' ? err.msg : "bad signature", 0);
    }
    int64_t now = now_s(s);
    if (hp.created > now + HTTPSIG_SKEW || hp.created < now - HTTPSIG_SKEW) {
        return refuse(mc, r, 401, "signature created time is stale", 0);
    }
    char keyb64[dft_b64_len(32)];
    dft_b64_encode(keyb64, hp.keyid, 32);
    if (!dft_ratelimit_take(s->rl_dev, keyb64, &retry)) {
        return refuse(mc, r, 429, "too many requests from this device", retry);
    }
    int seen = httpsig_nonces_check(s->nonces, hp.keyid, hp.nonce, now);
    if (seen != 0) {
        return refuse(mc, r, seen > 0 ? 401 : 503, seen > 0 ? "nonce replayed" : "busy", 0);
    }
    memcpy(r->key, hp.keyid, 32);
    snprintf(r->digest, sizeof r->digest, "%s", dg);
    if (r->route != R_CREATE && r->route != R_RESEED) {
        pthread_mutex_lock(&s->mu);
        struct coll *c = find_coll(s, r->cid);
        const struct member *m = c != NULL ? member_find(&c->chain, hp.keyid) : NULL;
        int known = m != NULL && !m->revoked;
        r->role = known ? m->role : MEMBER_NONE;
        /* the holder of a live invite may read the chain it is about to join */
        int invitee = 0;
        for (size_t i = 0; c != NULL && !known && i < c->chain.ni; i++) {
            const struct member_invite *iv = &c->chain.invites[i];
            invitee |= memcmp(iv->pub, hp.keyid, 32) == 0 && !iv->used && iv->expires >= now;
        }
        if (known && k != NULL) {
            memcpy(k->key, hp.keyid, 32);
            memcpy(k->cid, r->cid, sizeof k->cid);
            k->authed = 1;
        }
        pthread_mutex_unlock(&s->mu);
        if (c == NULL) {
            return refuse(mc, r, 404, "no such collection", 0);
        }
        /* an unknown key may only post a join (checked against the chain with the body) */
        if (!known && r->route != R_MEMBERS_POST && !(invitee && r->route == R_MEMBERS_GET)) {
            return refuse(mc, r, 401, "key is not a member of this collection", 0);
        }
        int allowed = 1;
        switch (r->route) {
        case R_PUSH:
        case R_CHUNK_PUT:
            allowed = member_role_writes(r->role);
            break;
        case R_PULL:
        case R_CHUNK_GET:
            allowed = member_role_reads(r->role);
            break;
        default:
            break;
        }
        if (!allowed) {
            return refuse(mc, r, 403, "role may not do this", 0);
        }
    }
    size_t max = body_max(r->route);
    const char *cl =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        errno = 0;
        unsigned long long len = strtoull(cl, NULL, 10);
        if (errno != 0 || len > max) {
            return refuse(mc, r, 413, "request body is too large", 0);
        }
    }
    dft_buf_init(&r->body, max, 0);
    return MHD_YES;
}

/* ---- handlers (body read and digest checked) ---- */

/*
 * The signed checkpoint of the current size into out. The root is taken and the note signed
 * under mu, but kept (an fsync) outside it, so pushes are not held up by checkpoints; a note is
 * served only once it is stored.
 */
static enum dft_err
checkpoint_now(struct dft_serve *s, struct coll *c, struct dft_buf *out, struct dft_error *err)
{
    struct dft_checkpoint cp;
    struct dft_buf note;
    enum dft_err rc = DFT_OK;
    memset(&cp, 0, sizeof cp);
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    pthread_mutex_lock(&s->mu);
    if (c->cp_note.len > 0 && c->cp_size == c->size) {
        if (dft_buf_add(out, c->cp_note.data, c->cp_note.len) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    sync_server_origin(cp.origin, s->pub, c->cid);
    cp.size = c->size;
    rc = tlog_reader_root(c->tr, c->size, cp.root, err);
    pthread_mutex_unlock(&s->mu);
    if (rc == DFT_OK) {
        rc = checkpoint_sign(&note, &cp, s->sk, err);
    }
    if (rc == DFT_OK) {
        pthread_mutex_lock(&s->store_mu);
        rc = s->log->checkpoint_put(s->log_self, c->cid, cp.size, (const char *)note.data, note.len,
                                    err);
        pthread_mutex_unlock(&s->store_mu);
    }
    if (rc == DFT_OK) {
        pthread_mutex_lock(&s->mu);
        if (cp.size >= c->cp_size || c->cp_note.len == 0) {
            dft_buf_reset(&c->cp_note);
            if (dft_buf_add(&c->cp_note, note.data, note.len) != DFT_OK) {
                dft_buf_reset(&c->cp_note);
            }
            c->cp_size = cp.size;
        }
        pthread_mutex_unlock(&s->mu);
        if (dft_buf_add(out, note.data, note.len) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    dft_buf_release(&note);
    return rc;
}

/*
 * Re-seed (POST /v1/collections?reseed=1): a member's full copy, entries 0.. back to back, the
 * first the genesis. Every membership entry is replayed (without invite expiry: the chain was
 * accepted once and is signed by its owners); the requesting key must be a live member of the
 * result. The whole log is appended in one transaction, so a client's old checkpoints stay
 * consistent with the new server's.
 */
static void
do_reseed(struct dft_serve *s, struct req *r, struct answer *a)
{
    struct dft_error err = {0};
    const unsigned char *p = r->body.data;
    size_t n = r->body.len, off = 0, count = 0;
    unsigned kind = 0;
    const unsigned char *payload = NULL;
    size_t plen = 0, total = 0;
    struct coll *c = NULL;
    json_t *op = NULL;
    const unsigned char **bodies = NULL;
    size_t *lens = NULL;
    unsigned char(*leaves)[32] = NULL;
    if (entry_split(p, n, &kind, &payload, &plen, &total) != 0 || kind != 2 ||
        member_parse(payload, plen, &op, &err) != DFT_OK) {
        answer_error(a, 400, "a re-seed starts with the genesis entry");
        return;
    }
    const char *cid = json_string_value(json_object_get(op, "collection"));
    if (cid == NULL || strlen(cid) != 32 || !hex_token(cid, 32) ||
        coll_new(cid, &c, &err) != DFT_OK) {
        json_decref(op);
        answer_error(a, 400, "genesis names no collection");
        return;
    }
    json_decref(op);
    while (off < n) {
        if (entry_split(p + off, n - off, &kind, &payload, &plen, &total) != 0) {
            answer_error(a, 400, "malformed entry");
            goto out;
        }
        if (kind == 2 && member_apply(&c->chain, payload, plen, count, 0, NULL, &err) != DFT_OK) {
            answer_error(a, 409, err.msg);
            goto out;
        }
        off += total;
        count++;
    }
    const struct member *m = member_find(&c->chain, r->key);
    if (m == NULL || m->revoked) {
        answer_error(a, 403, "only a member re-seeds its collection");
        goto out;
    }
    bodies = calloc(count, sizeof *bodies);
    lens = calloc(count, sizeof *lens);
    leaves = calloc(count, 32);
    if (bodies == NULL || lens == NULL || leaves == NULL) {
        answer_error(a, 500, "out of memory");
        goto out;
    }
    off = 0;
    for (size_t i = 0; i < count; i++) {
        (void)entry_split(p + off, n - off, &kind, &payload, &plen, &total);
        bodies[i] = p + off;
        lens[i] = total;
        crypto_leaf_hash(leaves[i], p + off, total);
        if (kind == 2 && keep_op(c, i, payload, plen, &err) != DFT_OK) {
            answer_error(a, 500, err.msg);
            goto out;
        }
        off += total;
    }
    pthread_mutex_lock(&s->mu);
    if (find_coll(s, c->cid) != NULL) {
        pthread_mutex_unlock(&s->mu);
        answer_error(a, 409, "collection exists");
        goto out;
    }
    uint64_t first = 0;
    pthread_mutex_lock(&s->store_mu);
    enum dft_err rc = s->log->create(s->log_self, c->cid, &err);
    if (rc == DFT_OK) {
        rc = s->log->append(s->log_self, c->cid, count, bodies, lens,
                            (const unsigned char(*)[32])leaves, &first, &err);
    }
    pthread_mutex_unlock(&s->store_mu);
    if (rc == DFT_OK) {
        rc = tree_add(c, (const unsigned char(*)[32])leaves, count, &err);
        c->tail_first = c->size;
    }
    if (rc != DFT_OK) {
        pthread_mutex_unlock(&s->mu);
        answer_error(a, 500, err.msg);
        goto out;
    }
    c->next = s->colls;
    s->colls = c;
    answer_json(a, 201,
                json_pack("{s:s,s:I,s:I}", "collection", c->cid, "first", (json_int_t)0, "size",
                          (json_int_t)c->size));
    c = NULL;
    pthread_mutex_unlock(&s->mu);
out:
    coll_free(c);
    free(bodies);
    free(lens);
    free(leaves);
}

static void
do_create(struct dft_serve *s, struct req *r, struct answer *a)
{
    struct dft_error err = {0};
    json_t *op = NULL;
    enum dft_err rc = member_parse(r->body.data, r->body.len, &op, &err);
    const char *cid = rc == DFT_OK ? json_string_value(json_object_get(op, "collection")) : NULL;
    const char *by = rc == DFT_OK ? json_string_value(json_object_get(op, "by")) : NULL;
    char keyb64[dft_b64_len(32)];
    dft_b64_encode(keyb64, r->key, 32);
    if (rc != DFT_OK || cid == NULL || strlen(cid) != 32 || !hex_token(cid, 32)) {
        answer_error(a, 400, rc != DFT_OK ? err.msg : "genesis names no collection");
        json_decref(op);
        return;
    }
    if (by == NULL || strcmp(by, keyb64) != 0) {
        answer_error(a, 403, "the genesis must be signed by the requesting key");
        json_decref(op);
        return;
    }
    struct coll *c = NULL;
    if ((rc = coll_new(cid, &c, &err)) != DFT_OK) {
        answer_error(a, 500, err.msg);
        json_decref(op);
        return;
    }
    json_decref(op);
    if ((rc = member_apply(&c->chain, r->body.data, r->body.len, 0, now_s(s), NULL, &err)) !=
        DFT_OK) {
        answer_error(a, 400, err.msg);
        coll_free(c);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (find_coll(s, c->cid) != NULL) {
        pthread_mutex_unlock(&s->mu);
        answer_error(a, 409, "collection exists");
        coll_free(c);
        return;
    }
    pthread_mutex_lock(&s->store_mu);
    rc = s->log->create(s->log_self, c->cid, &err);
    pthread_mutex_unlock(&s->store_mu);
    uint64_t index = 0;
    c->committing = 1;
    if (rc == DFT_OK) {
        c->next = s->colls; /* published only once the genesis is stored */
        rc = append_member(s, c, r->body.data, r->body.len, &index, &err);
        if (rc == DFT_OK) {
            s->colls = c;
            rc = keep_op(c, index, r->body.data, r->body.len, &err);
        }
    }
    c->committing = 0;
    if (rc != DFT_OK) {
        pthread_mutex_unlock(&s->mu);
        answer_error(a, rc == DFT_ERR_INPUT ? 409 : 500, err.msg);
        if (find_coll(s, cid) != c) {
            coll_free(c);
        }
        return;
    }
    answer_json(a, 201,
                json_pack("{s:s,s:I,s:I}", "collection", c->cid, "first", (json_int_t)0, "size",
                          (json_int_t)c->size));
    pthread_mutex_unlock(&s->mu);
}

static void
do_members_post(struct dft_serve *s, struct req *r, struct coll *c, struct answer *a)
{
    struct dft_error err = {0};
    json_t *op = NULL;
    enum dft_err rc = member_parse(r->body.data, r->body.len, &op, &err);
    if (rc != DFT_OK) {
        answer_error(a, 400, err.msg);
        return;
    }
    const char *action = json_string_value(json_object_get(op, "action"));
    const char *key = json_string_value(json_object_get(op, "key"));
    char keyb64[dft_b64_len(32)];
    dft_b64_encode(keyb64, r->key, 32);
    int is_join = action != NULL && strcmp(action, "join") == 0;
    if (is_join ? (key == NULL || strcmp(key, keyb64) != 0) : r->role != MEMBER_OWNER) {
        json_decref(op);
        answer_error(a, 403,
                     is_join ? "a join must be posted by the joining key"
                             : "only an owner changes membership");
        return;
    }
    json_decref(op);
    pthread_mutex_lock(&s->mu);
    commit_exclusive(s, c);
    struct member_chain trial = c->chain;
    /* member_apply on a copy of the arrays so a refused operation changes nothing */
    trial.members = malloc((c->chain.cap ? c->chain.cap : 1) * sizeof *trial.members);
    trial.invites = malloc((c->chain.icap ? c->chain.icap : 1) * sizeof *trial.invites);
    uint64_t index = 0;
    if (trial.members == NULL || trial.invites == NULL) {
        rc = dft_fail(&err, DFT_ERR_NOMEM, "out of memory");
    } else {
        if (c->chain.n > 0) {
            memcpy(trial.members, c->chain.members, c->chain.n * sizeof *trial.members);
        }
        if (c->chain.ni > 0) {
            memcpy(trial.invites, c->chain.invites, c->chain.ni * sizeof *trial.invites);
        }
        rc = member_apply(&trial, r->body.data, r->body.len, c->size, now_s(s), &op, &err);
    }
    if (rc == DFT_OK) {
        rc = append_member(s, c, r->body.data, r->body.len, &index, &err);
    }
    if (rc == DFT_OK) {
        member_chain_release(&c->chain);
        c->chain = trial;
        trial.members = NULL;
        trial.invites = NULL;
        rc = keep_op(c, index, r->body.data, r->body.len, &err);
        if (strcmp(json_string_value(json_object_get(op, "action")), "revoke") == 0) {
            unsigned char rk[32];
            size_t n = 0;
            const char *ks = json_string_value(json_object_get(op, "key"));
            if (ks != NULL && dft_b64_decode(rk, 32, &n, ks, strlen(ks)) == DFT_OK && n == 32) {
                cut_key(s, c->cid, rk);
            }
        }
    } else {
        free(trial.members);
        free(trial.invites);
    }
    json_decref(op);
    commit_release(c);
    if (rc == DFT_OK) {
        answer_json(
            a, 200,
            json_pack("{s:I,s:I}", "index", (json_int_t)index, "size", (json_int_t)c->size));
    } else {
        answer_error(a, rc == DFT_ERR_INTEGRITY || rc == DFT_ERR_INPUT ? 409 : 500, err.msg);
    }
    pthread_mutex_unlock(&s->mu);
}

static void
do_push(struct dft_serve *s, struct req *r, struct coll *c, struct answer *a)
{
    struct dft_error err = {0};
    size_t count = 0, off = 0;
    const unsigned char *p = r->body.data;
    size_t n = r->body.len;
    while (off < n) {
        unsigned kind = 0;
        const unsigned char *payload = NULL;
        size_t plen = 0, total = 0;
        if (entry_split(p + off, n - off, &kind, &payload, &plen, &total) != 0 || kind != 1) {
            answer_error(a, 400, "push body must be envelope entries (kind 1)");
            return;
        }
        off += total;
        count++;
    }
    if (count == 0) {
        answer_error(a, 400, "empty push");
        return;
    }
    const unsigned char **bodies = calloc(count, sizeof *bodies);
    size_t *lens = calloc(count, sizeof *lens);
    unsigned char(*leaves)[32] = calloc(count, 32);
    if (bodies == NULL || lens == NULL || leaves == NULL) {
        answer_error(a, 500, "out of memory");
        goto out;
    }
    off = 0;
    for (size_t i = 0; i < count; i++) {
        size_t total = ENTRY_HEAD + (size_t)dft_be_get(p + off + 1, 4);
        bodies[i] = p + off;
        lens[i] = total;
        crypto_leaf_hash(leaves[i], p + off, total);
        off += total;
    }
    struct pending pd = {bodies, lens, (const unsigned char(*)[32])leaves, count, 0, DFT_OK,
                         0,      NULL};
    pthread_mutex_lock(&s->mu);
    enum dft_err rc = commit(s, c, &pd, &err);
    uint64_t size = c->size;
    pthread_mutex_unlock(&s->mu);
    if (rc != DFT_OK) {
        answer_error(a, 500, err.msg);
    } else {
        answer_json(
            a, 200,
            json_pack("{s:I,s:I}", "first", (json_int_t)pd.first, "size", (json_int_t)size));
    }
out:
    free(bodies);
    free(lens);
    free(leaves);
}

struct pull_ctx {
    struct dft_buf *out;
    uint64_t next;
    size_t bytes;
};

static int
pull_entry(void *ctx, uint64_t index, const unsigned char *body, size_t n,
           const unsigned char leaf[32])
{
    struct pull_ctx *p = ctx;
    (void)leaf;
    if (index != p->next || (p->bytes > 0 && p->bytes + n > SYNC_PULL_BYTES)) {
        return 1;
    }
    if (dft_buf_add(p->out, body, n) != DFT_OK) {
        return 1;
    }
    p->bytes += n;
    p->next++;
    return 0;
}

static int
still_member(struct coll *c, const unsigned char key[32])
{
    const struct member *m = member_find(&c->chain, key);
    return m != NULL && !m->revoked;
}

static void
do_pull(struct dft_serve *s, struct MHD_Connection *mc, struct req *r, struct coll *c,
        struct answer *a)
{
    uint64_t since = 0, limit = 10000, wait = 0;
    struct dft_error err = {0};
    if (arg_u64(mc, "since", &since, 1) != 0 || arg_u64(mc, "limit", &limit, 0) != 0 ||
        arg_u64(mc, "wait", &wait, 0) != 0 || limit == 0) {
        answer_error(a, 400, "pull needs since=N (and optional limit=L, wait=S)");
        return;
    }
    if (limit > 100000) {
        limit = 100000;
    }
    if (wait > SYNC_WAIT_MAX) {
        wait = SYNC_WAIT_MAX;
    }
    pthread_mutex_lock(&s->mu);
    if (wait > 0 && since >= c->size) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)wait;
        while (since >= c->size && still_member(c, r->key)) {
            if (pthread_cond_timedwait(&c->cond, &s->mu, &until) == ETIMEDOUT) {
                break;
            }
        }
    }
    int ok = still_member(c, r->key);
    uint64_t size = c->size;
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        answer_error(a, 401, "key was revoked");
        return;
    }
    if (since > size) {
        answer_error(a, 416, "since is beyond the log");
        return;
    }
    uint64_t count = size - since < limit ? size - since : limit;
    struct pull_ctx pc = {&a->body, since, 0};
    enum dft_err rc = DFT_OK;
    /* news first from the in-memory tail: the store stays free for commits */
    pthread_mutex_lock(&s->mu);
    if (count > 0 && since >= c->tail_first && since < c->tail_first + c->tail_count) {
        for (uint64_t i = since; i < since + count && i < c->tail_first + c->tail_count; i++) {
            const struct tail_ent *t =
                &c->tail_ring[(c->tail_head + (size_t)(i - c->tail_first)) % TAIL_ENTRIES];
            if (pull_entry(&pc, i, t->data, t->n, NULL) != 0) {
                break;
            }
        }
        count = 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (count > 0) {
        pthread_mutex_lock(&s->store_mu);
        rc = s->log->read(s->log_self, c->cid, since, count, pull_entry, &pc, &err);
        pthread_mutex_unlock(&s->store_mu);
    }
    if (rc != DFT_OK || (count > 0 && pc.next == since)) {
        answer_error(a, 500, rc != DFT_OK ? err.msg : "cannot read entries");
        return;
    }
    a->status = 200;
    a->ctype = "application/octet-stream";
    snprintf(a->first, sizeof a->first, "%llu", (unsigned long long)since);
    snprintf(a->size, sizeof a->size, "%llu", (unsigned long long)size);
}

static void
do_checkpoint(struct dft_serve *s, struct coll *c, struct answer *a)
{
    struct dft_error err = {0};
    enum dft_err rc = checkpoint_now(s, c, &a->body, &err);
    if (rc != DFT_OK) {
        answer_error(a, 500, err.msg);
        return;
    }
    a->status = 200;
    a->ctype = "text/plain; charset=utf-8";
}

static json_t *
proof_json(const unsigned char (*proof)[32], size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        char b[DFT_TLOG_HASH_B64];
        tlog_hash_encode(b, proof[i]);
        json_array_append_new(arr, json_string(b));
    }
    return arr;
}

static void
do_proof(struct dft_serve *s, struct MHD_Connection *mc, struct req *r, struct coll *c,
         struct answer *a)
{
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    uint64_t x = 0, y = 0;
    struct dft_error err = {0};
    enum dft_err rc;
    int incl = r->route == R_INCLUSION;
    if (arg_u64(mc, incl ? "index" : "old", &x, 1) != 0 ||
        arg_u64(mc, incl ? "size" : "new", &y, 1) != 0) {
        answer_error(a, 400,
                     incl ? "inclusion proof needs index=I&size=S"
                          : "consistency proof needs old=A&new=B");
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (y > c->size) {
        rc = dft_fail(&err, DFT_ERR_INPUT, "size is above the log size");
    } else if (incl) {
        rc = tlog_reader_prove_inclusion(c->tr, x, y, proof, &n, &err);
    } else {
        rc = tlog_reader_prove_consistency(c->tr, x, y, proof, &n, &err);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != DFT_OK) {
        answer_error(a, rc == DFT_ERR_INPUT ? 400 : 500, err.msg);
        return;
    }
    answer_json(a, 200,
                incl ? json_pack("{s:I,s:I,s:o}", "index", (json_int_t)x, "size", (json_int_t)y,
                                 "proof", proof_json((const unsigned char(*)[32])proof, n))
                     : json_pack("{s:I,s:I,s:o}", "old", (json_int_t)x, "new", (json_int_t)y,
                                 "proof", proof_json((const unsigned char(*)[32])proof, n)));
}

static void
do_members_get(struct dft_serve *s, struct coll *c, struct answer *a)
{
    json_t *ops = json_array();
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; ops != NULL && i < c->nops; i++) {
        size_t bl = dft_b64_len(c->ops[i].n);
        char *b = malloc(bl);
        if (b == NULL) {
            json_decref(ops);
            ops = NULL;
            break;
        }
        dft_b64_encode(b, c->ops[i].payload, c->ops[i].n);
        json_array_append_new(
            ops, json_pack("{s:I,s:s}", "index", (json_int_t)c->ops[i].index, "op", b));
        free(b);
    }
    uint64_t size = c->size;
    pthread_mutex_unlock(&s->mu);
    if (ops == NULL) {
        answer_error(a, 500, "out of memory");
        return;
    }
    answer_json(a, 200, json_pack("{s:o,s:I}", "ops", ops, "size", (json_int_t)size));
}

static void
do_chunk(struct dft_serve *s, struct req *r, struct answer *a)
{
    struct dft_error err = {0};
    enum dft_err rc;
    pthread_mutex_lock(&s->store_mu);
    if (r->route == R_CHUNK_PUT) {
        rc = s->blob->put(s->blob_self, r->cid, r->chunk, r->body.data, r->body.len, &err);
    } else {
        rc = s->blob->get(s->blob_self, r->cid, r->chunk, &a->body, &err);
    }
    pthread_mutex_unlock(&s->store_mu);
    if (rc != DFT_OK) {
        answer_error(a, rc == DFT_ERR_NOT_FOUND ? 404 : 500, err.msg);
        return;
    }
    if (r->route == R_CHUNK_PUT) {
        answer_json(a, 200, json_pack("{s:s}", "chunk", r->chunk));
    } else {
        a->status = 200;
        a->ctype = "application/octet-stream";
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    struct dft_serve *s = cls;
    struct req *r = *req_cls;
    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            return MHD_NO;
        }
        dft_buf_init(&r->body, 0, 0);
        *req_cls = r;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *k = ci != NULL ? ci->socket_context : NULL;
        return admit(s, mc, url, method, r, k);
    }
    if (r->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_large && dft_buf_add(&r->body, upload_data, *upload_size) != DFT_OK) {
            r->too_large = 1;
            dft_buf_release(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        return refuse(mc, r, 413, "request body is too large", 0);
    }
    struct answer a;
    answer_init(&a, r->route == R_PULL ? SYNC_PULL_BYTES + SYNC_PUSH_MAX : SYNC_CHUNK_MAX + 4096);
    if (r->route == R_HEALTH) {
        answer_json(&a, 200, json_pack("{s:b,s:s}", "ok", 1, "vkey", s->vkey));
    } else if (httpsig_check_digest(r->digest, r->body.data, r->body.len, NULL) != DFT_OK) {
        dft_buf_release(&a.body);
        return refuse(mc, r, 401, "body does not match its Content-Digest", 0);
    } else if (r->route == R_CREATE) {
        do_create(s, r, &a);
    } else if (r->route == R_RESEED) {
        do_reseed(s, r, &a);
    } else {
        pthread_mutex_lock(&s->mu);
        struct coll *c = find_coll(s, r->cid);
        pthread_mutex_unlock(&s->mu);
        switch (r->route) {
        case R_PUSH:
            do_push(s, r, c, &a);
            break;
        case R_PULL:
            do_pull(s, mc, r, c, &a);
            break;
        case R_CHECKPOINT:
            do_checkpoint(s, c, &a);
            break;
        case R_CONSISTENCY:
        case R_INCLUSION:
            do_proof(s, mc, r, c, &a);
            break;
        case R_MEMBERS_GET:
            do_members_get(s, c, &a);
            break;
        case R_MEMBERS_POST:
            do_members_post(s, r, c, &a);
            break;
        case R_CHUNK_PUT:
        case R_CHUNK_GET:
            do_chunk(s, r, &a);
            break;
        default:
            answer_error(&a, 404, "not found");
            break;
        }
    }
    enum MHD_Result ret = send_answer(mc, &a);
    dft_log(DFT_LOG_INFO, "sync %s %d %u", method, (int)r->route, a.status);
    dft_buf_release(&a.body);
    return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mc;
    (void)toe;
    struct req *r = *req_cls;
    if (r != NULL) {
        dft_buf_release(&r->body);
        free(r);
        *req_cls = NULL;
    }
}

/* ---- lifecycle ---- */

void
dft_serve_opts_default(struct dft_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:0";
    o->rate_device = 500;
    o->rate_ip = 20000;
    o->conns_max = 1024;
    o->conns_ip = 512;
    o->timeout_sec = 60;
}

/* Load or create DIR/server.key (32-byte seed, 0600). */
static enum dft_err
load_key(struct dft_serve *s, const char *dir, struct dft_error *err)
{
    char path[4096];
    unsigned char seed[32];
    enum dft_err rc = dft_path_join(path, sizeof path, dir, SYNC_SERVER_KEY_FILE, err);
    if (rc != DFT_OK) {
        return rc;
    }
    s->sk = sodium_malloc(64);
    if (s->sk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        randombytes_buf(seed, sizeof seed);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || file_write_all(fd, seed, sizeof seed) != 0 || file_fsync(fd) != 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, file_errstr(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
        if (rc == DFT_OK && file_fsync_dir(dir) != 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot sync '%s'", dir);
        }
    } else if (fd < 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", path, file_errstr(errno));
    } else {
        struct stat st;
        if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
            rc = dft_fail(err, DFT_ERR_INPUT, "'%s' is readable by others or not ours", path);
        } else if (file_pread_full(fd, seed, sizeof seed, 0) != (ssize_t)sizeof seed ||
                   st.st_size != (off_t)sizeof seed) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "'%s' is not a server key", path);
        }
        close(fd);
    }
    if (rc == DFT_OK) {
        crypto_sign_seed_keypair(s->pub, s->sk, seed);
    }
    sodium_memzero(seed, sizeof seed);
    return rc;
}

enum dft_err
dft_serve_start(struct dft_serve **out, const struct dft_serve_opts *o, struct dft_error *err)
{
    struct sockaddr_in sa;
    enum dft_err rc = DFT_OK;
    *out = NULL;
    if (o->data_dir == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "serve needs --data DIR");
    }
    if ((rc = dft_listen_parse(o->listen, &sa, err)) != DFT_OK) {
        return rc;
    }
    struct dft_serve *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->store_mu, NULL);
    s->clock = o->clock;
    s->rl_ip = malloc(sizeof *s->rl_ip);
    s->rl_dev = malloc(sizeof *s->rl_dev);
    s->nonces = httpsig_nonces_new();
    if (s->rl_ip == NULL || s->rl_dev == NULL || s->nonces == NULL) {
        free(s->rl_ip);
        free(s->rl_dev);
        s->rl_ip = s->rl_dev = NULL;
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    dft_ratelimit_init(s->rl_ip, o->rate_ip);
    dft_ratelimit_init(s->rl_dev, o->rate_device);
    if (mkdir(o->data_dir, 0700) != 0 && errno != EEXIST) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", o->data_dir, file_errstr(errno));
        goto out;
    }
    if ((rc = load_key(s, o->data_dir, err)) != DFT_OK) {
        goto out;
    }
    struct dft_note_verifier v;
    char name[64];
    sync_server_name(name, s->pub);
    if ((rc = note_verifier_init(&v, name, DFT_NOTE_ALG_ED25519, s->pub, err)) != DFT_OK) {
        goto out;
    }
    note_verifier_format(&v, s->vkey);
    if ((rc = sync_storage_pick(o->db_url, o->objects_url, &s->log, &s->blob, err)) != DFT_OK ||
        (rc = s->log->open(&s->log_self, o->data_dir, o->db_url, err)) != DFT_OK ||
        (rc = s->blob->open(&s->blob_self, o->data_dir, o->objects_url, err)) != DFT_OK) {
        goto out;
    }
    struct load_all la = {s, DFT_OK, err};
    if ((rc = s->log->collections(s->log_self, load_coll, &la, err)) != DFT_OK ||
        (rc = la.rc) != DFT_OK) {
        goto out;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
        NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
        o->conns_max, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->conns_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_sec, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot listen on %s", o->listen);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    snprintf(s->url, sizeof s->url, "http://%s:%u", host, info != NULL ? (unsigned)info->port : 0u);
out:
    if (rc != DFT_OK) {
        dft_serve_free(s);
        return rc;
    }
    *out = s;
    return DFT_OK;
}

const char *
dft_serve_url(const struct dft_serve *s)
{
    return s->url;
}

const char *
dft_serve_vkey(const struct dft_serve *s)
{
    return s->vkey;
}

void
dft_serve_run(struct dft_serve *s)
{
    sigset_t set;
    int sig = 0;
    (void)s;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)sigwait(&set, &sig);
}

void
dft_serve_free(struct dft_serve *s)
{
    if (s == NULL) {
        return;
    }
    if (s->daemon != NULL) {
        MHD_stop_daemon(s->daemon);
    }
    while (s->colls != NULL) {
        struct coll *c = s->colls;
        s->colls = c->next;
        coll_free(c);
    }
    if (s->log != NULL && s->log_self != NULL) {
        s->log->close(s->log_self);
    }
    if (s->blob != NULL && s->blob_self != NULL) {
        s->blob->close(s->blob_self);
    }
    if (s->rl_ip != NULL) {
        dft_ratelimit_release(s->rl_ip);
        dft_ratelimit_release(s->rl_dev);
    }
    free(s->rl_ip);
    free(s->rl_dev);
    httpsig_nonces_free(s->nonces);
    sodium_free(s->sk);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->store_mu);
    free(s);
}
