/*
 * cmd_sync.c - the team-sync commands: share, member invite|list|revoke, sync and
 * `init --join INVITE` (conflicts and resolve: cmd_conflicts.c). Each parses its arguments, calls
 * one function of the sync engine (src/sync/client.c) or the vault, and prints. Exit 3 on a fork,
 * rollback or bad proof.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_sync.h"
#include "defter/team.h"

static int
with_vault(struct dft_cli *cli,
           enum dft_err (*fn)(struct dft_vault *, void *, json_t **, struct dft_error *), void *ctx,
           void (*human)(const json_t *))
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    json_t *out = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    enum dft_err rc = fn(v, ctx, &out, &err);
    dft_vault_close(v);
    curl_global_cleanup();
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json || human == NULL) {
        cli_print_json(out);
    } else {
        human(out);
    }
    json_decref(out);
    return 0;
}

/* ---- share ---- */

static enum dft_err
do_share(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_sync_share(v, ctx, out, err);
}

static void
print_share(const json_t *o)
{
    printf("shared as collection %s on %s\npushed %lld\n",
           json_string_value(json_object_get(o, "collection")),
           json_string_value(json_object_get(o, "server")),
           (long long)json_integer_value(json_object_get(o, "pushed")));
}

int
cmd_share(struct dft_cli *cli)
{
    if (cli->argc != 2 || strcmp(cli->argv[0], "--server") != 0) {
        return cli_usage(cli, "share needs --server URL");
    }
    return with_vault(cli, do_share, cli->argv[1], print_share);
}

/* ---- member ---- */

static enum dft_err
do_invite(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_sync_invite(v, ctx, out, err);
}

static void
print_invite(const json_t *o)
{
    printf("%s\n", json_string_value(json_object_get(o, "invite")));
    fprintf(stderr,
            "defter: this %s invite works once, until it expires; it carries keys: pass it only "
            "to the new member, over a channel you trust\n",
            json_string_value(json_object_get(o, "role")));
}

static enum dft_err
do_list(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    (void)ctx;
    return dft_sync_members(v, out, err);
}

static void
print_list(const json_t *o)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(o, "members"), i, m)
    {
        printf("%s  %-6s%s%s\n", json_string_value(json_object_get(m, "key")),
               json_string_value(json_object_get(m, "role")),
               json_is_true(json_object_get(m, "revoked")) ? "  revoked" : "",
               json_is_true(json_object_get(m, "you")) ? "  (this device)" : "");
    }
}

struct revoke_args {
    const char *key;
    int64_t since;
};

static enum dft_err
do_revoke(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    struct revoke_args *a = ctx;
    return dft_sync_revoke(v, a->key, a->since, out, err);
}

static void
print_revoke(const json_t *o)
{
    printf("revoked %s; new epoch %lld\n", json_string_value(json_object_get(o, "revoked")),
           (long long)json_integer_value(json_object_get(o, "epoch")));
}

/* TIME: POSIX seconds, or ISO 8601 YYYY-MM-DD[THH:MM[:SS]][Z] in UTC. */
static int
parse_time(const char *s, int64_t *out)
{
    uint64_t n = 0;
    if (cli_parse_u64(s, &n) == 0) {
        *out = (int64_t)n;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
    }
    if (end == NULL) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0)) {
        return -1;
    }
    *out = (int64_t)timegm(&tm);
    return 0;
}

int
cmd_member(struct dft_cli *cli)
{
    if (cli->argc < 1) {
        return cli_usage(cli, "member needs invite ROLE, list or revoke KEY");
    }
    const char *sub = cli->argv[0];
    if (strcmp(sub, "invite") == 0) {
        if (cli->argc != 2) {
            return cli_usage(cli, "member invite needs a role: owner, editor, viewer or field");
        }
        const char *role = cli->argv[1];
        if (strcmp(role, "owner") != 0 && strcmp(role, "editor") != 0 &&
            strcmp(role, "viewer") != 0 && strcmp(role, "field") != 0) {
            return cli_usage(cli, "unknown role '%.32s' (owner, editor, viewer, field)", role);
        }
        return with_vault(cli, do_invite, (void *)(uintptr_t)role, print_invite);
    }
    if (strcmp(sub, "list") == 0) {
        if (cli->argc != 1) {
            return cli_usage(cli, "member list takes no arguments");
        }
        return with_vault(cli, do_list, NULL, print_list);
    }
    if (strcmp(sub, "revoke") == 0) {
        struct revoke_args a = {NULL, -1};
        for (int i = 1; i < cli->argc; i++) {
            if (strcmp(cli->argv[i], "--since") == 0 && i + 1 < cli->argc) {
                if (parse_time(cli->argv[++i], &a.since) != 0) {
                    return cli_usage(cli, "--since needs POSIX seconds or YYYY-MM-DD[THH:MM[:SS]]");
                }
            } else if (a.key == NULL && cli->argv[i][0] != '-') {
                a.key = cli->argv[i];
            } else {
                return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[i]);
            }
        }
        if (a.key == NULL) {
            return cli_usage(cli, "member revoke needs KEY (see defter member list)");
        }
        return with_vault(cli, do_revoke, &a, print_revoke);
    }
    return cli_usage(cli, "unknown member command '%.32s'", sub);
}

/* ---- sync ---- */

static enum dft_err
do_sync(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_sync_run(v, ctx, out, err);
}

static void
print_sync(const json_t *o)
{
    if (json_object_get(o, "waiting_for_epoch") != NULL) {
        fprintf(stderr,
                "defter: entries of key epoch %lld are waiting for its key: an owner's next "
                "sync grants it\n",
                (long long)json_integer_value(json_object_get(o, "waiting_for_epoch")));
    }
    printf("pushed %lld, pulled %lld; log size %lld, root %s\n",
           (long long)json_integer_value(json_object_get(o, "pushed")),
           (long long)json_integer_value(json_object_get(o, "pulled")),
           (long long)json_integer_value(json_object_get(o, "size")),
           json_string_value(json_object_get(o, "root")));
}

int
cmd_sync(struct dft_cli *cli)
{
    const char *to = NULL;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--to") == 0 && i + 1 < cli->argc) {
            to = cli->argv[++i];
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[i]);
        }
    }
    return with_vault(cli, do_sync, (void *)(uintptr_t)to, print_sync);
}

/* ---- init --join ---- */

int
cmd_init_join(struct dft_cli *cli)
{
    const char *invite = NULL;
    enum dft_kdf_level level = DFT_KDF_MODERATE;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--join") == 0 && i + 1 < cli->argc && invite == NULL) {
            invite = cli->argv[++i];
        } else if (strcmp(a, "--kdf") == 0 && i + 1 < cli->argc) {
            if (dft_kdf_parse(cli->argv[++i], &level) != DFT_OK) {
                return cli_usage(cli, "unknown --kdf level (interactive, moderate, sensitive)");
            }
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (invite == NULL) {
        return cli_usage(cli, "--join needs an INVITE (from defter member invite)");
    }
    if (strncmp(invite, DFT_SYNC_INVITE_PREFIX, sizeof DFT_SYNC_INVITE_PREFIX - 1) != 0) {
        return cli_fail(1, "not a defter invite (it starts with '%s')", DFT_SYNC_INVITE_PREFIX);
    }
    struct dft_error err = {0};
    char *pass = NULL;
    size_t len = 0;
    struct dft_vault *v = NULL;
    json_t *out = NULL;
    /* a bad or spent invite makes no vault */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    enum dft_err rc = dft_sync_invite_check(invite, &err);
    curl_global_cleanup();
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    rc = cli_passphrase(cli, "New passphrase: ", 1, &pass, &len, &err);
    if (rc == DFT_OK) {
        rc = dft_vault_create(cli->vault_dir, pass, len, level, &err);
    }
    if (rc == DFT_OK) {
        rc = dft_vault_open(&v, cli->vault_dir, pass, len, &err);
    }
    sodium_free(pass);
    if (rc == DFT_OK) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = dft_sync_join(v, invite, &out, &err);
        curl_global_cleanup();
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_object_set_new(out, "vault", json_string(cli->vault_dir));
        cli_print_json(out);
    } else {
        printf("created vault %s, a %s of collection %s\n", cli->vault_dir,
               json_string_value(json_object_get(out, "role")),
               json_string_value(json_object_get(out, "collection")));
        print_sync(out);
    }
    json_decref(out);
    return 0;
}
