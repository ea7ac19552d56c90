/*
 * test_member.c - the membership chain (src/sync/member.c) on its own: a valid chain of every
 * action, and each refusal leaving the chain unchanged: forged signature, wrong signer, seq and
 * prev out of order, another collection, a collection id not derived from the genesis, reused
 * and expired invites, a join claiming another role, an epoch not sealed to exactly the
 * readers, an owner revoking itself; then who may write at which log index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "sync/member.h"

struct dev {
    unsigned char pk[32], sk[64], xpk[32], xsk[32];
    char b64[64], x64[64];
};

static struct dev owner, editor, field, inv1, inv2, stranger;
static char cid[33];
static unsigned char nonce[32];

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
    dft_b64_encode(d->x64, d->xpk, 32);
}

static json_t *
sealed(const struct dev *const *ds, size_t n)
{
    json_t *o = json_object();
    unsigned char box[MEMBER_SEALED_BYTES] = {0};
    char b[200];
    dft_b64_encode(b, box, sizeof box);
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(o, ds[i]->b64, json_string(b));
    }
    return o;
}

/* op signed by signer (its "by"), applied at index; returns the result, chain unchanged on
 * failure (checked). */
static enum dft_err
apply(struct member_chain *c, json_t *op, const struct dev *by, const struct dev *signer,
      uint64_t index, int64_t now)
{
    struct dft_buf b;
    dft_buf_init(&b, 1 << 20, 0);
    json_object_set_new(op, "by", json_string(by->b64));
    assert_int_equal(member_seal_op(c, op, sign_dev, (void *)(uintptr_t)signer, &b, NULL), DFT_OK);
    json_decref(op);
    uint64_t seq = c->seq;
    size_t n = c->n, ni = c->ni;
    uint32_t epoch = c->epoch;
    enum dft_err rc = member_apply(c, b.data, b.len, index, now, NULL, NULL);
    if (rc != DFT_OK) {
        assert_int_equal(c->seq, seq);
        assert_int_equal(c->n, n);
        assert_int_equal(c->ni, ni);
        assert_int_equal(c->epoch, epoch);
    }
    dft_buf_release(&b);
    return rc;
}

static json_t *
genesis(void)
{
    const struct dev *r[] = {&owner};
    char nk[64];
    dft_b64_encode(nk, nonce, 32);
    return json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "action", "genesis", "key", owner.b64, "xkey",
                     owner.x64, "epoch", 0, "drop", owner.x64, "nonce", nk, "sealed", sealed(r, 1));
}

static json_t *
invite(const struct dev *i, const char *role, int64_t expires)
{
    return json_pack("{s:s,s:s,s:s,s:I}", "action", "invite", "invite", i->b64, "role", role,
                     "expires", (json_int_t)expires);
}

static json_t *
join(const struct dev *d, const struct dev *i, const char *role)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "join", "key", d->b64, "xkey", d->x64,
                     "role", role, "invite", i->b64);
}

static void
test_member__genesis_rules(void **state)
{
    (void)state;
    struct member_chain c;
    member_chain_init(&c, "00000000000000000000000000000000");
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 0, 0), DFT_ERR_INTEGRITY);
    member_chain_release(&c);
    member_chain_init(&c, cid);
    /* signed by another key than "by" */
    assert_int_equal(apply(&c, genesis(), &owner, &stranger, 0, 0), DFT_ERR_INTEGRITY);
    /* an invite before any genesis */
    assert_int_equal(apply(&c, invite(&inv1, "editor", 10), &owner, &owner, 0, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 0, 0), DFT_OK);
    assert_int_equal(c.seq, 1);
    /* a second genesis */
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 1, 0), DFT_ERR_INTEGRITY);
    member_chain_release(&c);
}

static void
test_member__invites_and_joins(void **state)
{
    (void)state;
    struct member_chain c;
    member_chain_init(&c, cid);
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 0, 0), DFT_OK);
    /* only an owner invites */
    assert_int_equal(apply(&c, invite(&inv1, "editor", 1000), &stranger, &stranger, 1, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c, invite(&inv1, "editor", 1000), &owner, &owner, 1, 0), DFT_OK);
    /* a join not signed by the invite key, or claiming another role */
    assert_int_equal(apply(&c, join(&editor, &inv1, "editor"), &inv1, &stranger, 2, 500),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c, join(&editor, &inv1, "owner"), &inv1, &inv1, 2, 500),
                     DFT_ERR_INTEGRITY);
    /* expired by the server's clock; clients replaying (now 0) do not check time */
    assert_int_equal(apply(&c, join(&editor, &inv1, "editor"), &inv1, &inv1, 2, 1001),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c, join(&editor, &inv1, "editor"), &inv1, &inv1, 2, 1000), DFT_OK);
    /* one use */
    assert_int_equal(apply(&c, join(&field, &inv1, "editor"), &inv1, &inv1, 3, 0),
                     DFT_ERR_INTEGRITY);
    /* an invite key used before is refused as a new invite */
    assert_int_equal(apply(&c, invite(&inv1, "viewer", 1000), &owner, &owner, 3, 0),
                     DFT_ERR_INTEGRITY);
    /* an editor is no owner */
    assert_int_equal(apply(&c, invite(&inv2, "field", 1000), &editor, &editor, 3, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c, invite(&inv2, "field", 1000), &owner, &owner, 3, 0), DFT_OK);
    assert_int_equal(apply(&c, join(&field, &inv2, "field"), &inv2, &inv2, 4, 0), DFT_OK);
    assert_int_equal(c.n, 3);
    json_t *list = member_list_json(&c);
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);
    member_chain_release(&c);
}

static void
test_member__order_and_collection(void **state)
{
    (void)state;
    struct member_chain c, other;
    struct dft_buf b;
    member_chain_init(&c, cid);
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 0, 0), DFT_OK);
    /* sealed against a stale copy of the chain: seq and prev do not follow */
    struct member_chain stale = c;
    stale.seq = 0;
    dft_buf_init(&b, 1 << 20, 0);
    json_t *op = invite(&inv1, "viewer", 10);
    json_object_set_new(op, "by", json_string(owner.b64));
    assert_int_equal(member_seal_op(&stale, op, sign_dev, &owner, &b, NULL), DFT_OK);
    json_decref(op);
    assert_int_equal(member_apply(&c, b.data, b.len, 1, 0, NULL, NULL), DFT_ERR_INTEGRITY);
    dft_buf_release(&b);
    /* an operation of another collection */
    member_chain_init(&other, "ffffffffffffffffffffffffffffffff");
    other.seq = c.seq;
    memcpy(other.last, c.last, 32);
    dft_buf_init(&b, 1 << 20, 0);
    op = invite(&inv1, "viewer", 10);
    json_object_set_new(op, "by", json_string(owner.b64));
    assert_int_equal(member_seal_op(&other, op, sign_dev, &owner, &b, NULL), DFT_OK);
    json_decref(op);
    assert_int_equal(member_apply(&c, b.data, b.len, 1, 0, NULL, NULL), DFT_ERR_INTEGRITY);
    /* truncated and bit-flipped payloads */
    assert_int_equal(member_apply(&c, b.data, b.len - 1, 1, 0, NULL, NULL), DFT_ERR_INPUT);
    b.data[10] ^= 1;
    assert_int_not_equal(member_apply(&c, b.data, b.len, 1, 0, NULL, NULL), DFT_OK);
    dft_buf_release(&b);
    assert_int_equal(c.seq, 1);
    member_chain_release(&c);
}

static void
test_member__epochs_and_revocation(void **state)
{
    (void)state;
    struct member_chain c;
    member_chain_init(&c, cid);
    assert_int_equal(apply(&c, genesis(), &owner, &owner, 0, 0), DFT_OK);
    assert_int_equal(apply(&c, invite(&inv1, "editor", 1000), &owner, &owner, 1, 0), DFT_OK);
    assert_int_equal(apply(&c, join(&editor, &inv1, "editor"), &inv1, &inv1, 2, 0), DFT_OK);
    assert_int_equal(apply(&c, invite(&inv2, "field", 1000), &owner, &owner, 3, 0), DFT_OK);
    assert_int_equal(apply(&c, join(&field, &inv2, "field"), &inv2, &inv2, 4, 0), DFT_OK);
    /* writers from their join on */
    assert_int_equal(member_author_ok(&c, editor.pk, 1), 1);
    assert_int_equal(member_author_ok(&c, editor.pk, 3), 0);
    assert_int_equal(member_author_ok(&c, field.pk, 9), 0);
    assert_int_equal(member_author_ok(&c, stranger.pk, 9), 1);
    /* an epoch must be sealed to exactly the readers (owner and editor, not field) */
    const struct dev *only_owner[] = {&owner};
    const struct dev *with_field[] = {&owner, &editor, &field};
    const struct dev *readers[] = {&owner, &editor};
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:o}", "action", "epoch", "epoch", 1, "drop",
                                     owner.x64, "sealed", sealed(only_owner, 1)),
                           &owner, &owner, 5, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:o}", "action", "epoch", "epoch", 1, "drop",
                                     owner.x64, "sealed", sealed(with_field, 3)),
                           &owner, &owner, 5, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:o}", "action", "epoch", "epoch", 2, "drop",
                                     owner.x64, "sealed", sealed(readers, 2)),
                           &owner, &owner, 5, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:o}", "action", "epoch", "epoch", 1, "drop",
                                     owner.x64, "sealed", sealed(readers, 2)),
                           &owner, &owner, 5, 0),
                     DFT_OK);
    assert_int_equal(c.epoch, 1);
    /* revoke: not oneself; since_index not after the revocation */
    assert_int_equal(apply(&c, json_pack("{s:s,s:s}", "action", "revoke", "key", owner.b64), &owner,
                           &owner, 6, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(
        apply(&c,
              json_pack("{s:s,s:s,s:i}", "action", "revoke", "key", editor.b64, "since_index", 7),
              &owner, &owner, 6, 0),
        DFT_ERR_INTEGRITY);
    assert_int_equal(
        apply(&c,
              json_pack("{s:s,s:s,s:i}", "action", "revoke", "key", editor.b64, "since_index", 4),
              &owner, &owner, 6, 0),
        DFT_OK);
    assert_int_equal(member_author_ok(&c, editor.pk, 3), 0);
    assert_int_equal(member_author_ok(&c, editor.pk, 4), 2); /* held for review */
    assert_int_equal(member_author_ok(&c, editor.pk, 6), 2);
    assert_int_equal(member_author_ok(&c, editor.pk, 7), 1); /* after the revocation */
    /* twice, and a revoked key is no signer */
    assert_int_equal(apply(&c, json_pack("{s:s,s:s}", "action", "revoke", "key", editor.b64),
                           &owner, &owner, 7, 0),
                     DFT_ERR_INTEGRITY);
    /* a grant to a reader of a past epoch; not to the field device */
    unsigned char box[MEMBER_SEALED_BYTES] = {0};
    char b[200];
    dft_b64_encode(b, box, sizeof box);
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:s}", "action", "grant", "epoch", 1, "key",
                                     field.b64, "sealed", b),
                           &owner, &owner, 7, 0),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(apply(&c,
                           json_pack("{s:s,s:i,s:s,s:s}", "action", "grant", "epoch", 0, "key",
                                     owner.b64, "sealed", b),
                           &owner, &owner, 7, 0),
                     DFT_OK);
    member_chain_release(&c);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    dev_new(&owner);
    dev_new(&editor);
    dev_new(&field);
    dev_new(&inv1);
    dev_new(&inv2);
    dev_new(&stranger);
    unsigned char in[64], h[32];
    randombytes_buf(nonce, sizeof nonce);
    memcpy(in, owner.pk, 32);
    memcpy(in + 32, nonce, 32);
    crypto_sha256_once(h, in, sizeof in);
    dft_hex_encode(cid, h, 16);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member__genesis_rules),
        cmocka_unit_test(test_member__invites_and_joins),
        cmocka_unit_test(test_member__order_and_collection),
        cmocka_unit_test(test_member__epochs_and_revocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
