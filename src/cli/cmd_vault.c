/*
 * cmd_vault.c - init, passwd and identity.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_sync.h"

static int
parse_kdf(struct dft_cli *cli, int *i, enum dft_kdf_level *level)
{
    const char *name = NULL;
    const char *a = cli->argv[*i];
    if (strcmp(a, "--kdf") == 0) {
        if (*i + 1 >= cli->argc) {
            return cli_usage(cli, "--kdf needs a level");
        }
        name = cli->argv[++*i];
    } else {
        name = a + 6; /* --kdf= */
    }
    if (dft_kdf_parse(name, level) != DFT_OK) {
        return cli_usage(cli, "unknown --kdf level '%.32s' (interactive, moderate, sensitive)",
                         name);
    }
    return 0;
}

int
cmd_init(struct dft_cli *cli)
{
    enum dft_kdf_level level = DFT_KDF_MODERATE;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--join") == 0) {
            return cmd_init_join(cli); /* cmd_sync.c: a new member's vault */
        }
    }
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--kdf") == 0 || strncmp(cli->argv[i], "--kdf=", 6) == 0) {
            int st = parse_kdf(cli, &i, &level);
            if (st != 0) {
                return st;
            }
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[i]);
        }
    }
    struct dft_error err = {0};
    char *pass = NULL;
    size_t len = 0;
    enum dft_err rc = cli_passphrase(cli, "New passphrase: ", 1, &pass, &len, &err);
    if (rc == DFT_OK) {
        rc = dft_vault_create(cli->vault_dir, pass, len, level, &err);
    }
    struct dft_vault *v = NULL;
    json_t *id = NULL;
    if (rc == DFT_OK) {
        rc = dft_vault_open(&v, cli->vault_dir, pass, len, &err);
    }
    sodium_free(pass);
    if (rc == DFT_OK) {
        rc = dft_vault_identity(v, &id, &err);
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{ssso}", "vault", cli->vault_dir, "identity", id);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("created vault %s\nidentity: %s\n", cli->vault_dir,
               json_string_value(json_object_get(id, "vkey")));
        json_decref(id);
    }
    return 0;
}

int
cmd_passwd(struct dft_cli *cli)
{
    enum dft_kdf_level level = DFT_KDF_MODERATE;
    const char *new_file = NULL;
    int master = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--rekey") == 0) {
            master = 1;
        } else if (strcmp(a, "--kdf") == 0 || strncmp(a, "--kdf=", 6) == 0) {
            int st = parse_kdf(cli, &i, &level);
            if (st != 0) {
                return st;
            }
        } else if (strcmp(a, "--new-passphrase-file") == 0 && i + 1 < cli->argc) {
            new_file = cli->argv[++i];
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_cli other = *cli;
    other.pass_file = new_file;
    char *pass = NULL;
    size_t len = 0;
    enum dft_err rc = cli_passphrase(&other, "New passphrase: ", 1, &pass, &len, &err);
    if (rc == DFT_OK) {
        rc = master ? dft_vault_rekey_master(v, pass, len, level, &err)
                    : dft_vault_rekey(v, pass, len, level, &err);
    }
    sodium_free(pass);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{sb}", "ok", 1);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf(master ? "passphrase and master key changed (data re-encrypted)\n"
                      : "passphrase changed\n");
    }
    return 0;
}

static enum dft_err
query_identity(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    (void)ctx;
    return dft_vault_identity(v, out, err);
}

static void
print_identity(const json_t *id)
{
    printf("%s\nsign_pub %s\nbox_pub %s\n", json_string_value(json_object_get(id, "vkey")),
           json_string_value(json_object_get(id, "sign_pub")),
           json_string_value(json_object_get(id, "box_pub")));
}

int
cmd_identity(struct dft_cli *cli)
{
    if (cli->argc != 0) {
        return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[0]);
    }
    return cli_read(cli, query_identity, NULL, print_identity);
}
