/*
 * cmd_tlog.c - checkpoint, prove and witness: the vault's transparency log on the command line.
 *
 * Prints C2SP checkpoints signed with the vault key and RFC 9162 proofs (hashes in standard
 * base64, as docs/log-format.md describes). Writes to the vault only to trust witnesses or set
 * the policy (signed operations) and to keep imported cosigned checkpoints, each in one
 * transaction of the library.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_witness.h"

static void
print_hash_line(const char *label, const json_t *h)
{
    printf("%s %s\n", label, json_string_value(h));
}

/* Read a note from path ("-": stdin) into b (capped at DFT_CHECKPOINT_MAX_BYTES + 1). */
static int
read_note(const char *path, struct dft_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return cli_fail(1, "cannot open '%s': %s", path, strerror(errno));
    }
    char chunk[8192];
    size_t n;
    enum dft_err rc = DFT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && rc == DFT_OK) {
        rc = dft_buf_add(b, chunk, n);
    }
    int ioerr = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (rc == DFT_ERR_TOO_LARGE) {
        return cli_fail(1, "'%s' is too large for a checkpoint (max %d bytes)", path,
                        DFT_CHECKPOINT_MAX_BYTES);
    }
    if (rc != DFT_OK || ioerr) {
        return cli_fail(1, "cannot read '%s'", path);
    }
    return 0;
}

static int
import_checkpoint(struct dft_cli *cli, const char *path)
{
    struct dft_buf note;
    dft_buf_init(&note, DFT_CHECKPOINT_MAX_BYTES, 0);
    int st = read_note(path, &note);
    if (st != 0) {
        dft_buf_release(&note);
        return st;
    }
    struct dft_vault *v = NULL;
    if ((st = cli_open_vault(cli, &v)) != 0) {
        dft_buf_release(&note);
        return st;
    }
    struct dft_error err = {0};
    json_t *res = NULL;
    enum dft_err rc = dft_vault_checkpoint_import(
        v, note.data != NULL ? (const char *)note.data : "", note.len, &res, &err);
    dft_vault_close(v);
    dft_buf_release(&note);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_object_del(res, "trusted");
        cli_print_json(res);
    } else {
        printf("kept checkpoint of size %lld with %lld trusted cosignatures (%lld new); policy "
               "%lld of %lld %s\n",
               (long long)json_integer_value(json_object_get(res, "size")),
               (long long)json_integer_value(json_object_get(res, "cosignatures")),
               (long long)json_integer_value(json_object_get(res, "added")),
               (long long)json_integer_value(json_object_get(res, "policy")),
               (long long)json_integer_value(json_object_get(res, "trusted")),
               json_is_true(json_object_get(res, "policy_met")) ? "met" : "not met");
    }
    json_decref(res);
    return 0;
}

static int
latest_cosigned(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_buf note;
    dft_buf_init(&note, DFT_CHECKPOINT_MAX_BYTES, 0);
    enum dft_err rc = dft_vault_checkpoint_cosigned(v, &note, &err);
    dft_vault_close(v);
    if (rc == DFT_OK) {
        fwrite(note.data, 1, note.len, stdout);
    }
    dft_buf_release(&note);
    return rc == DFT_OK ? 0 : cli_report(&err);
}

int
cmd_checkpoint(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "--import") == 0) {
        if (cli->argc != 2) {
            return cli_usage(cli, "--import needs one FILE (or - for stdin)");
        }
        return import_checkpoint(cli, cli->argv[1]);
    }
    if (cli->argc == 1 && strcmp(cli->argv[0], "--cosigned") == 0) {
        return latest_cosigned(cli);
    }
    if (cli->argc == 1 && strcmp(cli->argv[0], "--cosign") == 0) {
        return dft_cmd_checkpoint_cosign(cli);
    }
    if (cli->argc != 0) {
        return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[0]);
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_buf note;
    dft_buf_init(&note, DFT_CHECKPOINT_MAX_BYTES, 0);
    enum dft_err rc = dft_vault_checkpoint_current(v, &note, NULL, &err);
    dft_vault_close(v);
    if (rc == DFT_OK) {
        fwrite(note.data, 1, note.len, stdout);
    }
    dft_buf_release(&note);
    return rc == DFT_OK ? 0 : cli_report(&err);
}

static enum dft_err
query_inclusion(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_vault_prove(v, ctx, out, err);
}

static void
print_proof_hashes(const json_t *o)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(o, "proof"), i, h)
    {
        print_hash_line("proof", h);
    }
}

static void
print_inclusion(const json_t *o)
{
    printf("index %lld\nsize %lld\n", (long long)json_integer_value(json_object_get(o, "index")),
           (long long)json_integer_value(json_object_get(o, "size")));
    print_hash_line("leaf_hash", json_object_get(o, "leaf_hash"));
    print_proof_hashes(o);
    printf("\n%s", json_string_value(json_object_get(o, "checkpoint")));
}

static int
prove_inclusion(struct dft_cli *cli, const char *id)
{
    return cli_read(cli, query_inclusion, (void *)(uintptr_t)id, print_inclusion);
}

static enum dft_err
query_consistency(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const uint64_t *sizes = ctx;
    return dft_vault_prove_consistency(v, sizes[0], sizes[1], out, err);
}

static void
print_consistency(const json_t *o)
{
    printf("old_size %lld\n", (long long)json_integer_value(json_object_get(o, "old_size")));
    print_hash_line("old_root", json_object_get(o, "old_root"));
    printf("new_size %lld\n", (long long)json_integer_value(json_object_get(o, "new_size")));
    print_hash_line("new_root", json_object_get(o, "new_root"));
    print_proof_hashes(o);
}

static int
prove_consistency(struct dft_cli *cli, uint64_t old_size, uint64_t new_size)
{
    uint64_t sizes[2] = {old_size, new_size};
    return cli_read(cli, query_consistency, sizes, print_consistency);
}

int
cmd_prove(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "--consistency") == 0) {
        uint64_t a = 0, b = 0;
        if (cli->argc != 3 || cli_parse_u64(cli->argv[1], &a) != 0 ||
            cli_parse_u64(cli->argv[2], &b) != 0) {
            return cli_usage(cli, "--consistency needs two tree sizes OLD NEW");
        }
        return prove_consistency(cli, a, b);
    }
    if (cli->argc == 3 && strcmp(cli->argv[1], "--format") == 0) {
        if (strcmp(cli->argv[2], "tlog-proof") != 0) {
            return cli_usage(cli, "--format takes tlog-proof");
        }
        return dft_cmd_prove_tlog_proof(cli, cli->argv[0]);
    }
    if (cli->argc != 1 || cli->argv[0][0] == '-') {
        return cli_usage(cli, "prove needs one record id (or --consistency OLD NEW)");
    }
    return prove_inclusion(cli, cli->argv[0]);
}

static int
witness_list(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *res = NULL;
    enum dft_err rc = dft_vault_witnesses(v, &res, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_object_del(res, "trusted");
        cli_print_json(res);
    } else {
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(res, "witnesses"), i, w)
        {
            printf("%s\n", json_string_value(json_object_get(w, "vkey")));
        }
        printf("policy: %lld of %zu trusted witnesses\n",
               (long long)json_integer_value(json_object_get(res, "policy")),
               json_array_size(json_object_get(res, "witnesses")));
    }
    json_decref(res);
    return 0;
}

/* witness add VKEY / witness policy K: one signed operation. */
static int
witness_change(struct dft_cli *cli, const char *vkey, uint64_t k)
{
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *res = NULL;
    enum dft_err rc = vkey != NULL ? dft_vault_witness_add(v, vkey, &res, &err)
                                   : dft_vault_witness_policy(v, k, &res, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    long long trusted = (long long)json_integer_value(json_object_get(res, "trusted"));
    long long policy = (long long)json_integer_value(json_object_get(res, "policy"));
    if (cli->json) {
        json_object_del(res, "name");
        cli_print_json(res);
    } else if (vkey != NULL) {
        printf("trusted witness %s (%lld trusted, policy %lld)\n",
               json_string_value(json_object_get(res, "name")), trusted, policy);
    } else {
        printf("policy: %lld of %lld trusted witnesses\n", policy, trusted);
    }
    json_decref(res);
    return 0;
}

int
cmd_witness(struct dft_cli *cli)
{
    int more = 0;
    if (dft_cmd_witness_more(cli, &more)) {
        return more;
    }
    const char *sub = cli->argc >= 1 ? cli->argv[0] : "";
    if (strcmp(sub, "list") == 0) {
        if (cli->argc != 1) {
            return cli_usage(cli, "witness list takes no arguments");
        }
        return witness_list(cli);
    }
    if (strcmp(sub, "add") == 0) {
        if (cli->argc != 2) {
            return cli_usage(cli, "witness add needs one verifier key");
        }
        return witness_change(cli, cli->argv[1], 0);
    }
    if (strcmp(sub, "policy") == 0) {
        uint64_t k = 0;
        if (cli->argc != 2 || cli_parse_u64(cli->argv[1], &k) != 0) {
            return cli_usage(cli, "witness policy needs a number K");
        }
        return witness_change(cli, NULL, k);
    }
    return cli_usage(cli, "witness needs add VKEY [URL], list, policy K|--file F|--print, "
                          "network-entry, or init|trust|serve|forks|logs");
}
