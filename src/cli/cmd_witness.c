/*
 * cmd_witness.c - running a witness (`witness init|trust|serve|forks|logs`) and using witnesses
 * from a vault (`witness add VKEY URL`, `witness policy --file|--print`, `witness
 * network-entry`, `checkpoint --cosign`, `prove ID --format tlog-proof`).
 *
 * The witness's data directory is --data DIR, else $DEFTER_WITNESS_DIR, else
 * ~/.local/share/defter/witness. Parses arguments, calls one library function and prints; the
 * witness key never leaves the library.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_witness.h"
#include "server/witness.h"

static char default_data[4096];

static void
log_to_stderr(void *ctx, enum dft_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "defter: %s\n", msg);
}

/* Pull "--data DIR" out of the arguments from index first; the rest stay in order. */
static const char *
take_data(struct dft_cli *cli, int first)
{
    const char *dir = NULL;
    int w = first;
    for (int i = first; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--data") == 0 && i + 1 < cli->argc) {
            dir = cli->argv[++i];
        } else {
            cli->argv[w++] = cli->argv[i];
        }
    }
    cli->argc = w;
    if (dir == NULL) {
        dir = getenv("DEFTER_WITNESS_DIR");
    }
    if (dir == NULL || dir[0] == '\0') {
        const char *home = getenv("HOME");
        snprintf(default_data, sizeof default_data, "%s/.local/share/defter/witness",
                 home != NULL ? home : ".");
        dir = default_data;
    }
    return dir;
}

static int
w_init(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    if (cli->argc != 2) {
        return dft_cli_usage(cli, "witness init needs one NAME (e.g. witness.example.org/w1)");
    }
    char vkey[DFT_NOTE_VKEY_MAX];
    struct dft_error err = {0};
    if (witness_init(dir, cli->argv[1], vkey, &err) != DFT_OK) {
        return dft_cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{ssss}", "vkey", vkey, "data", dir);
        dft_cli_print_json(o);
        json_decref(o);
    } else {
        printf("%s\n", vkey);
    }
    return 0;
}

static int
w_trust(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    if (cli->argc != 3) {
        return dft_cli_usage(cli, "witness trust needs ORIGIN VKEY");
    }
    struct dft_error err = {0};
    if (witness_trust(dir, cli->argv[1], cli->argv[2], &err) != DFT_OK) {
        return dft_cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{ss}", "origin", cli->argv[1]);
        dft_cli_print_json(o);
        json_decref(o);
    } else {
        printf("witness accepts checkpoints of %s\n", cli->argv[1]);
    }
    return 0;
}

static int
parse_rate(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e9) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
w_serve(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    struct witness_server_opts o;
    struct witness_server *s = NULL;
    struct dft_error err = {0};
    sigset_t set;
    witness_server_opts_default(&o);
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        uint64_t n = 0;
        if (v == NULL) {
            return dft_cli_usage(cli, "%.64s needs a value", a);
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            o.listen = v;
        } else if (strcmp(a, "--prefix") == 0) {
            o.prefix = v;
        } else if (strcmp(a, "--rate-ip") == 0) {
            if (parse_rate(v, &o.rate_ip) != 0) {
                return dft_cli_usage(cli, "--rate-ip needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--rate-log") == 0) {
            if (parse_rate(v, &o.rate_origin) != 0) {
                return dft_cli_usage(cli, "--rate-log needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--max-connections") == 0) {
            if (dft_cli_parse_u64(v, &n) != 0 || n == 0 || n > 65536) {
                return dft_cli_usage(cli, "--max-connections needs 1 to 65536");
            }
            o.conns_max = (unsigned)n;
            if (o.conns_ip > o.conns_max) {
                o.conns_ip = o.conns_max;
            }
        } else if (strcmp(a, "--threads") == 0) {
            if (dft_cli_parse_u64(v, &n) != 0 || n == 0 || n > 64) {
                return dft_cli_usage(cli, "--threads needs 1 to 64");
            }
            o.threads = (unsigned)n;
        } else {
            return dft_cli_usage(cli, "unknown argument '%.64s'", a);
        }
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    dft_log_set(log_to_stderr, NULL, DFT_LOG_WARN);
    if (witness_server_start(&s, dir, &o, &err) != DFT_OK) {
        return dft_cli_report(&err);
    }
    printf("%s %s\n", witness_server_url(s), witness_server_vkey(s));
    fflush(stdout);
    fprintf(stderr, "defter: witness serving on %s; press Ctrl-C to stop\n", witness_server_url(s));
    witness_server_run(s);
    witness_server_free(s);
    return 0;
}

static int
w_forks(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    if (cli->argc != 1) {
        return dft_cli_usage(cli, "witness forks takes no arguments but --data DIR");
    }
    json_t *o = NULL;
    struct dft_error err = {0};
    if (witness_forks(dir, &o, &err) != DFT_OK) {
        return dft_cli_report(&err);
    }
    if (cli->json) {
        dft_cli_print_json(o);
    } else {
        size_t i;
        json_t *f;
        json_t *list = json_object_get(o, "forks");
        if (json_array_size(list) == 0) {
            printf("no forks seen\n");
        }
        json_array_foreach(list, i, f)
        {
            printf("fork %lld of %s at %s: size %lld (old %lld, witness had %lld): %s\n%s\n",
                   (long long)json_integer_value(json_object_get(f, "id")),
                   json_string_value(json_object_get(f, "origin")),
                   json_string_value(json_object_get(f, "received")),
                   (long long)json_integer_value(json_object_get(f, "size")),
                   (long long)json_integer_value(json_object_get(f, "old_size")),
                   (long long)json_integer_value(json_object_get(f, "stored_size")),
                   json_string_value(json_object_get(f, "reason")),
                   json_is_string(json_object_get(f, "checkpoint"))
                       ? json_string_value(json_object_get(f, "checkpoint"))
                       : "");
        }
    }
    json_decref(o);
    return 0;
}

static int
w_logs(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    if (cli->argc != 1) {
        return dft_cli_usage(cli, "witness logs takes no arguments but --data DIR");
    }
    json_t *o = NULL;
    struct dft_error err = {0};
    if (witness_logs(dir, &o, &err) != DFT_OK) {
        return dft_cli_report(&err);
    }
    if (cli->json) {
        dft_cli_print_json(o);
    } else {
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(o, "logs"), i, l)
        {
            printf("%s size %lld\n", json_string_value(json_object_get(l, "origin")),
                   (long long)json_integer_value(json_object_get(l, "size")));
        }
    }
    json_decref(o);
    return 0;
}

int
dft_cmd_witness_more(struct dft_cli *cli, int *status)
{
    const char *sub = cli->argc >= 1 ? cli->argv[0] : "";
    if (strcmp(sub, "init") == 0) {
        *status = w_init(cli);
    } else if (strcmp(sub, "trust") == 0) {
        *status = w_trust(cli);
    } else if (strcmp(sub, "serve") == 0) {
        *status = w_serve(cli);
    } else if (strcmp(sub, "forks") == 0) {
        *status = w_forks(cli);
    } else if (strcmp(sub, "logs") == 0) {
        *status = w_logs(cli);
    } else {
        return 0;
    }
    return 1;
}

int
dft_cmd_checkpoint_cosign(struct dft_cli *cli)
{
    return dft_cli_usage(cli, "--cosign is not built yet");
}

int
dft_cmd_prove_tlog_proof(struct dft_cli *cli, const char *id)
{
    (void)id;
    return dft_cli_usage(cli, "--format tlog-proof is not built yet");
}
