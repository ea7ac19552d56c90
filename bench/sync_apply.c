/*
 * sync_apply.c - the vault's side of team sync at N records: a member pulls and merges another
 * member's history (wire entries opened, checked, stored, merged view built), beside the author
 * committing the same operations locally; then the cost of one more pulled entry, which rebuilds
 * the merged view in full, and of verify on the merged vault.
 *
 * Usage: sync_apply [N] (default 10000 records, in batches of 100, plus N/10 single edits).
 * Prints figures, never pass/fail; no server (entries pass through memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bench.h"
#include "defter/vault_sync.h"
#include "defter/vault.h"

struct server {
    struct dft_sync_entry *e;
    size_t n, cap;
    struct dft_vault *v;
};

static int
push_one(void *ctx, uint64_t local_index, const unsigned char *body, size_t n)
{
    struct server *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->e = realloc(s->e, s->cap * sizeof *s->e);
    }
    unsigned char *copy = malloc(n);
    if (s->e == NULL || copy == NULL) {
        abort();
    }
    memcpy(copy, body, n);
    s->e[s->n].index = s->n;
    s->e[s->n].body = copy;
    s->e[s->n].len = n;
    if (dft_vault_sync_acked(s->v, local_index, s->n, NULL) != DFT_OK) {
        abort();
    }
    s->n++;
    return 0;
}

static int
anyone(void *ctx, const unsigned char author[32], uint64_t index)
{
    (void)ctx;
    (void)author;
    (void)index;
    return 0;
}

static void
check(enum dft_err rc, const struct dft_error *err, const char *what)
{
    if (rc != DFT_OK) {
        fprintf(stderr, "sync_apply: %s: %s\n", what, err->msg);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    static const char pass[] = "bench";
    char root[] = "/tmp/dft-sync-bench-XXXXXX";
    char a_dir[64], b_dir[64];
    struct dft_error err = {0};
    struct dft_vault *a = NULL, *b = NULL;
    if (sodium_init() < 0 || mkdtemp(root) == NULL || n < 100) {
        return 1;
    }
    snprintf(a_dir, sizeof a_dir, "%s/a", root);
    snprintf(b_dir, sizeof b_dir, "%s/b", root);
    check(dft_vault_create(a_dir, pass, 5, DFT_KDF_INTERACTIVE, &err), &err, "create");
    check(dft_vault_create(b_dir, pass, 5, DFT_KDF_INTERACTIVE, &err), &err, "create");
    check(dft_vault_open(&a, a_dir, pass, 5, &err), &err, "open");
    check(dft_vault_open(&b, b_dir, pass, 5, &err), &err, "open");
    struct dft_sync_keyring ring = {1, sodium_malloc(sizeof(struct dft_sync_epoch))};
    memset(ring.epochs, 0, sizeof *ring.epochs);
    ring.epochs->epoch = 1;
    ring.epochs->has_secret = 1;
    randombytes_buf(ring.epochs->ck, 32);
    crypto_box_keypair(ring.epochs->drop_pk, ring.epochs->drop_sk);
    check(dft_vault_sync_keys_put(a, &ring, &err), &err, "keys");
    check(dft_vault_sync_keys_put(b, &ring, &err), &err, "keys");

    /* the author commits locally: batches of 100 records, then single edits */
    size_t edits = n / 10, ops = 0;
    json_t *ids = json_array();
    double t0 = bench_now();
    for (size_t i = 0; i < n; i += 100) {
        json_t *batch = json_array(), *got = NULL;
        for (size_t k = i; k < i + 100 && k < n; k++) {
            char name[64];
            snprintf(name, sizeof name, "Person %zu Kurtseitov", k);
            json_array_append_new(batch, json_pack("{ssssss}", "type", "person", "name", name,
                                                   "summary", "Detained after a search"));
            ops++;
        }
        check(dft_vault_add(a, batch, &got, &err), &err, "add");
        json_array_extend(ids, got);
        json_decref(got);
        json_decref(batch);
    }
    for (size_t i = 0; i < edits; i++) {
        json_t *f = json_pack("{ss}", "summary", "Released");
        check(dft_vault_edit(a, json_string_value(json_array_get(ids, (i * 7919) % n)), f, &err),
              &err, "edit");
        json_decref(f);
        ops++;
    }
    double t_local = bench_now() - t0;
    struct server s = {NULL, 0, 0, a};
    t0 = bench_now();
    check(dft_vault_sync_outbox(a, &ring, (size_t)-1, push_one, &s, &err), &err, "outbox");
    double t_out = bench_now() - t0;

    /* a member pulls it all in one call */
    json_t *report = NULL;
    t0 = bench_now();
    double c0 = bench_cpu();
    check(dft_vault_sync_apply(b, s.e, s.n, &ring, anyone, NULL, &report, &err), &err, "apply");
    double t_apply = bench_now() - t0, c_apply = bench_cpu() - c0;
    json_decref(report);

    /* one more entry: the merged view is rebuilt in full */
    json_t *f = json_pack("{ss}", "summary", "Sentenced");
    check(dft_vault_edit(a, json_string_value(json_array_get(ids, 0)), f, &err), &err, "edit");
    json_decref(f);
    size_t before = s.n;
    check(dft_vault_sync_outbox(a, &ring, (size_t)-1, push_one, &s, &err), &err, "outbox");
    t0 = bench_now();
    check(dft_vault_sync_apply(b, s.e + before, s.n - before, &ring, anyone, NULL, &report, &err),
          &err, "apply");
    double t_one = bench_now() - t0;
    json_decref(report);

    /* a local edit on the merged vault (parents from the merged history) */
    f = json_pack("{ss}", "summary", "Appealed");
    t0 = bench_now();
    check(dft_vault_edit(b, json_string_value(json_array_get(ids, 1)), f, &err), &err, "edit");
    double t_edit = bench_now() - t0;
    json_decref(f);

    /* B's edit is not pushed: a pulled entry now lands before it, the view is rebuilt in full */
    f = json_pack("{ss}", "summary", "Transferred");
    check(dft_vault_edit(a, json_string_value(json_array_get(ids, 2)), f, &err), &err, "edit");
    json_decref(f);
    before = s.n;
    check(dft_vault_sync_outbox(a, &ring, (size_t)-1, push_one, &s, &err), &err, "outbox");
    t0 = bench_now();
    check(dft_vault_sync_apply(b, s.e + before, s.n - before, &ring, anyone, NULL, &report, &err),
          &err, "apply");
    double t_full = bench_now() - t0;
    json_decref(report);

    t0 = bench_now();
    check(dft_vault_verify(b, 0, &report, &err), &err, "verify");
    double t_verify = bench_now() - t0;
    json_decref(report);
    t0 = bench_now();
    check(dft_vault_verify(a, 0, &report, &err), &err, "verify");
    double t_verify_a = bench_now() - t0;
    json_decref(report);

    printf("records %zu, operations %zu, entries %zu\n", n, ops, s.n);
    printf("author commits locally:   %.2f s  %8.0f ops/s (peer)\n", t_local,
           (double)ops / t_local);
    printf("outbox (re-seal for wire): %.3f s %8.0f entries/s\n", t_out, (double)before / t_out);
    printf("member pulls and merges:  %.2f s  %8.0f ops/s  %6.0f entries/s  (cpu %.2f s)\n",
           t_apply, (double)ops / t_apply, (double)before / t_apply, c_apply);
    printf("one more pulled entry, appended to the view at %zu records: %.3f s\n", n, t_one);
    printf("one more pulled entry before a local unpushed edit (full rebuild): %.3f s\n", t_full);
    printf("one local edit on the merged vault: %.4f s\n", t_edit);
    printf("verify merged vault: %.2f s, beside the author's unmerged verify: %.2f s\n", t_verify,
           t_verify_a);
    for (size_t i = 0; i < s.n; i++) {
        free((void *)(uintptr_t)s.e[i].body);
    }
    free(s.e);
    json_decref(ids);
    dft_vault_close(a);
    dft_vault_close(b);
    dft_sync_keyring_free(&ring);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : 1;
}
