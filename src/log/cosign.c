/*
 * cosign.c - gathering witness cosignatures over HTTP (c2sp.org/tlog-witness add-checkpoint)
 * with one libcurl multi handle: every witness is asked at once, and those that answer 409
 * are asked once more, at once, from the size they returned.
 *
 * It must never count an answer it did not verify under the witness's own key, never follow
 * redirects, and never send anything but the checkpoint and its consistency proof.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log/cosign.h"
#include "log/witness_req.h"

#define ANSWER_MAX (64u * 1024u)

struct xfer {
    struct cosign_target *t;
    CURL *easy;
    struct curl_slist *headers;
    struct dft_buf body;   /* the request */
    struct dft_buf answer; /* the response, capped */
    int too_large;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (dft_buf_add(&x->answer, p, n) != DFT_OK) {
        x->too_large = 1;
        return 0; /* abort the transfer */
    }
    return n;
}

static void set_msg(struct cosign_target *t, enum cosign_result r, const char *fmt, ...)
    DFT_PRINTF(3, 4);

static void
set_msg(struct cosign_target *t, enum cosign_result r, const char *fmt, ...)
{
    va_list ap;
    t->result = r;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
}

/* The first line of an answer, printable ASCII only, for messages. */
static void
first_line(const struct dft_buf *b, char out[96])
{
    size_t i = 0;
    for (; i < b->len && i < 95 && b->data[i] != '\n'; i++) {
        unsigned char c = b->data[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[i] = '\0';
}

/* Check a 200 answer: a cosignature line by t->key that verifies over text. */
static void
check_cosignature(struct cosign_target *t, const char *text, size_t text_len,
                  const struct dft_buf *answer, uint64_t size)
{
    struct dft_buf m;
    struct dft_note n;
    struct dft_note_check chk;
    dft_buf_init(&m, DFT_NOTE_MAX_BYTES + ANSWER_MAX, 0);
    if (answer->len == 0 || dft_buf_add(&m, text, text_len) != DFT_OK ||
        dft_buf_add(&m, "\n", 1) != DFT_OK ||
        dft_buf_add(&m, answer->data, answer->len) != DFT_OK ||
        note_parse(&n, (const char *)m.data, m.len, NULL) != DFT_OK) {
        set_msg(t, COSIGN_FAILED, "answered 200 without cosignature lines");
        dft_buf_release(&m);
        return;
    }
    if (note_verify(&n, t->key, 1, &chk, NULL) != DFT_OK || !chk.verified) {
        set_msg(t, COSIGN_FAILED,
                "answered 200 but with no valid cosignature by its key '%s' (wrong key?)",
                t->key->name);
    } else if (chk.timestamp == 0) {
        set_msg(t, COSIGN_FAILED, "answered a cosignature without a time");
    } else {
        const struct dft_note_sig *s = &n.sigs[chk.sig_index];
        if (s->line_len < sizeof t->line) {
            memcpy(t->line, s->line, s->line_len);
            t->line[s->line_len] = '\0';
            t->result = COSIGN_OK;
            t->timestamp = chk.timestamp;
            t->witness_size = size;
            t->size_known = 1;
            t->msg[0] = '\0';
        } else {
            set_msg(t, COSIGN_FAILED, "answered an oversized cosignature line");
        }
    }
    note_release(&n);
    dft_buf_release(&m);
}

static void
xfer_release(struct xfer *x)
{
    if (x->easy != NULL) {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    dft_buf_release(&x->body);
    dft_buf_release(&x->answer);
    memset(x, 0, sizeof *x);
}

static enum dft_err
xfer_prepare(struct xfer *x, struct cosign_target *t, uint64_t old, const char *note,
             size_t note_len, uint64_t size, cosign_proof_fn proof, void *ctx, long timeout_ms,
             struct dft_error *err)
{
    unsigned char hashes[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t nh = 0;
    char url[1200];
    enum dft_err rc = DFT_OK;
    memset(x, 0, sizeof *x);
    x->t = t;
    dft_buf_init(&x->body, WITNESS_BODY_MAX, 0);
    dft_buf_init(&x->answer, ANSWER_MAX, 0);
    if (old > 0 && old < size && (rc = proof(ctx, old, size, hashes, &nh, err)) != DFT_OK) {
        return rc;
    }
    if ((rc = witness_req_format(&x->body, old, (const unsigned char(*)[32])hashes, nh, note,
                                 note_len, err)) != DFT_OK) {
        return rc;
    }
    int un = snprintf(url, sizeof url, "%s/add-checkpoint", t->url);
    x->easy = curl_easy_init();
    x->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
    if (un < 0 || (size_t)un >= sizeof url || x->easy == NULL || x->headers == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot prepare the request to witness '%s'",
                        t->key->name);
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body.data);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "defter-witness-client/1");
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    return DFT_OK;
}

/* Run the prepared transfers to completion; results land in each xfer. */
static void
run_all(CURLM *m, struct xfer *xs, size_t n, CURLcode *codes)
{
    for (size_t i = 0; i < n; i++) {
        codes[i] = CURLE_OK;
        if (xs[i].easy != NULL) {
            curl_multi_add_handle(m, xs[i].easy);
        }
    }
    int running = 0;
    do {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            break;
        }
        if (running > 0) {
            (void)curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
    } while (running > 0);
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            struct xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (x != NULL) {
                codes[x - xs] = msg->data.result;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (xs[i].easy != NULL) {
            curl_multi_remove_handle(m, xs[i].easy);
        }
    }
}

enum dft_err
cosign_gather(const char *note, size_t note_len, struct cosign_target *targets, size_t n,
              cosign_proof_fn proof, void *ctx, long timeout_ms, struct dft_error *err)
{
    struct dft_note parsed;
    struct dft_checkpoint c;
    struct xfer *xs = NULL;
    CURLcode *codes = NULL;
    CURLM *m = NULL;
    uint64_t *old = NULL;
    int curl_ready = 0;
    enum dft_err rc = note_parse(&parsed, note, note_len, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = witness_checkpoint_head(&c, parsed.text, parsed.text_len, err)) != DFT_OK) {
        goto out;
    }
    xs = calloc(n + 1, sizeof *xs);
    codes = calloc(n + 1, sizeof *codes);
    old = calloc(n + 1, sizeof *old);
    if (xs == NULL || codes == NULL || old == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot start the HTTP client");
        goto out;
    }
    curl_ready = 1;
    if ((m = curl_multi_init()) == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot start the HTTP client");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct cosign_target *t = &targets[i];
        t->result = COSIGN_FAILED;
        t->http = 0;
        t->size_known = 0;
        t->line[0] = '\0';
        snprintf(t->msg, sizeof t->msg, "not asked");
        old[i] = t->last_size;
    }
    for (int round = 0; round < 2; round++) {
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            struct cosign_target *t = &targets[i];
            if (round == 1 && !(t->http == 409 && t->result == COSIGN_FAILED && t->size_known &&
                                t->witness_size <= c.size)) {
                continue;
            }
            if (round == 1) {
                old[i] = t->witness_size;
            }
            if (old[i] > c.size) {
                set_msg(t, COSIGN_FORK,
                        "the witness holds size %llu, larger than this log's: the log was "
                        "rolled back or forked",
                        (unsigned long long)old[i]);
                continue;
            }
            if ((rc = xfer_prepare(&xs[i], t, old[i], note, note_len, c.size, proof, ctx,
                                   timeout_ms, err)) != DFT_OK) {
                goto out;
            }
            any = 1;
        }
        if (!any) {
            break;
        }
        run_all(m, xs, n, codes);
        for (size_t i = 0; i < n; i++) {
            struct xfer *x = &xs[i];
            struct cosign_target *t = &targets[i];
            char line[96];
            if (x->easy == NULL) {
                continue;
            }
            t->http = 0;
            if (codes[i] != CURLE_OK) {
                set_msg(t, COSIGN_FAILED, "cannot reach the witness: %s",
                        x->too_large ? "answer too large" : curl_easy_strerror(codes[i]));
                xfer_release(x);
                continue;
            }
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &t->http);
            first_line(&x->answer, line);
            if (t->http == 200) {
                check_cosignature(t, parsed.text, parsed.text_len, &x->answer, c.size);
            } else if (t->http == 409) {
                uint64_t s = 0;
                size_t l = x->answer.len;
                if (l >= 2 && x->answer.data[l - 1] == '\n' &&
                    witness_parse_size((const char *)x->answer.data, l - 1, &s) == 0) {
                    t->witness_size = s;
                    t->size_known = 1;
                    if (s > c.size) {
                        set_msg(t, COSIGN_FORK,
                                "the witness holds size %llu, larger than this log's: the log "
                                "was rolled back or forked",
                                (unsigned long long)s);
                    } else {
                        set_msg(t, COSIGN_FAILED,
                                "answered 409 twice (the witness moved to size %llu)",
                                (unsigned long long)s);
                    }
                } else {
                    set_msg(t, COSIGN_FAILED, "answered 409 without a size");
                }
            } else if (t->http == 422) {
                set_msg(t, COSIGN_FORK, "refused the checkpoint as inconsistent (422): %.90s",
                        line);
            } else {
                snprintf(t->msg, sizeof t->msg, "answered HTTP %ld: %.90s", t->http, line);
                t->result = COSIGN_FAILED;
            }
            xfer_release(x);
        }
    }
out:
    if (xs != NULL) {
        for (size_t i = 0; i < n; i++) {
            xfer_release(&xs[i]);
        }
    }
    if (m != NULL) {
        curl_multi_cleanup(m);
    }
    if (curl_ready) {
        curl_global_cleanup();
    }
    free(xs);
    free(codes);
    free(old);
    note_release(&parsed);
    return rc;
}
