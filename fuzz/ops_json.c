/*
 * ops_json.c - libFuzzer harness for the `add --from-json` input path: JSON text ->
 * dft_vault_check_items -> operations, without a vault.
 *
 * Accepted input must give one id per record and operations that the vault can sign: they are
 * completed as vault_commit_ops does (v, id, ts, author), sealed with a fixed key and must
 * open back equal. Rejections must carry DFT_ERR_INPUT or DFT_ERR_TOO_LARGE. Never writes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/vault.h"
#include "vault/envelope.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct dft_keys *keys;
static char author[dft_b64_len(DFT_SIGN_PK_BYTES)];

static void
init(void)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    if (sodium_init() < 0 || (keys = keys_new()) == NULL) {
        abort();
    }
    memset(keys->master, 0x42, sizeof keys->master);
    memset(seed, 0x17, sizeof seed);
    crypto_sign_seed_keypair(keys->sign_pk, keys->sign_sk, seed);
    keys_derive(keys);
    dft_b64_encode(author, keys->sign_pk, DFT_SIGN_PK_BYTES);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (keys == NULL) {
        init();
    }
    json_t *items = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (items == NULL) {
        return 0;
    }
    json_t *ops = NULL;
    json_t *ids = NULL;
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_check_items(items, &ops, &ids, &err);
    if (rc != DFT_OK) {
        if ((rc != DFT_ERR_INPUT && rc != DFT_ERR_TOO_LARGE) || ops != NULL || ids != NULL ||
            err.msg[0] == '\0') {
            abort();
        }
        json_decref(items);
        return 0;
    }
    const json_t *records = json_is_array(items) ? items : json_object_get(items, "records");
    if (json_array_size(ids) != json_array_size(records) ||
        json_array_size(ops) < json_array_size(records)) {
        abort();
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        if (action == NULL || (strcmp(action, "create") != 0 && strcmp(action, "link") != 0) ||
            !json_is_string(json_object_get(op, "record"))) {
            abort();
        }
        json_object_set_new(op, "v", json_integer(1));
        json_object_set_new(op, "id", json_string("op_0000000000000000"));
        json_object_set_new(op, "ts", json_string("2026-01-01T00:00:00.000Z"));
        json_object_set_new(op, "author", json_string(author));
    }
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    json_t *back = NULL;
    if (envelope_seal(keys, ops, &env, NULL) != DFT_OK ||
        envelope_open(keys, env.data, env.len, &back, NULL) != DFT_OK || !json_equal(back, ops)) {
        abort();
    }
    json_decref(back);
    dft_buf_release(&env);
    json_decref(ops);
    json_decref(ids);
    json_decref(items);
    return 0;
}
