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
#include "defter/vault.h"
#include "defter/witness.h"

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
        return cli_usage(cli, "witness init needs one NAME (e.g. witness.example.org/w1)");
    }
    char vkey[DFT_WITNESS_VKEY_MAX];
    struct dft_error err = {0};
    if (dft_witness_init(dir, cli->argv[1], vkey, &err) != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{ssss}", "vkey", vkey, "data", dir);
        cli_print_json(o);
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
        return cli_usage(cli, "witness trust needs ORIGIN VKEY");
    }
    struct dft_error err = {0};
    if (dft_witness_trust(dir, cli->argv[1], cli->argv[2], &err) != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{ss}", "origin", cli->argv[1]);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("witness accepts checkpoints of %s\n", cli->argv[1]);
    }
    return 0;
}

static int
w_serve(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    struct dft_witness_opts o;
    struct dft_witness_server *s = NULL;
    struct dft_error err = {0};
    sigset_t set;
    dft_witness_opts_default(&o);
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        uint64_t n = 0;
        if (v == NULL) {
            return cli_usage(cli, "%.64s needs a value", a);
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            o.listen = v;
        } else if (strcmp(a, "--prefix") == 0) {
            o.prefix = v;
        } else if (strcmp(a, "--rate-ip") == 0) {
            if (cli_parse_rate(v, &o.rate_ip) != 0) {
                return cli_usage(cli, "--rate-ip needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--rate-log") == 0) {
            if (cli_parse_rate(v, &o.rate_origin) != 0) {
                return cli_usage(cli, "--rate-log needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--max-connections") == 0) {
            if (cli_parse_u64(v, &n) != 0 || n == 0 || n > 65536) {
                return cli_usage(cli, "--max-connections needs 1 to 65536");
            }
            o.conns_max = (unsigned)n;
            if (o.conns_ip > o.conns_max) {
                o.conns_ip = o.conns_max;
            }
        } else if (strcmp(a, "--threads") == 0) {
            if (cli_parse_u64(v, &n) != 0 || n == 0 || n > 64) {
                return cli_usage(cli, "--threads needs 1 to 64");
            }
            o.threads = (unsigned)n;
        } else {
            return cli_usage(cli, "unknown argument '%.64s'", a);
        }
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    dft_log_set(log_to_stderr, NULL, DFT_LOG_INFO);
    if (dft_witness_server_start(&s, dir, &o, &err) != DFT_OK) {
        return cli_report(&err);
    }
    printf("%s %s\n", dft_witness_server_url(s), dft_witness_server_vkey(s));
    fflush(stdout);
    fprintf(stderr, "defter: witness serving on %s; press Ctrl-C to stop\n",
            dft_witness_server_url(s));
    dft_witness_server_run(s);
    dft_witness_server_free(s);
    return 0;
}

static int
w_forks(struct dft_cli *cli)
{
    const char *dir = take_data(cli, 1);
    if (cli->argc != 1) {
        return cli_usage(cli, "witness forks takes no arguments but --data DIR");
    }
    json_t *o = NULL;
    struct dft_error err = {0};
    if (dft_witness_forks(dir, &o, &err) != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(o);
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
        return cli_usage(cli, "witness logs takes no arguments but --data DIR");
    }
    json_t *o = NULL;
    struct dft_error err = {0};
    if (dft_witness_logs(dir, &o, &err) != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(o);
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

/* ---- the vault's side: witnesses to ask, the policy, cosigning ---- */

/* witness add VKEY URL: trust (when new) and remember where to ask. */
static int
w_add_url(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    json_t *o = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    enum dft_err rc = dft_vault_witness_add_url(v, cli->argv[1], cli->argv[2], &o, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(o);
    } else {
        printf("trusted witness %s at %s (%lld trusted, policy %lld)\n",
               json_string_value(json_object_get(o, "name")),
               json_string_value(json_object_get(o, "url")),
               (long long)json_integer_value(json_object_get(o, "trusted")),
               (long long)json_integer_value(json_object_get(o, "policy")));
    }
    json_decref(o);
    return 0;
}

#define POLICY_FILE_MAX (64u * 1024u)

static int
read_file(const char *path, struct dft_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return cli_fail(1, "cannot open '%s'", path);
    }
    char chunk[8192];
    size_t n;
    enum dft_err rc = DFT_OK;
    while (rc == DFT_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = dft_buf_add(b, chunk, n);
    }
    int bad = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (rc != DFT_OK || bad) {
        return cli_fail(1, "cannot read '%s' (or larger than %u bytes)", path, POLICY_FILE_MAX);
    }
    return 0;
}

/* witness policy --file F | --print */
static int
w_policy(struct dft_cli *cli)
{
    const char *opt = cli->argv[1];
    int print = strcmp(opt, "--print") == 0 && cli->argc == 2;
    if (!print && !(strcmp(opt, "--file") == 0 && cli->argc == 3)) {
        return cli_usage(cli, "witness policy needs K, --file FILE or --print");
    }
    struct dft_buf text;
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    json_t *o = NULL;
    int st = 0;
    dft_buf_init(&text, POLICY_FILE_MAX, 0);
    if (!print && (st = read_file(cli->argv[2], &text)) != 0) {
        goto out;
    }
    if ((st = cli_open_vault(cli, &v)) != 0) {
        goto out;
    }
    enum dft_err rc = dft_vault_witness_policy_text(
        v, print ? NULL : (text.data != NULL ? (const char *)text.data : ""), text.len, &o, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        st = cli_report(&err);
        goto out;
    }
    if (cli->json) {
        json_object_del(o, "witnesses");
        cli_print_json(o);
    } else if (print) {
        fputs(json_string_value(json_object_get(o, "policy")), stdout);
    } else {
        printf("policy set: %lld witnesses, at least %lld cosignatures\n",
               (long long)json_integer_value(json_object_get(o, "witnesses")),
               (long long)json_integer_value(json_object_get(o, "min_cosignatures")));
    }
out:
    json_decref(o);
    dft_buf_release(&text);
    return st;
}

static int
w_network_entry(struct dft_cli *cli)
{
    const char *contact = NULL;
    uint64_t qpd = 24;
    for (int i = 1; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--contact") == 0 && i + 1 < cli->argc) {
            contact = cli->argv[++i];
        } else if (strcmp(cli->argv[i], "--qpd") == 0 && i + 1 < cli->argc) {
            if (cli_parse_u64(cli->argv[++i], &qpd) != 0 || qpd == 0 || qpd > 86400) {
                return cli_usage(cli, "--qpd needs 1 to 86400 requests per day");
            }
        } else {
            return cli_usage(cli, "unknown argument '%.64s'", cli->argv[i]);
        }
    }
    if (contact == NULL) {
        return cli_usage(cli, "network-entry needs --contact EMAIL-OR-URL (how the network "
                              "reaches you)");
    }
    for (const char *c = contact; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return cli_usage(cli, "--contact must be one line");
        }
    }
    struct dft_vault *v = NULL;
    json_t *id = NULL;
    struct dft_error err = {0};
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    enum dft_err rc = dft_vault_identity(v, &id, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    const char *vkey = json_string_value(json_object_get(id, "vkey"));
    const char *origin = json_string_value(json_object_get(id, "origin"));
    static const char warning[] =
        "Joining the public witness network is public. Every witness and monitor of the network "
        "will learn this log's origin, how many entries it has, its root hash and when it grows. "
        "They never receive a record, a name, a file or a key, and cannot read the vault. Send "
        "this entry only if it is acceptable that outsiders can see when and how much this "
        "vault is used.";
    struct dft_buf e;
    dft_buf_init(&e, 4096, 0);
    if (dft_buf_addf(&e, "vkey %s\norigin %s\nqpd %llu\ncontact %s\n", vkey,
                     origin != NULL ? origin : "none", (unsigned long long)qpd,
                     contact) != DFT_OK) {
        json_decref(id);
        dft_buf_release(&e);
        return cli_fail(1, "out of memory");
    }
    if (cli->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "entry", (const char *)e.data, "vkey",
                              vkey, "origin", origin != NULL ? origin : "", "qpd", (json_int_t)qpd,
                              "contact", contact, "warning", warning);
        cli_print_json(o);
        json_decref(o);
    } else {
        fprintf(stderr, "defter: %s\n", warning);
        printf("# logs/v0 entry for the witness network's testing list (witness-network.org)\n");
        fwrite(e.data, 1, e.len, stdout);
    }
    dft_buf_release(&e);
    json_decref(id);
    return 0;
}

int
dft_cmd_checkpoint_cosign(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    json_t *o = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    enum dft_err rc = dft_vault_cosign(v, &o, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    json_t *list = json_object_get(o, "witnesses");
    long long ok = (long long)json_integer_value(json_object_get(o, "cosignatures"));
    int met = json_is_true(json_object_get(o, "quorum_met"));
    int fork = json_is_true(json_object_get(o, "fork"));
    size_t i;
    json_t *w;
    if (cli->json) {
        cli_print_json(o);
    } else {
        printf("checkpoint of size %lld: %lld of %zu witnesses cosigned; quorum %s\n",
               (long long)json_integer_value(json_object_get(o, "size")), ok, json_array_size(list),
               met ? "met" : "not met");
        json_array_foreach(list, i, w)
        {
            const char *msg = json_string_value(json_object_get(w, "message"));
            printf("  %s: %s%s%s\n", json_string_value(json_object_get(w, "name")),
                   json_string_value(json_object_get(w, "result")), msg != NULL ? ": " : "",
                   msg != NULL ? msg : "");
        }
    }
    struct dft_buf failed;
    dft_buf_init(&failed, 4096, 0);
    json_array_foreach(list, i, w)
    {
        const char *result = json_string_value(json_object_get(w, "result"));
        const char *name = json_string_value(json_object_get(w, "name"));
        const char *msg = json_string_value(json_object_get(w, "message"));
        if (strcmp(result, "fork") == 0) {
            fprintf(stderr, "defter: witness %s saw another history of this log: %s\n", name,
                    msg != NULL ? msg : "");
        }
        if (strcmp(result, "cosigned") != 0 &&
            dft_buf_addf(&failed, "%s%s (%s)", failed.len ? ", " : "", name,
                         msg != NULL ? msg : "") != DFT_OK) {
            break;
        }
    }
    if (fork) {
        st = 3;
    } else if (!met) {
        st = cli_fail(1, "quorum not reached (%lld cosignatures); failed: %s", ok,
                      failed.len ? (const char *)failed.data : "none");
    } else if (failed.len > 0) {
        fprintf(stderr, "defter: quorum met; these witnesses failed: %s\n",
                (const char *)failed.data);
    }
    dft_buf_release(&failed);
    json_decref(o);
    return st;
}

int
dft_cmd_prove_tlog_proof(struct dft_cli *cli, const char *id)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    struct dft_buf out;
    json_t *info = NULL;
    dft_buf_init(&out, 2 * DFT_CHECKPOINT_MAX_BYTES, 0);
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    enum dft_err rc = dft_vault_tlog_proof(v, id, &out, &info, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        st = cli_report(&err);
    } else {
        int cosigned = json_is_true(json_object_get(info, "cosigned"));
        if (!cosigned) {
            fprintf(stderr, "defter: no cosigned checkpoint covers this record yet; the proof "
                            "carries the log's signature only (run defter checkpoint --cosign)\n");
        }
        if (cli->json) {
            json_t *o = json_pack("{s:s%,s:b,s:O}", "tlog_proof", (const char *)out.data, out.len,
                                  "cosigned", cosigned, "index", json_object_get(info, "index"));
            cli_print_json(o);
            json_decref(o);
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
    }
    json_decref(info);
    dft_buf_release(&out);
    return st;
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
    } else if (strcmp(sub, "add") == 0 && cli->argc == 3) {
        *status = w_add_url(cli);
    } else if (strcmp(sub, "policy") == 0 && cli->argc >= 2 && cli->argv[1][0] == '-') {
        *status = w_policy(cli);
    } else if (strcmp(sub, "network-entry") == 0) {
        *status = w_network_entry(cli);
    } else {
        return 0;
    }
    return 1;
}
