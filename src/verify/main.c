/*
 * main.c - defter-verify: check a Defter bundle offline, trusting neither Defter nor its vault.
 *
 *   defter-verify BUNDLE.zip [--policy FILE] [--json]
 *
 * Exit 0 when everything verifies; 3 naming the first failing item; 1 when the bundle or the
 * policy cannot be read; 2 on usage errors. Links no vault and no SQLite code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defter/bundle.h"
#include "defter/crypto.h"

static int
usage(void)
{
    fprintf(stderr, "usage: defter-verify BUNDLE.zip [--policy FILE] [--json]\n");
    return 2;
}

static void
print_human(const json_t *r)
{
    const json_t *log = json_object_get(r, "log");
    const json_t *w = json_object_get(r, "witnesses");
    printf("bundle verified (%s profile)\n", json_string_value(json_object_get(r, "profile")));
    printf("log %s, tree size %lld\n  key %s\n", json_string_value(json_object_get(log, "origin")),
           (long long)json_integer_value(json_object_get(log, "size")),
           json_string_value(json_object_get(log, "vkey")));
    if (!json_is_true(json_object_get(log, "trusted"))) {
        printf("  no --policy given: compare this key with one obtained apart from the bundle\n");
    }
    printf("witnesses: %lld keys, quorum %lld, %lld cosignatures on tree size %lld; %lld of %lld "
           "envelopes witnessed\n",
           (long long)json_integer_value(json_object_get(w, "keys")),
           (long long)json_integer_value(json_object_get(w, "quorum")),
           (long long)json_integer_value(json_object_get(w, "cosignatures")),
           (long long)json_integer_value(json_object_get(w, "cosigned_size")),
           (long long)json_integer_value(json_object_get(w, "envelopes_witnessed")),
           (long long)json_integer_value(json_object_get(r, "envelopes")));
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(r, "records"), i, rec)
    {
        printf("%s (%s): %lld operations, %lld items withheld\n",
               json_string_value(json_object_get(rec, "id")),
               json_string_value(json_object_get(rec, "type")),
               (long long)json_array_size(json_object_get(rec, "ops")),
               (long long)json_integer_value(json_object_get(rec, "withheld")));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(rec, "fields"), k, v)
        {
            char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            printf("  %s: %s\n", k, s != NULL ? s : "?");
            free(s);
        }
    }
    json_array_foreach(json_object_get(r, "evidence"), i, rec)
    {
        printf("%s evidence sha256 %s, %lld bytes, %s, %lld custody operations\n",
               json_string_value(json_object_get(rec, "id")),
               json_string_value(json_object_get(rec, "sha256")),
               (long long)json_integer_value(json_object_get(rec, "size")),
               json_is_true(json_object_get(rec, "file")) ? "file checked" : "file not included",
               (long long)json_array_size(json_object_get(rec, "ops")));
    }
}

int
main(int argc, char **argv)
{
    const char *bundle = NULL, *policy_path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            policy_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage();
        } else if (bundle == NULL) {
            bundle = argv[i];
        } else {
            return usage();
        }
    }
    if (bundle == NULL) {
        return usage();
    }
    struct dft_error err = {0};
    if (dft_crypto_init(&err) != DFT_OK) {
        fprintf(stderr, "defter-verify: %s\n", err.msg);
        return 1;
    }
    json_t *policy = NULL;
    if (policy_path != NULL) {
        json_error_t jerr;
        policy = json_load_file(policy_path, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(policy)) {
            fprintf(stderr, "defter-verify: cannot read policy '%s': %s\n", policy_path,
                    policy == NULL ? jerr.text : "not a JSON object");
            json_decref(policy);
            return 1;
        }
    }
    json_t *report = NULL;
    enum dft_err rc = dft_bundle_verify(bundle, policy, &report, &err);
    json_decref(policy);
    if (rc != DFT_OK) {
        int st = rc == DFT_ERR_NOT_FOUND || rc == DFT_ERR_IO || rc == DFT_ERR_NOMEM ? 1 : 3;
        if (as_json) {
            json_t *o = json_pack("{sb ss}", "ok", 0, "error", err.msg);
            json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
            printf("\n");
            json_decref(o);
        }
        fprintf(stderr, "defter-verify: %s\n", err.msg);
        return st;
    }
    if (as_json) {
        json_dumpf(report, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("\n");
    } else {
        print_human(report);
    }
    json_decref(report);
    return 0;
}
