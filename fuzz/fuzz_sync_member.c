/*
 * fuzz_sync_member.c - libFuzzer harness for the membership-operation parser and the chain
 * rules (src/sync/member.c).
 *
 * Any input must be refused cleanly or applied; a refused operation must leave the chain
 * unchanged, and the fuzzer cannot forge the owner's signature, so nothing after the genesis
 * it builds may ever apply.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "sync/member.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static unsigned char pk[32], sk[64];

static enum dft_err
sign_fixed(void *ctx, const unsigned char *msg, size_t n, unsigned char sig[64],
           struct dft_error *err)
{
    (void)ctx;
    (void)err;
    crypto_sign_detached(sig, NULL, msg, n, sk);
    return DFT_OK;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int ready;
    static unsigned char genesis[4096];
    static size_t glen;
    static char cid[33];
    if (!ready) {
        unsigned char seed[32] = {7}, nonce[32] = {9}, in[64], h[32], xk[32] = {3}, box[112] = {0};
        char k[64], x[64], nk[64], bx[200];
        struct dft_buf b;
        struct member_chain c;
        if (sodium_init() < 0) {
            abort();
        }
        crypto_sign_seed_keypair(pk, sk, seed);
        memcpy(in, pk, 32);
        memcpy(in + 32, nonce, 32);
        crypto_sha256_once(h, in, sizeof in);
        dft_hex_encode(cid, h, 16);
        dft_b64_encode(k, pk, 32);
        dft_b64_encode(x, xk, 32);
        dft_b64_encode(nk, nonce, 32);
        dft_b64_encode(bx, box, sizeof box);
        member_chain_init(&c, cid);
        json_t *op =
            json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:{s:s}}", "action", "genesis", "by", k, "key",
                      k, "xkey", x, "epoch", 0, "drop", x, "nonce", nk, "sealed", k, bx);
        dft_buf_init(&b, sizeof genesis, 0);
        if (member_seal_op(&c, op, sign_fixed, NULL, &b, NULL) != DFT_OK ||
            member_apply(&c, b.data, b.len, 0, 0, NULL, NULL) != DFT_OK) {
            abort();
        }
        memcpy(genesis, b.data, b.len);
        glen = b.len;
        json_decref(op);
        dft_buf_release(&b);
        member_chain_release(&c);
        ready = 1;
    }
    /* as a first operation (a forged genesis) and after the real genesis */
    struct member_chain c;
    member_chain_init(&c, cid);
    json_t *op = NULL;
    if (member_parse(data, size, &op, NULL) == DFT_OK) {
        json_decref(op);
    }
    (void)member_apply(&c, data, size, 0, 0, NULL, NULL);
    member_chain_release(&c);
    member_chain_init(&c, cid);
    if (member_apply(&c, genesis, glen, 0, 0, NULL, NULL) != DFT_OK) {
        abort();
    }
    uint64_t seq = c.seq;
    size_t n = c.n;
    if (member_apply(&c, data, size, 1, 1, NULL, NULL) == DFT_OK) {
        abort(); /* only the owner signs after genesis, and the fuzzer has no owner key */
    }
    if (c.seq != seq || c.n != n) {
        abort();
    }
    member_chain_release(&c);
    return 0;
}
