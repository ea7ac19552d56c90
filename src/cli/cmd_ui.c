/*
 * cmd_ui.c - `defter ui [--port P]`: unlock the vault and serve the local web interface.
 *
 * Prints the one-time URL as the first line of stdout (flushed at once), then one log line per
 * request on stderr, until SIGINT or SIGTERM. Must never print the passphrase, and never serve
 * anything but 127.0.0.1 (src/server/ui.c binds loopback only).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_agent.h"
#include "defter/server.h"
#include "defter/ui_open.h"

static void
log_to_stderr(void *ctx, enum dft_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "defter: %s\n", msg);
}

int
cmd_ui(struct dft_cli *cli)
{
    uint64_t port = 0;
    struct dft_vault *v = NULL;
    struct dft_ui *ui = NULL;
    struct dft_error err = {0};
    sigset_t set;

    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--open") == 0 && cli->argc == 1) {
            /* a fresh link to the UI already running on this vault */
            char url[DFT_UI_URL_MAX];
            if (dft_ui_open_request(cli->vault_dir, url, sizeof url, &err) != DFT_OK) {
                return cli_report(&err);
            }
            printf("%s\n", url);
            return 0;
        }
        if (strcmp(a, "--port") == 0 && i + 1 < cli->argc) {
            if (cli_parse_u64(cli->argv[++i], &port) != 0 || port > 65535) {
                return cli_usage(cli, "--port must be a number from 0 to 65535");
            }
        } else {
            return cli_usage(cli, "unknown argument '%.64s'", a);
        }
    }
    int st = 0;
    if (dft_cli_agent_ui(cli, (uint16_t)port, &st)) { /* an unlock agent holds the vault */
        return st;
    }
    st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    /* block the signals in every thread, so only dft_ui_run's sigwait takes them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    dft_log_set(log_to_stderr, NULL, DFT_LOG_INFO);
    if (dft_ui_start(&ui, v, cli->vault_dir, (uint16_t)port, &err) != DFT_OK) {
        return cli_report(&err); /* v was closed by dft_ui_start */
    }
    printf("%s\n", dft_ui_url(ui));
    fflush(stdout);
    if (dft_ui_open_publish(ui, cli->vault_dir, &err) != DFT_OK) {
        fprintf(stderr, "defter: `defter ui --open` will not work: %s\n", err.msg);
    }
    fprintf(stderr, "defter: serving the vault on 127.0.0.1:%u; press Ctrl-C to stop\n",
            (unsigned)dft_ui_port(ui));
    dft_ui_run(ui);
    dft_ui_open_unpublish();
    fprintf(stderr, "defter: stopping; keys wiped\n");
    dft_ui_free(ui);
    return 0;
}
