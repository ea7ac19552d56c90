/*
 * cmd_serve.c - `defter serve --listen A --data DIR [--db URL] [--objects URL]`: the team-sync
 * server (src/sync/server.c). The first stdout line is "URL VKEY", flushed at once; nothing
 * else goes to stdout. It never opens a vault.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_sync.h"
#include "defter/serve.h"

static void
log_to_stderr(void *ctx, enum dft_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "defter: %s\n", msg);
}

int
cmd_serve(struct dft_cli *cli)
{
    struct dft_serve_opts o;
    struct dft_serve *s = NULL;
    struct dft_error err = {0};
    int verbose = 0;
    sigset_t set;
    dft_serve_opts_default(&o);
    o.listen = NULL;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        uint64_t n = 0;
        if (v == NULL) {
            return cli_usage(cli, "%.64s needs a value", a);
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            o.listen = v;
        } else if (strcmp(a, "--data") == 0) {
            o.data_dir = v;
        } else if (strcmp(a, "--db") == 0) {
            o.db_url = v;
        } else if (strcmp(a, "--objects") == 0) {
            o.objects_url = v;
        } else if (strcmp(a, "--rate-ip") == 0) {
            if (cli_parse_rate(v, &o.rate_ip) != 0) {
                return cli_usage(cli, "--rate-ip needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--rate-device") == 0) {
            if (cli_parse_rate(v, &o.rate_device) != 0) {
                return cli_usage(cli, "--rate-device needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--max-connections") == 0) {
            if (cli_parse_u64(v, &n) != 0 || n == 0 || n > 65536) {
                return cli_usage(cli, "--max-connections needs 1 to 65536");
            }
            o.conns_max = (unsigned)n;
            if (o.conns_ip > o.conns_max) {
                o.conns_ip = o.conns_max;
            }
        } else {
            return cli_usage(cli, "unknown argument '%.64s'", a);
        }
    }
    if (o.listen == NULL || o.data_dir == NULL) {
        return cli_usage(cli, "serve needs --listen IPV4:PORT and --data DIR");
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    dft_log_set(log_to_stderr, NULL, verbose ? DFT_LOG_INFO : DFT_LOG_WARN);
    if (dft_serve_start(&s, &o, &err) != DFT_OK) {
        return cli_report(&err);
    }
    printf("%s %s\n", dft_serve_url(s), dft_serve_vkey(s));
    fflush(stdout);
    fprintf(stderr, "defter: sync server on %s; press Ctrl-C to stop\n", dft_serve_url(s));
    dft_serve_run(s);
    dft_serve_free(s);
    return 0;
}
