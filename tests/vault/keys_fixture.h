/*
 * keys_fixture.h - a vault's key set made at random, for tests that seal and open envelopes
 * without a vault (test_envelope, test_batch_add, test_verify_kept). NULL when out of memory.
 */
#ifndef DEFTER_TESTS_VAULT_KEYS_FIXTURE_H
#define DEFTER_TESTS_VAULT_KEYS_FIXTURE_H

#include <sodium.h>

#include "testutil.h"
#include "crypto/keys.h"

static TU_UNUSED struct dft_keys *
vault_random_keys(void)
{
    struct dft_keys *k = keys_new();
    if (k == NULL) {
        return NULL;
    }
    randombytes_buf(k->master, sizeof k->master);
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    crypto_box_keypair(k->box_pk, k->box_sk);
    randombytes_buf(k->vault_id, sizeof k->vault_id);
    keys_derive(k);
    return k;
}

#endif
