/*
 * cmd_evidence.c - attach and extract evidence files, evidence checks for verify, and the
 * progress bar (stderr, only for files over 64 MiB and only when stderr is a terminal).
 *
 * Never prints file contents; never leaves a partial OUT (the library guarantees it).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "defter/evidence.h"

#define BAR_MIN_BYTES (UINT64_C(64) << 20)
#define BAR_WIDTH     30

struct bar {
    const char *label; /* what is being processed */
    int shown;         /* last percentage drawn, -1 none */
    int enabled;       /* stderr is a terminal */
};

static void
bar_draw(void *ctx, uint64_t done, uint64_t total)
{
    struct bar *b = ctx;
    if (!b->enabled || total < BAR_MIN_BYTES) {
        return;
    }
    int pct = (int)(done * 100 / total);
    if (pct == b->shown) {
        return;
    }
    b->shown = pct;
    char fill[BAR_WIDTH + 1];
    int n = pct * BAR_WIDTH / 100;
    for (int i = 0; i < BAR_WIDTH; i++) {
        fill[i] = i < n ? '#' : '-';
    }
    fill[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r%-24.24s [%s] %3d%%", b->label, fill, pct);
    if (done == total) {
        fputc('\n', stderr);
        b->shown = -1;
    }
    fflush(stderr);
}

int
cmd_attach(struct dft_cli *cli)
{
    if (cli->argc < 2) {
        return cli_usage(cli, cli->argc == 0 ? "missing ID and FILE" : "missing FILE");
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct bar b = {"importing", -1, isatty(STDERR_FILENO)};
    json_t *out = NULL;
    enum dft_err rc = dft_vault_attach(v, cli->argv[0], (const char *const *)(cli->argv + 1),
                                       (size_t)(cli->argc - 1), bar_draw, &b, &out, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(out);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(out, i, e)
        {
            printf("%s  %s  %lld bytes  %s\n", json_string_value(json_object_get(e, "id")),
                   json_string_value(json_object_get(e, "sha256")),
                   (long long)json_integer_value(json_object_get(e, "size")), cli->argv[i + 1]);
        }
    }
    json_decref(out);
    return 0;
}

int
cmd_extract(struct dft_cli *cli)
{
    if (cli->argc != 2) {
        return cli_usage(cli, cli->argc < 2 ? "missing EVIDENCE-ID or OUT"
                                            : "too many "
                                              "arguments");
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct bar b = {"extracting", -1, isatty(STDERR_FILENO)};
    unsigned char sha[DFT_HASH_BYTES];
    enum dft_err rc = dft_vault_extract(v, cli->argv[0], cli->argv[1], bar_draw, &b, sha, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    char hex[DFT_SHA256_HEX_BYTES];
    dft_hex_encode(hex, sha, sizeof sha);
    if (cli->json) {
        json_t *o = json_pack("{ss}", "sha256", hex);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("%s  %s\n", hex, cli->argv[1]);
    }
    return 0;
}
