/*
 * test_server.c - `defter serve` in process on 127.0.0.1 (port picked by the system), driven
 * by the sync client's signed requests: create, push, pull, checkpoints and proofs checked
 * with the log's own verifiers; every refusal (unsigned, wrong key, altered body, replay,
 * stale, unknown or revoked key: 401; field read: 403; oversize: 413 before the body; a
 * 2,000-request burst: 429 with Retry-After); the membership chain (forged op, wrong signer,
 * reused and expired invites); revocation failing a waiting pull at once; and a restart that
 * keeps every acknowledged entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/tlog.h"
#include "sync/client.h"
#include "sync/httpsig.h"
#include "sync/member.h"
#include "sync/server.h"

struct dev {
    unsigned char pk[32], sk[64], xpk[32], xsk[32];
    char b64[64];
};

static enum dft_err
sign_dev(void *ctx, const unsigned char *msg, size_t n, unsigned char sig[64],
         struct dft_error *err)
{
    const struct dev *d = ctx;
    (void)err;
    crypto_sign_detached(sig, NULL, msg, n, d->sk);
    return DFT_OK;
}

static void
dev_new(struct dev *d)
{
    crypto_sign_keypair(d->pk, d->sk);
    crypto_box_keypair(d->xpk, d->xsk);
    dft_b64_encode(d->b64, d->pk, 32);
}

static int64_t fake_now;
static int64_t
test_clock(void)
{
    return fake_now;
}

struct fx {
    char dir[256];
    struct dft_serve *srv;
    char url[128], vkey[DFT_NOTE_VKEY_MAX];
    pid_t child; /* a `defter serve` process instead of srv, or 0 */
    struct dev owner, editor, viewer, field, stranger;
    struct member_chain chain; /* the test's own replay of the chain */
    char cid[33];
    unsigned char nonce[32];
};

static void
b64(char *out, const unsigned char *p, size_t n)
{
    dft_b64_encode(out, p, n);
}

static json_t *
sealed_for(const struct dev *const *devs, size_t n)
{
    json_t *o = json_object();
    unsigned char keys[64], box[MEMBER_SEALED_BYTES];
    randombytes_buf(keys, sizeof keys);
    for (size_t i = 0; i < n; i++) {
        char s[dft_b64_len(MEMBER_SEALED_BYTES)];
        crypto_box_seal(box, keys, sizeof keys, devs[i]->xpk);
        b64(s, box, sizeof box);
        json_object_set_new(o, devs[i]->b64, json_string(s));
    }
    return o;
}

/* Seal op for the test's chain, signed by d; payload into out (caller releases). */
static void
seal(struct fx *f, json_t *op, const struct dev *d, struct dft_buf *out)
{
    dft_buf_init(out, MEMBER_JSON_MAX + 1024, 0);
    json_object_set_new(op, "by", json_string(d->b64));
    assert_int_equal(member_seal_op(&f->chain, op, sign_dev, (void *)(uintptr_t)d, out, NULL),
                     DFT_OK);
    json_decref(op);
}

static long
call(struct fx *f, const struct dev *d, const char *method, const char *path,
     const unsigned char *body, size_t n, struct dft_buf *resp, struct sync_http_meta *meta)
{
    struct sync_http h;
    struct sync_http_meta m;
    assert_int_equal(sync_http_init(&h, f->url, d->pk, sign_dev, (void *)(uintptr_t)d, NULL),
                     DFT_OK);
    h.clock = test_clock;
    assert_int_equal(sync_http_raw(&h, method, path, body, n, NULL, meta ? meta : &m, resp, NULL),
                     DFT_OK);
    sync_http_release(&h);
    return (meta ? meta : &m)->status;
}

/* Post a membership payload; on 200 apply it to the test's chain too. */
static long
post_op(struct fx *f, const struct dev *d, struct dft_buf *payload)
{
    char path[128];
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/members", f->cid);
    long st = call(f, d, "POST", path, payload->data, payload->len, &resp, NULL);
    if (st == 200) {
        json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
        uint64_t index = (uint64_t)json_integer_value(json_object_get(j, "index"));
        json_decref(j);
        assert_int_equal(member_apply(&f->chain, payload->data, payload->len, index, 0, NULL, NULL),
                         DFT_OK);
    }
    dft_buf_release(&resp);
    dft_buf_release(payload);
    return st;
}

static void
start(struct fx *f)
{
    struct dft_serve_opts o;
    dft_serve_opts_default(&o);
    o.data_dir = f->dir;
    o.clock = test_clock;
    o.rate_device = 100;
    o.rate_ip = 0;
    assert_int_equal(dft_serve_start(&f->srv, &o, NULL), DFT_OK);
    snprintf(f->url, sizeof f->url, "%s", dft_serve_url(f->srv));
    snprintf(f->vkey, sizeof f->vkey, "%s", dft_serve_vkey(f->srv));
}

static char defter_bin[1024];

/* `defter serve` as a child process (for kill -9); reads its first line. */
static void
spawn(struct fx *f)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(defter_bin, defter_bin, "serve", "--listen", "127.0.0.1:0", "--data", f->dir,
              "--rate-device", "0", "--rate-ip", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, in));
    fclose(in);
    assert_int_equal(sscanf(line, "%127s %255s", f->url, f->vkey), 2);
    f->child = pid;
}

/* Join dev with role through a fresh invite (owner invites, dev joins). */
static long
invite_join(struct fx *f, struct dev *d, const char *role, int64_t expires, struct dev *inv_out)
{
    struct dev inv;
    struct dft_buf p;
    dev_new(&inv);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", inv.b64, "role", role,
                   "expires", (json_int_t)expires),
         &f->owner, &p);
    assert_int_equal(post_op(f, &f->owner, &p), 200);
    char xk[64];
    b64(xk, d->xpk, 32);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "join", "key", d->b64, "xkey", xk, "role",
                   role, "invite", inv.b64),
         &inv, &p);
    if (inv_out != NULL) {
        *inv_out = inv;
    }
    return post_op(f, d, &p);
}

static void collection(struct fx *f);

static struct fx *
fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/defter-sync-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    fake_now = 1800000000;
    dev_new(&f->owner);
    dev_new(&f->editor);
    dev_new(&f->viewer);
    dev_new(&f->field);
    dev_new(&f->stranger);
    return f;
}

static int
setup(void **state)
{
    struct fx *f = fx_new();
    start(f);
    collection(f);
    *state = f;
    return 0;
}

/* genesis, then an editor, a viewer and a field device join */
static void
collection(struct fx *f)
{ /* genesis */
    unsigned char in[64], h[32], drop[32];
    randombytes_buf(f->nonce, sizeof f->nonce);
    memcpy(in, f->owner.pk, 32);
    memcpy(in + 32, f->nonce, 32);
    crypto_sha256_once(h, in, sizeof in);
    dft_hex_encode(f->cid, h, 16);
    member_chain_init(&f->chain, f->cid);
    randombytes_buf(drop, sizeof drop);
    char xk[64], dk[64], nk[64];
    b64(xk, f->owner.xpk, 32);
    b64(dk, drop, 32);
    b64(nk, f->nonce, 32);
    const struct dev *readers[] = {&f->owner};
    struct dft_buf p, resp;
    seal(f,
         json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "action", "genesis", "key", f->owner.b64,
                   "xkey", xk, "epoch", 0, "drop", dk, "nonce", nk, "sealed",
                   sealed_for(readers, 1)),
         &f->owner, &p);
    dft_buf_init(&resp, 1 << 20, 0);
    /* a genesis posted by another key is refused */
    assert_int_equal(call(f, &f->stranger, "POST", "/v1/collections", p.data, p.len, &resp, NULL),
                     403);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->owner, "POST", "/v1/collections", p.data, p.len, &resp, NULL),
                     201);
    assert_int_equal(member_apply(&f->chain, p.data, p.len, 0, 0, NULL, NULL), DFT_OK);
    dft_buf_release(&resp);
    dft_buf_release(&p);
    assert_int_equal(invite_join(f, &f->editor, "editor", fake_now + 3600, NULL), 200);
    assert_int_equal(invite_join(f, &f->viewer, "viewer", fake_now + 3600, NULL), 200);
    assert_int_equal(invite_join(f, &f->field, "field", fake_now + 3600, NULL), 200);
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    dft_serve_free(f->srv);
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    member_chain_release(&f->chain);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* n envelope entries of 100 bytes each, tagged with tag */
static void
entries(struct dft_buf *b, int n, int tag)
{
    dft_buf_init(b, 1 << 24, 0);
    for (int i = 0; i < n; i++) {
        unsigned char e[5 + 100];
        e[0] = 1;
        dft_be_put(e + 1, 100, 4);
        memset(e + 5, tag + i, 100);
        assert_int_equal(dft_buf_add(b, e, sizeof e), DFT_OK);
    }
}

static void
get_checkpoint(struct fx *f, const struct dev *d, struct dft_checkpoint *cp)
{
    char path[128];
    struct dft_buf resp;
    struct dft_note_verifier v;
    char origin[DFT_NOTE_NAME_MAX + 1];
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/checkpoint", f->cid);
    assert_int_equal(call(f, d, "GET", path, NULL, 0, &resp, NULL), 200);
    /* the verifier key of the first line, named for this collection's origin */
    struct dft_note_verifier sv;
    const char *vk = f->vkey;
    assert_int_equal(note_verifier_parse(&sv, vk, strlen(vk), NULL), DFT_OK);
    sync_server_origin(origin, sv.pub, f->cid);
    assert_int_equal(note_verifier_init(&v, origin, DFT_NOTE_ALG_ED25519, sv.pub, NULL), DFT_OK);
    assert_int_equal(
        checkpoint_open(cp, (const char *)resp.data, resp.len, &v, NULL, 0, NULL, NULL), DFT_OK);
    dft_buf_release(&resp);
}

static void
test_server__push_pull_and_proofs(void **state)
{
    struct fx *f = *state;
    char path[160];
    struct dft_buf body, resp;
    struct sync_http_meta m;
    struct dft_checkpoint cp1, cp2;
    get_checkpoint(f, &f->viewer, &cp1);
    assert_int_equal(cp1.size, 7); /* genesis + 3 x (invite, join) */
    entries(&body, 10, 1);
    dft_buf_init(&resp, 1 << 24, 0);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    assert_int_equal(call(f, &f->editor, "POST", path, body.data, body.len, &resp, NULL), 200);
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "first")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 17);
    json_decref(j);
    /* a field device pushes too, but may not read */
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->field, "POST", path, body.data, 105, &resp, NULL), 200);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes?since=0", f->cid);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->field, "GET", path, NULL, 0, &resp, NULL), 403);
    /* a viewer reads everything; the leaves rebuild the signed root */
    get_checkpoint(f, &f->viewer, &cp2);
    assert_int_equal(cp2.size, 18);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, &m), 200);
    assert_int_equal(m.first, 0);
    assert_int_equal(m.size, 18);
    unsigned char leaves[18][32];
    size_t off = 0;
    for (int i = 0; i < 18; i++) {
        assert_true(off + 5 <= resp.len);
        size_t len = 5 + (size_t)dft_be_get(resp.data + off + 1, 4);
        crypto_leaf_hash(leaves[i], resp.data + off, len);
        off += len;
    }
    assert_int_equal(off, resp.len);
    /* root by folding: check with the inclusion proof of every leaf */
    for (int i = 0; i < 18; i++) {
        snprintf(path, sizeof path, "/v1/c/%s/proof/inclusion?index=%d&size=18", f->cid, i);
        dft_buf_reset(&resp);
        assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, NULL), 200);
        j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
        json_t *pr = json_object_get(j, "proof");
        unsigned char proof[DFT_TLOG_PROOF_MAX][32];
        size_t k;
        json_t *x;
        json_array_foreach(pr, k, x)
        {
            assert_int_equal(tlog_hash_decode(proof[k], json_string_value(x),
                                              strlen(json_string_value(x)), NULL),
                             DFT_OK);
        }
        assert_int_equal(tlog_verify_inclusion((uint64_t)i, 18, leaves[i],
                                               (const unsigned char(*)[32])proof,
                                               json_array_size(pr), cp2.root, NULL),
                         DFT_OK);
        json_decref(j);
    }
    /* consistency 7 -> 18 */
    snprintf(path, sizeof path, "/v1/c/%s/proof/consistency?old=7&new=18", f->cid);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->field, "GET", path, NULL, 0, &resp, NULL), 200);
    j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
    json_t *pr = json_object_get(j, "proof");
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t k;
    json_t *x;
    json_array_foreach(pr, k, x)
    {
        assert_int_equal(
            tlog_hash_decode(proof[k], json_string_value(x), strlen(json_string_value(x)), NULL),
            DFT_OK);
    }
    assert_int_equal(tlog_verify_consistency(7, 18, cp1.root, cp2.root,
                                             (const unsigned char(*)[32])proof, json_array_size(pr),
                                             NULL),
                     DFT_OK);
    json_decref(j);
    /* a push of something else than envelope entries is refused and stores nothing */
    unsigned char junk[] = {2, 0, 0, 0, 1, 'x'};
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->editor, "POST", path, junk, sizeof junk, &resp, NULL), 400);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->editor, "POST", path, body.data, body.len - 1, &resp, NULL), 400);
    get_checkpoint(f, &f->viewer, &cp2);
    assert_int_equal(cp2.size, 18);
    /* a restart keeps everything acknowledged, and the same root */
    dft_serve_free(f->srv);
    start(f);
    struct dft_checkpoint cp3;
    get_checkpoint(f, &f->viewer, &cp3);
    assert_int_equal(cp3.size, 18);
    assert_memory_equal(cp3.root, cp2.root, 32);
    dft_buf_release(&body);
    dft_buf_release(&resp);
}

static void
test_server__refusals(void **state)
{
    struct fx *f = *state;
    char path[160], url[400];
    struct dft_buf body, resp;
    struct sync_http h;
    struct sync_http_meta m;
    struct httpsig_headers hd;
    entries(&body, 2, 7);
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    assert_int_equal(sync_http_init(&h, f->url, f->editor.pk, sign_dev, &f->editor, NULL), DFT_OK);
    sync_http_url(&h, path, url, sizeof url);
    /* unsigned */
    memset(&hd, 0, sizeof hd);
    httpsig_digest(hd.digest, body.data, body.len);
    assert_int_equal(sync_http_raw(&h, "POST", path, body.data, body.len, &hd, &m, &resp, NULL),
                     DFT_OK);
    assert_int_equal(m.status, 401);
    /* a stranger's key, properly signed */
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->stranger, "POST", path, body.data, body.len, &resp, NULL), 401);
    /* signed by the stranger but naming the editor's key */
    assert_int_equal(httpsig_sign(&hd, "POST", url, body.data, body.len, f->editor.pk, fake_now,
                                  NULL, sign_dev, &f->stranger, NULL),
                     DFT_OK);
    assert_int_equal(sync_http_raw(&h, "POST", path, body.data, body.len, &hd, &m, &resp, NULL),
                     DFT_OK);
    assert_int_equal(m.status, 401);
    /* altered body */
    assert_int_equal(httpsig_sign(&hd, "POST", url, body.data, body.len, f->editor.pk, fake_now,
                                  NULL, sign_dev, &f->editor, NULL),
                     DFT_OK);
    body.data[50] ^= 1;
    assert_int_equal(sync_http_raw(&h, "POST", path, body.data, body.len, &hd, &m, &resp, NULL),
                     DFT_OK);
    assert_int_equal(m.status, 401);
    body.data[50] ^= 1;
    /* the same headers again: the nonce was seen */
    assert_int_equal(sync_http_raw(&h, "POST", path, body.data, body.len, &hd, &m, &resp, NULL),
                     DFT_OK);
    assert_int_equal(m.status, 401);
    /* stale created, either way */
    for (int sign = -1; sign <= 1; sign += 2) {
        assert_int_equal(httpsig_sign(&hd, "POST", url, body.data, body.len, f->editor.pk,
                                      fake_now + sign * 301, NULL, sign_dev, &f->editor, NULL),
                         DFT_OK);
        assert_int_equal(sync_http_raw(&h, "POST", path, body.data, body.len, &hd, &m, &resp, NULL),
                         DFT_OK);
        assert_int_equal(m.status, 401);
    }
    /* a viewer may not push; a field device may not read chunks */
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->viewer, "POST", path, body.data, body.len, &resp, NULL), 403);
    char cpath[200];
    snprintf(cpath, sizeof cpath, "/v1/c/%s/chunks/%064d", f->cid, 0);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->field, "GET", cpath, NULL, 0, &resp, NULL), 403);
    /* a non-owner may not change membership */
    struct dft_buf p;
    struct dev inv;
    dev_new(&inv);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", inv.b64, "role", "owner",
                   "expires", (json_int_t)fake_now + 60),
         &f->editor, &p);
    assert_int_equal(post_op(f, &f->editor, &p), 403);
    /* nothing of the above was stored */
    struct dft_checkpoint cp;
    get_checkpoint(f, &f->viewer, &cp);
    assert_int_equal(cp.size, 7);
    sync_http_release(&h);
    dft_buf_release(&body);
    dft_buf_release(&resp);
}

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* A raw HTTP request with a huge Content-Length: 413 comes back before any body is sent. */
static void
test_server__oversize_refused_before_body(void **state)
{
    struct fx *f = *state;
    char path[160], url[400];
    struct sync_http h;
    struct httpsig_headers hd;
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    assert_int_equal(sync_http_init(&h, f->url, f->editor.pk, sign_dev, &f->editor, NULL), DFT_OK);
    sync_http_url(&h, path, url, sizeof url);
    assert_int_equal(httpsig_sign(&hd, "POST", url, NULL, 0, f->editor.pk, fake_now, NULL, sign_dev,
                                  &f->editor, NULL),
                     DFT_OK);
    /* curl with a read callback that would fail the test if the server asked for the body */
    CURL *c = curl_easy_init();
    struct curl_slist *l = NULL;
    char line[700];
    snprintf(line, sizeof line, "Content-Digest: %s", hd.digest);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "Signature-Input: %s", hd.input);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "Signature: %s", hd.signature);
    l = curl_slist_append(l, line);
    l = curl_slist_append(l, "Expect: 100-continue");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)SYNC_PUSH_MAX + 1);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, NULL);
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 100000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    FILE *null = fopen("/dev/null", "r"); /* reads 0 bytes: a body would never arrive */
    curl_easy_setopt(c, CURLOPT_READDATA, null);
    (void)curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 413);
    fclose(null);
    curl_slist_free_all(l);
    curl_easy_cleanup(c);
    /* a chunk over the chunk cap too */
    snprintf(path, sizeof path, "/v1/c/%s/chunks/%064d", f->cid, 1);
    size_t big = SYNC_CHUNK_MAX + 1;
    unsigned char *b = calloc(1, big);
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 20, 0);
    assert_int_equal(call(f, &f->editor, "PUT", path, b, big, &resp, NULL), 413);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->editor, "PUT", path, b, 1000, &resp, NULL), 200);
    dft_buf_reset(&resp);
    assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, NULL), 200);
    assert_int_equal(resp.len, 1000);
    dft_buf_release(&resp);
    free(b);
    sync_http_release(&h);
}

static void
test_server__burst_gets_429(void **state)
{
    struct fx *f = *state;
    char path[160];
    struct sync_http h;
    struct sync_http_meta m;
    struct dft_buf resp;
    int limited = 0, retry_after = 0;
    snprintf(path, sizeof path, "/v1/c/%s/checkpoint", f->cid);
    assert_int_equal(sync_http_init(&h, f->url, f->viewer.pk, sign_dev, &f->viewer, NULL), DFT_OK);
    h.clock = test_clock;
    dft_buf_init(&resp, 1 << 20, 0);
    for (int i = 0; i < 2000; i++) {
        dft_buf_reset(&resp);
        assert_int_equal(sync_http_raw(&h, "GET", path, NULL, 0, NULL, &m, &resp, NULL), DFT_OK);
        if (m.status == 429) {
            limited++;
            retry_after += m.retry_after >= 1;
        } else {
            assert_int_equal(m.status, 200);
        }
    }
    assert_true(limited > 0);
    assert_int_equal(retry_after, limited);
    dft_buf_release(&resp);
    sync_http_release(&h);
}

static void
test_server__membership_chain_rules(void **state)
{
    struct fx *f = *state;
    struct dft_buf p;
    struct dev inv, d2, d3;
    dev_new(&d2);
    dev_new(&d3);
    /* a reused invite */
    assert_int_equal(invite_join(f, &d2, "editor", fake_now + 60, &inv), 200);
    char xk[64];
    b64(xk, d3.xpk, 32);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "join", "key", d3.b64, "xkey", xk, "role",
                   "editor", "invite", inv.b64),
         &inv, &p);
    assert_int_equal(post_op(f, &d3, &p), 409);
    /* an expired invite (server clock) */
    assert_int_equal(invite_join(f, &d3, "viewer", fake_now - 1, NULL), 409);
    /* a join claiming another role than the invite's */
    struct dev inv2;
    dev_new(&inv2);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", inv2.b64, "role", "field",
                   "expires", (json_int_t)fake_now + 60),
         &f->owner, &p);
    assert_int_equal(post_op(f, &f->owner, &p), 200);
    seal(f,
         json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "join", "key", d3.b64, "xkey", xk, "role",
                   "owner", "invite", inv2.b64),
         &inv2, &p);
    assert_int_equal(post_op(f, &d3, &p), 409);
    /* a forged op: right shape, signature by another key than "by" */
    seal(f,
         json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", d3.b64, "role", "owner",
                   "expires", (json_int_t)fake_now + 60),
         &f->owner, &p);
    p.data[p.len - 1] ^= 1;
    assert_int_equal(post_op(f, &f->owner, &p), 400);
    /* an op replayed out of sequence (stale prev) */
    struct member_chain saved = f->chain;
    saved.seq--;
    json_t *op =
        json_pack("{s:s,s:s,s:s}", "action", "revoke", "key", f->editor.b64, "by", f->owner.b64);
    dft_buf_init(&p, 1 << 20, 0);
    assert_int_equal(member_seal_op(&saved, op, sign_dev, &f->owner, &p, NULL), DFT_OK);
    json_decref(op);
    assert_int_equal(post_op(f, &f->owner, &p), 409);
    /* client-side replay agrees: every op of the server's chain applies from genesis */
    char path[128];
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 22, 0);
    snprintf(path, sizeof path, "/v1/c/%s/members", f->cid);
    assert_int_equal(call(f, &f->field, "GET", path, NULL, 0, &resp, NULL), 200);
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
    struct member_chain c;
    member_chain_init(&c, f->cid);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(j, "ops"), i, x)
    {
        unsigned char buf[1 << 14];
        size_t n = 0;
        const char *s = json_string_value(json_object_get(x, "op"));
        assert_int_equal(dft_b64_decode(buf, sizeof buf, &n, s, strlen(s)), DFT_OK);
        assert_int_equal(member_apply(&c, buf, n,
                                      (uint64_t)json_integer_value(json_object_get(x, "index")), 0,
                                      NULL, NULL),
                         DFT_OK);
    }
    assert_int_equal(c.seq, f->chain.seq);
    assert_int_equal(member_author_ok(&c, d2.pk, 1000), 0);
    assert_int_equal(member_author_ok(&c, f->viewer.pk, 1000), 1);
    assert_int_equal(member_author_ok(&c, d3.pk, 1000), 1);
    member_chain_release(&c);
    json_decref(j);
    dft_buf_release(&resp);
}

struct waiter {
    struct fx *f;
    long status;
};

static void *
wait_pull(void *arg)
{
    struct waiter *w = arg;
    char path[160];
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes?since=1000&wait=20", w->f->cid);
    struct sync_http h;
    struct sync_http_meta m;
    if (sync_http_init(&h, w->f->url, w->f->viewer.pk, sign_dev, &w->f->viewer, NULL) != DFT_OK) {
        return NULL;
    }
    h.clock = test_clock;
    if (sync_http_raw(&h, "GET", path, NULL, 0, NULL, &m, &resp, NULL) == DFT_OK) {
        w->status = m.status;
    } else {
        w->status = -1; /* connection cut */
    }
    sync_http_release(&h);
    dft_buf_release(&resp);
    return NULL;
}

static void
test_server__revocation_cuts_a_waiting_pull(void **state)
{
    struct fx *f = *state;
    struct waiter w = {f, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_pull, &w), 0);
    usleep(300000); /* let it start waiting (correctness does not depend on it) */
    struct dft_buf p;
    seal(f,
         json_pack("{s:s,s:s,s:I}", "action", "revoke", "key", f->viewer.b64, "since_index",
                   (json_int_t)3),
         &f->owner, &p);
    assert_int_equal(post_op(f, &f->owner, &p), 200);
    pthread_join(t, NULL);
    assert_true(w.status == 401 || w.status == -1);
    /* and the key is refused from now on */
    char path[160];
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 20, 0);
    snprintf(path, sizeof path, "/v1/c/%s/checkpoint", f->cid);
    assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, NULL), 401);
    dft_buf_release(&resp);
    /* the chain holds entries of the revoked key from since_index to the revocation */
    assert_int_equal(member_author_ok(&f->chain, f->editor.pk, 8), 0);
}

static void
test_server__reseed_copies_the_log(void **state)
{
    struct fx *f = *state;
    char path[160];
    struct dft_buf body, resp, log;
    struct dft_checkpoint cp;
    entries(&body, 5, 3);
    dft_buf_init(&resp, 1 << 20, 0);
    dft_buf_init(&log, 1 << 24, 0);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    assert_int_equal(call(f, &f->editor, "POST", path, body.data, body.len, &resp, NULL), 200);
    get_checkpoint(f, &f->viewer, &cp);
    snprintf(path, sizeof path, "/v1/c/%s/envelopes?since=0", f->cid);
    assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &log, NULL), 200);
    /* a second, empty server */
    struct fx g = *f;
    assert_true(strlen(f->dir) < sizeof g.dir - 8);
    memcpy(g.dir + strlen(f->dir), "/second", 8);
    g.srv = NULL;
    start(&g);
    /* a stranger may not re-seed it; a member may, once */
    dft_buf_reset(&resp);
    assert_int_equal(
        call(&g, &f->stranger, "POST", "/v1/collections?reseed=1", log.data, log.len, &resp, NULL),
        403);
    dft_buf_reset(&resp);
    assert_int_equal(
        call(&g, &f->viewer, "POST", "/v1/collections?reseed=1", log.data, 3, &resp, NULL), 400);
    /* a log whose membership entries were tampered with is refused */
    unsigned char *bad = malloc(log.len);
    memcpy(bad, log.data, log.len);
    bad[40] ^= 1; /* inside the genesis JSON */
    dft_buf_reset(&resp);
    assert_int_not_equal(
        call(&g, &f->viewer, "POST", "/v1/collections?reseed=1", bad, log.len, &resp, NULL), 201);
    free(bad);
    dft_buf_reset(&resp);
    assert_int_equal(
        call(&g, &f->viewer, "POST", "/v1/collections?reseed=1", log.data, log.len, &resp, NULL),
        201);
    dft_buf_reset(&resp);
    assert_int_equal(
        call(&g, &f->viewer, "POST", "/v1/collections?reseed=1", log.data, log.len, &resp, NULL),
        409);
    /* the same tree under another key: equal root at equal size */
    struct dft_checkpoint cp2;
    get_checkpoint(&g, &f->viewer, &cp2);
    assert_int_equal(cp2.size, cp.size);
    assert_memory_equal(cp2.root, cp.root, 32);
    assert_string_not_equal(g.vkey, f->vkey);
    /* and it works as a server: the editor pushes on */
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", f->cid);
    dft_buf_reset(&resp);
    assert_int_equal(call(&g, &f->editor, "POST", path, body.data, body.len, &resp, NULL), 200);
    dft_serve_free(g.srv);
    dft_buf_release(&body);
    dft_buf_release(&resp);
    dft_buf_release(&log);
}

struct pusher {
    struct fx *f;
    int stop;
    uint64_t acked_end; /* end of the last acknowledged push (entries below are durable) */
    uint64_t acked_first[4096];
    int acked_tag[4096];
    int nacked;
};

static void *
push_loop(void *arg)
{
    struct pusher *p = arg;
    char path[160];
    struct dft_buf body, resp;
    struct sync_http h;
    struct sync_http_meta m;
    snprintf(path, sizeof path, "/v1/c/%s/envelopes", p->f->cid);
    if (sync_http_init(&h, p->f->url, p->f->editor.pk, sign_dev, &p->f->editor, NULL) != DFT_OK) {
        return NULL;
    }
    h.clock = test_clock;
    dft_buf_init(&resp, 1 << 16, 0);
    for (int i = 0; !__atomic_load_n(&p->stop, __ATOMIC_SEQ_CST) && i < 4096; i++) {
        entries(&body, 3, i & 0x7f);
        dft_buf_reset(&resp);
        if (sync_http_raw(&h, "POST", path, body.data, body.len, NULL, &m, &resp, NULL) == DFT_OK &&
            m.status == 200) {
            json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
            uint64_t first = (uint64_t)json_integer_value(json_object_get(j, "first"));
            json_decref(j);
            p->acked_first[p->nacked] = first;
            p->acked_tag[p->nacked] = i & 0x7f;
            __atomic_store_n(&p->nacked, p->nacked + 1, __ATOMIC_SEQ_CST);
            if (first + 3 > p->acked_end) {
                p->acked_end = first + 3;
            }
        } else {
            dft_buf_release(&body);
            break; /* the server is gone */
        }
        dft_buf_release(&body);
    }
    dft_buf_release(&resp);
    sync_http_release(&h);
    return NULL;
}

static void
test_server__kill9_loses_nothing_acknowledged(void **state)
{
    struct fx *f = fx_new();
    *state = f;
    if (access(defter_bin, X_OK) != 0) {
        skip();
    }
    fake_now = (int64_t)time(NULL); /* the child serves on the real clock */
    spawn(f);
    collection(f);
    struct pusher p;
    memset(&p, 0, sizeof p);
    p.f = f;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_loop, &p), 0);
    /* wait for some acknowledged pushes and a checkpoint over them, then kill -9 mid-push */
    struct dft_checkpoint before;
    while (__atomic_load_n(&p.nacked, __ATOMIC_SEQ_CST) < 20) {
        usleep(1000);
    }
    get_checkpoint(f, &f->viewer, &before);
    kill(f->child, SIGKILL);
    waitpid(f->child, NULL, 0);
    f->child = 0;
    __atomic_store_n(&p.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    /* restart on the same data: every acknowledged push is there, in place */
    start(f);
    struct dft_checkpoint after;
    get_checkpoint(f, &f->viewer, &after);
    assert_true(after.size >= p.acked_end);
    assert_true(after.size >= before.size);
    char path[200];
    struct dft_buf resp;
    dft_buf_init(&resp, 1 << 24, 0);
    snprintf(path, sizeof path, "/v1/c/%s/proof/consistency?old=%llu&new=%llu", f->cid,
             (unsigned long long)before.size, (unsigned long long)after.size);
    assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, NULL), 200);
    json_t *j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t k;
    json_t *x;
    json_array_foreach(json_object_get(j, "proof"), k, x)
    {
        assert_int_equal(
            tlog_hash_decode(proof[k], json_string_value(x), strlen(json_string_value(x)), NULL),
            DFT_OK);
    }
    assert_int_equal(tlog_verify_consistency(before.size, after.size, before.root, after.root,
                                             (const unsigned char(*)[32])proof,
                                             json_array_size(json_object_get(j, "proof")), NULL),
                     DFT_OK);
    json_decref(j);
    for (int i = 0; i < p.nacked; i++) {
        struct sync_http_meta m;
        dft_buf_reset(&resp);
        snprintf(path, sizeof path, "/v1/c/%s/envelopes?since=%llu&limit=3", f->cid,
                 (unsigned long long)p.acked_first[i]);
        assert_int_equal(call(f, &f->viewer, "GET", path, NULL, 0, &resp, &m), 200);
        assert_int_equal(resp.len, 3 * 105);
        for (int e = 0; e < 3; e++) {
            assert_int_equal(resp.data[e * 105 + 5 + 50], (unsigned char)(p.acked_tag[i] + e));
        }
    }
    dft_buf_release(&resp);
}

int
main(int argc, char **argv)
{
    (void)argc;
    if (sodium_init() < 0) {
        return 1;
    }
    /* build/V/tests/sync/test_server -> build/V/defter */
    snprintf(defter_bin, sizeof defter_bin, "%s", argv[0]);
    char *slash = strrchr(defter_bin, '/');
    if (slash != NULL) {
        snprintf(slash, (size_t)(defter_bin + sizeof defter_bin - slash), "/../../defter");
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server__push_pull_and_proofs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server__refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server__oversize_refused_before_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server__burst_gets_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server__membership_chain_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server__revocation_cuts_a_waiting_pull, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server__reseed_copies_the_log, setup, teardown),
        cmocka_unit_test_teardown(test_server__kill9_loses_nothing_acknowledged, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
