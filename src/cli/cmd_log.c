/*
 * cmd_log.c - log and verify.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct log_args {
    uint64_t since;
    int envelopes;
};

static enum dft_err
query_log(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const struct log_args *a = ctx;
    return dft_vault_log(v, a->since, a->envelopes, out, err);
}

static void
print_log(const json_t *log)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(log, "entries"), i, e)
    {
        json_t *recs = json_object_get(e, "records");
        printf("%6lld  %s  %-8s %s", (long long)json_integer_value(json_object_get(e, "index")),
               json_string_value(json_object_get(e, "ts")),
               json_string_value(json_object_get(e, "action")),
               json_string_value(json_object_get(e, "leaf_hash")));
        size_t k;
        json_t *r;
        json_array_foreach(recs, k, r)
        {
            if (k >= 3) {
                printf(" (+%zu more)", json_array_size(recs) - 3);
                break;
            }
            printf(" %s", json_string_value(r));
        }
        putchar('\n');
    }
    printf("size %lld\n", (long long)json_integer_value(json_object_get(log, "size")));
}

int
cmd_log(struct dft_cli *cli)
{
    uint64_t since = 0;
    int envelopes = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--since") == 0) {
            if (i + 1 >= cli->argc || cli_parse_u64(cli->argv[++i], &since) != 0) {
                return cli_usage(cli, "--since needs a non-negative index");
            }
        } else if (strcmp(a, "--envelopes") == 0) {
            envelopes = 1;
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    struct log_args args = {since, envelopes};
    return cli_read(cli, query_log, &args, print_log);
}

int
cmd_verify(struct dft_cli *cli)
{
    int quick = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--quick") != 0) {
            return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[i]);
        }
        quick = 1;
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_vault_verify(v, quick ? DFT_VERIFY_QUICK : 0, &report, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        json_decref(report);
        if (cli->json) {
            json_t *o = json_pack("{sbss}", "ok", 0, "error", err.msg);
            cli_print_json(o);
            json_decref(o);
        }
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(report);
    } else {
        printf("ok: %lld envelopes, %lld operations; pages, signatures and view verified\n",
               (long long)json_integer_value(json_object_get(report, "envelopes")),
               (long long)json_integer_value(json_object_get(report, "operations")));
        json_t *w = json_object_get(report, "witnesses");
        json_t *latest = json_object_get(w, "latest");
        if (json_integer_value(json_object_get(w, "trusted")) > 0) {
            printf("%s: witness policy %lld of %lld trusted; ",
                   json_is_true(json_object_get(w, "policy_met")) ? "ok" : "not met",
                   (long long)json_integer_value(json_object_get(w, "policy")),
                   (long long)json_integer_value(json_object_get(w, "trusted")));
            if (json_is_null(latest)) {
                printf("no cosigned checkpoint yet\n");
            } else {
                printf("latest cosigned checkpoint size %lld with %lld cosignatures (%lld kept, "
                       "all consistent)\n",
                       (long long)json_integer_value(json_object_get(latest, "size")),
                       (long long)json_integer_value(json_object_get(latest, "cosignatures")),
                       (long long)json_integer_value(json_object_get(w, "checkpoints")));
            }
        }
        json_t *ev = json_object_get(report, "evidence");
        printf("ok: %lld evidence objects %s\n",
               (long long)json_integer_value(json_object_get(ev, "objects")),
               quick ? "(quick: headers and lengths)" : "decrypted and rehashed");
    }
    json_decref(report);
    return 0;
}
