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
#include "log/tlog.h"
#include "log/cosign.h"
#include "log/policy.h"
#include "log/witness_client.h"
#include "server/witness.h"
#include "vault/vault_internal.h" /* transitional: see tests/layers.sh */

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
    char vkey[DFT_NOTE_VKEY_MAX];
    struct dft_error err = {0};
    if (witness_init(dir, cli->argv[1], vkey, &err) != DFT_OK) {
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
    if (witness_trust(dir, cli->argv[1], cli->argv[2], &err) != DFT_OK) {
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
            return cli_usage(cli, "%.64s needs a value", a);
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            o.listen = v;
        } else if (strcmp(a, "--prefix") == 0) {
            o.prefix = v;
        } else if (strcmp(a, "--rate-ip") == 0) {
            if (parse_rate(v, &o.rate_ip) != 0) {
                return cli_usage(cli, "--rate-ip needs requests per second (0: no limit)");
            }
        } else if (strcmp(a, "--rate-log") == 0) {
            if (parse_rate(v, &o.rate_origin) != 0) {
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
    if (witness_server_start(&s, dir, &o, &err) != DFT_OK) {
        return cli_report(&err);
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
        return cli_usage(cli, "witness forks takes no arguments but --data DIR");
    }
    json_t *o = NULL;
    struct dft_error err = {0};
    if (witness_forks(dir, &o, &err) != DFT_OK) {
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
    if (witness_logs(dir, &o, &err) != DFT_OK) {
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

/* Append ops in one envelope; on success reload ws. */
static enum dft_err
append_ops(struct dft_vault *v, json_t *ops, struct dft_witness_set *ws, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (json_array_size(ops) > 0) {
        rc = dft_vault_append_ops(v, ops, NULL, err);
    }
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, ws, err);
    }
    return rc;
}

/* Trust key (if not yet) into ops, keeping ws as it will be; 0 or an exit status. */
static enum dft_err
trust_op(struct dft_witness_set *ws, const struct dft_note_verifier *key, json_t *ops,
         struct dft_error *err)
{
    char vk[DFT_NOTE_VKEY_MAX];
    json_t *op = NULL;
    for (size_t i = 0; i < ws->n; i++) {
        if (ws->keys[i].key_id == key->key_id && strcmp(ws->keys[i].name, key->name) == 0) {
            return DFT_OK;
        }
    }
    note_verifier_format(key, vk);
    enum dft_err rc = witness_add_op(ws, vk, &op, err);
    if (rc == DFT_OK) {
        json_array_append_new(ops, op);
        ws->keys[ws->n++] = *key;
    }
    return rc;
}

/* witness add VKEY URL: trust (when new) and remember where to ask. */
static int
w_add_url(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    struct dft_witness_set ws;
    struct dft_note_verifier key;
    char vk[DFT_NOTE_VKEY_MAX];
    const char *vkey = cli->argv[1], *url = cli->argv[2];
    enum dft_err rc = note_verifier_parse(&key, vkey, strlen(vkey), &err);
    if (rc == DFT_OK && key.alg != DFT_NOTE_ALG_COSIG_V1) {
        rc = dft_fail(&err, DFT_ERR_INPUT,
                      "'%s' is not a witness key: a witness key has type 0x04 "
                      "(tlog-cosignature/v1), this one 0x%02x",
                      key.name, (unsigned)key.alg);
    }
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    note_verifier_format(&key, vk);
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    json_t *ops = json_array();
    rc = vault_witness_set(v, &ws, &err);
    if (rc == DFT_OK) {
        char probe[WCLIENT_URL_MAX];
        uint64_t last = 0;
        /* check the URL before changing anything */
        rc = wclient_get(vault_db(v), vk, probe, &last, &err);
    }
    if (rc == DFT_OK) {
        rc = wclient_url_check(url, &err);
    }
    if (rc == DFT_OK) {
        rc = trust_op(&ws, &key, ops, &err);
    }
    if (rc == DFT_OK) {
        rc = append_ops(v, ops, &ws, &err);
    }
    if (rc == DFT_OK) {
        rc = wclient_set_url(vault_db(v), vk, url, &err);
    }
    json_decref(ops);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{sssssIsI}", "vkey", vk, "url", url, "trusted", (json_int_t)ws.n,
                              "policy", (json_int_t)ws.policy);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("trusted witness %s at %s (%zu trusted, policy %u)\n", key.name, url, ws.n,
               ws.policy);
    }
    return 0;
}

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
        return cli_fail(1, "cannot read '%s' (or larger than %u bytes)", path, POLICY_BYTES_MAX);
    }
    return 0;
}

/* The policy that holds now: the stored text, or K of the trusted witnesses. */
static enum dft_err
current_policy(struct dft_vault *v, const struct dft_witness_set *ws, struct policy *p,
               int *from_text, struct dft_error *err)
{
    struct dft_buf text;
    dft_buf_init(&text, POLICY_BYTES_MAX, 0);
    enum dft_err rc = wclient_policy_get(vault_db(v), &text, err);
    *from_text = rc == DFT_OK;
    if (rc == DFT_OK) {
        rc = policy_parse(p, text.data != NULL ? (const char *)text.data : "", text.len, err);
        dft_buf_release(&text);
        return rc;
    }
    dft_buf_release(&text);
    if (rc != DFT_ERR_NOT_FOUND) {
        return rc;
    }
    memset(p, 0, sizeof *p);
    json_t *id = NULL;
    if ((rc = dft_vault_identity(v, &id, err)) != DFT_OK) {
        return rc;
    }
    const char *lv = json_string_value(json_object_get(id, "vkey"));
    if (lv != NULL && note_verifier_parse(&p->logs[0].key, lv, strlen(lv), NULL) == DFT_OK) {
        p->nlogs = 1;
    }
    json_decref(id);
    for (size_t i = 0; i < ws->n; i++) {
        struct policy_witness *w = &p->witnesses[p->nwitnesses];
        char vk[DFT_NOTE_VKEY_MAX];
        uint64_t last = 0;
        snprintf(w->name, sizeof w->name, "w%zu", i + 1);
        w->key = ws->keys[i];
        note_verifier_format(&ws->keys[i], vk);
        if ((rc = wclient_get(vault_db(v), vk, w->url, &last, err)) != DFT_OK) {
            return rc;
        }
        p->nwitnesses++;
    }
    if (ws->policy == 0 || ws->n == 0) {
        p->quorum = POLICY_NONE;
    } else {
        struct policy_group *g = &p->groups[0];
        snprintf(g->name, sizeof g->name, "witnesses");
        g->k = ws->policy;
        g->n = (unsigned)ws->n;
        for (unsigned i = 0; i < g->n; i++) {
            g->members[i] = (int)i;
        }
        p->ngroups = 1;
        p->quorum = -1;
    }
    return DFT_OK;
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
    struct policy *p = calloc(1, sizeof *p);
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    struct dft_witness_set ws;
    int st = 0, from_text = 0;
    dft_buf_init(&text, POLICY_BYTES_MAX, 0);
    if (p == NULL) {
        return cli_fail(1, "out of memory");
    }
    if (!print) {
        if ((st = read_file(cli->argv[2], &text)) != 0) {
            goto out;
        }
        if (policy_parse(p, text.data != NULL ? (const char *)text.data : "", text.len, &err) !=
            DFT_OK) {
            st = cli_report(&err);
            goto out;
        }
    }
    if ((st = cli_open_vault(cli, &v)) != 0) {
        goto out;
    }
    enum dft_err rc = vault_witness_set(v, &ws, &err);
    if (rc == DFT_OK && !print) {
        /* The policy's logs must include this vault's key when it names any. */
        json_t *id = NULL;
        rc = dft_vault_identity(v, &id, &err);
        if (rc == DFT_OK && p->nlogs > 0) {
            struct dft_note_verifier mine;
            const char *lv = json_string_value(json_object_get(id, "vkey"));
            int found = 0;
            if (lv != NULL && note_verifier_parse(&mine, lv, strlen(lv), NULL) == DFT_OK) {
                for (size_t i = 0; i < p->nlogs; i++) {
                    found |= memcmp(p->logs[i].key.pub, mine.pub, 32) == 0 &&
                             strcmp(p->logs[i].key.name, mine.name) == 0;
                }
            }
            if (!found) {
                rc = dft_fail(&err, DFT_ERR_INPUT,
                              "the policy's log lines do not include this vault's key");
            }
        }
        json_decref(id);
        for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
            if (p->witnesses[i].url[0] != '\0') {
                rc = wclient_url_check(p->witnesses[i].url, &err);
            }
        }
        json_t *ops = json_array();
        for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
            rc = trust_op(&ws, &p->witnesses[i].key, ops, &err);
        }
        unsigned k = policy_min_cosignatures(p);
        json_t *op = NULL;
        if (rc == DFT_OK && (rc = witness_policy_op(&ws, k, &op, &err)) == DFT_OK) {
            json_array_append_new(ops, op);
        }
        if (rc == DFT_OK) {
            rc = append_ops(v, ops, &ws, &err);
        }
        json_decref(ops);
        for (size_t i = 0; rc == DFT_OK && i < p->nwitnesses; i++) {
            char vk[DFT_NOTE_VKEY_MAX];
            note_verifier_format(&p->witnesses[i].key, vk);
            if (p->witnesses[i].url[0] != '\0') {
                rc = wclient_set_url(vault_db(v), vk, p->witnesses[i].url, &err);
            }
        }
        if (rc == DFT_OK) {
            rc = wclient_policy_set(vault_db(v), (const char *)text.data, text.len, &err);
        }
    }
    if (rc == DFT_OK) {
        rc = current_policy(v, &ws, p, &from_text, &err);
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        st = cli_report(&err);
        goto out;
    }
    dft_buf_reset(&text);
    if (policy_format(p, &text, &err) != DFT_OK) {
        st = cli_report(&err);
        goto out;
    }
    if (cli->json) {
        json_t *o = json_pack("{s:s%,s:b,s:I,s:I}", "policy", (const char *)text.data, text.len,
                              "from_file", from_text, "trusted", (json_int_t)ws.n,
                              "min_cosignatures", (json_int_t)policy_min_cosignatures(p));
        cli_print_json(o);
        json_decref(o);
    } else if (print) {
        fwrite(text.data, 1, text.len, stdout);
    } else {
        printf("policy set: %zu witnesses, at least %u cosignatures\n", p->nwitnesses,
               policy_min_cosignatures(p));
    }
out:
    dft_buf_release(&text);
    free(p);
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

struct proof_ctx {
    sqlite3 *db;
};

static enum dft_err
consistency(void *ctx, uint64_t old_size, uint64_t new_size, unsigned char (*proof)[32], size_t *n,
            struct dft_error *err)
{
    struct proof_ctx *p = ctx;
    return tlog_prove_consistency(p->db, old_size, new_size, proof, n, err);
}

static const char *
result_word(enum cosign_result r)
{
    return r == COSIGN_OK ? "cosigned" : r == COSIGN_FORK ? "fork" : "failed";
}

int
dft_cmd_checkpoint_cosign(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    struct dft_witness_set ws;
    struct dft_buf note, merged, failed;
    struct policy *p = calloc(1, sizeof *p);
    struct cosign_target t[DFT_WITNESS_MAX];
    char vks[DFT_WITNESS_MAX][DFT_NOTE_VKEY_MAX];
    char urls[DFT_WITNESS_MAX][WCLIENT_URL_MAX];
    int cosigned[POLICY_WITNESS_MAX] = {0};
    uint64_t size = 0;
    int from_text = 0, st = 0, forks = 0, met = 0;
    size_t ok = 0, asked = 0;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&merged, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&failed, 4096, 0);
    memset(t, 0, sizeof t);
    if (p == NULL) {
        return cli_fail(1, "out of memory");
    }
    if ((st = cli_open_vault(cli, &v)) != 0) {
        free(p);
        return st;
    }
    sqlite3 *db = vault_db(v);
    struct proof_ctx pc = {db};
    enum dft_err rc = vault_witness_set(v, &ws, &err);
    if (rc == DFT_OK) {
        rc = tlog_size(db, &size, &err);
    }
    if (rc == DFT_OK) {
        rc = dft_vault_checkpoint(v, size, &note, &err);
    }
    if (rc == DFT_OK) {
        rc = current_policy(v, &ws, p, &from_text, &err);
    }
    if (rc == DFT_OK && ws.n == 0) {
        rc = dft_fail(&err, DFT_ERR_INPUT,
                      "no witness is trusted yet (defter witness add VKEY URL)");
    }
    for (size_t i = 0; rc == DFT_OK && i < ws.n; i++) {
        note_verifier_format(&ws.keys[i], vks[i]);
        t[i].key = &ws.keys[i];
        rc = wclient_get(db, vks[i], urls[i], &t[i].last_size, &err);
        t[i].url = urls[i];
    }
    /* ask those with a URL (the rest fail with a message) */
    struct cosign_target tt[DFT_WITNESS_MAX];
    size_t map[DFT_WITNESS_MAX];
    for (size_t i = 0; rc == DFT_OK && i < ws.n; i++) {
        if (urls[i][0] == '\0') {
            snprintf(t[i].msg, sizeof t[i].msg, "no URL to ask (defter witness add VKEY URL)");
            continue;
        }
        tt[asked] = t[i];
        map[asked] = i;
        asked++;
    }
    if (rc == DFT_OK && asked > 0) {
        rc = cosign_gather((const char *)note.data, note.len, tt, asked, consistency, &pc, 10000,
                           &err);
    }
    for (size_t j = 0; rc == DFT_OK && j < asked; j++) {
        t[map[j]] = tt[j];
    }
    /* remember sizes, merge and keep what verified */
    if (rc == DFT_OK && dft_buf_add(&merged, note.data, note.len) != DFT_OK) {
        rc = dft_fail(&err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == DFT_OK && i < ws.n; i++) {
        if (t[i].size_known) {
            rc = wclient_set_last(db, vks[i], t[i].witness_size, &err);
        }
        if (rc == DFT_OK && t[i].result == COSIGN_OK) {
            ok++;
            if (dft_buf_adds(&merged, t[i].line) != DFT_OK) {
                rc = dft_fail(&err, DFT_ERR_TOO_LARGE, "cosigned checkpoint is too large");
            }
            for (size_t k = 0; k < p->nwitnesses; k++) {
                if (p->witnesses[k].key.key_id == ws.keys[i].key_id &&
                    memcmp(p->witnesses[k].key.pub, ws.keys[i].pub, 32) == 0) {
                    cosigned[k] = 1;
                }
            }
        }
        forks += t[i].result == COSIGN_FORK;
    }
    if (rc == DFT_OK && ok > 0) {
        struct witness_import res;
        rc = witness_import(db, vault_keys(v)->sign_pk, &ws, (const char *)merged.data, merged.len,
                            &res, &err);
    }
    dft_vault_close(v);
    v = NULL;
    if (rc != DFT_OK) {
        st = cli_report(&err);
        goto out;
    }
    met = policy_met(p, cosigned) && ok >= 1;
    if (p->quorum == POLICY_NONE && ok == 0) {
        met = 0; /* asking witnesses and getting nothing is a failure even without a quorum */
    }
    for (size_t i = 0; i < ws.n; i++) {
        if (t[i].result != COSIGN_OK) {
            if (dft_buf_addf(&failed, "%s%s (%s)", failed.len ? ", " : "", ws.keys[i].name,
                             t[i].msg) != DFT_OK) {
                break;
            }
        }
    }
    if (cli->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < ws.n; i++) {
            json_t *o =
                json_pack("{s:s,s:s,s:s,s:I}", "name", ws.keys[i].name, "url", urls[i], "result",
                          result_word(t[i].result), "http", (json_int_t)t[i].http);
            if (t[i].result == COSIGN_OK) {
                json_object_set_new(o, "timestamp", json_integer((json_int_t)t[i].timestamp));
            } else {
                json_object_set_new(o, "message", json_string(t[i].msg));
            }
            json_array_append_new(list, o);
        }
        json_t *o =
            json_pack("{s:I,s:I,s:b,s:b,s:o}", "size", (json_int_t)size, "cosignatures",
                      (json_int_t)ok, "quorum_met", met, "fork", forks > 0, "witnesses", list);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("checkpoint of size %llu: %zu of %zu witnesses cosigned; quorum %s\n",
               (unsigned long long)size, ok, ws.n, met ? "met" : "not met");
        for (size_t i = 0; i < ws.n; i++) {
            printf("  %s: %s%s%s\n", ws.keys[i].name, result_word(t[i].result),
                   t[i].result == COSIGN_OK ? "" : ": ", t[i].result == COSIGN_OK ? "" : t[i].msg);
        }
    }
    if (forks > 0) {
        for (size_t i = 0; i < ws.n; i++) {
            if (t[i].result == COSIGN_FORK) {
                fprintf(stderr, "defter: witness %s saw another history of this log: %s\n",
                        ws.keys[i].name, t[i].msg);
            }
        }
        st = 3;
    } else if (!met) {
        st = cli_fail(1, "quorum not reached (%zu cosignatures); failed: %s", ok,
                      failed.len ? (const char *)failed.data : "none");
    } else if (failed.len > 0) {
        fprintf(stderr, "defter: quorum met; these witnesses failed: %s\n",
                (const char *)failed.data);
    }
out:
    dft_vault_close(v);
    dft_buf_release(&note);
    dft_buf_release(&merged);
    dft_buf_release(&failed);
    free(p);
    return st;
}

int
dft_cmd_prove_tlog_proof(struct dft_cli *cli, const char *id)
{
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    struct dft_witness_set ws;
    struct dft_buf cos, out;
    json_t *j = NULL;
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t np = 0;
    int cosigned = 0;
    dft_buf_init(&cos, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&out, 2 * DFT_NOTE_MAX_BYTES, 0);
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    sqlite3 *db = vault_db(v);
    enum dft_err rc = dft_vault_prove(v, id, &j, &err);
    uint64_t index = rc == DFT_OK ? (uint64_t)json_integer_value(json_object_get(j, "index")) : 0;
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, &ws, &err);
    }
    if (rc == DFT_OK) {
        struct dft_note n;
        struct dft_checkpoint c;
        enum dft_err lrc = witness_latest(db, vault_keys(v)->sign_pk, &ws, &cos, NULL);
        if (lrc == DFT_OK && note_parse(&n, (const char *)cos.data, cos.len, NULL) == DFT_OK) {
            if (checkpoint_parse(&c, n.text, n.text_len, NULL) == DFT_OK && c.size > index &&
                tlog_prove_inclusion(db, index, c.size, proof, &np, &err) == DFT_OK) {
                cosigned = 1;
            }
            note_release(&n);
        } else if (lrc != DFT_OK && lrc != DFT_ERR_NOT_FOUND) {
            rc = dft_fail(&err, lrc, "the kept cosigned checkpoint does not verify");
        }
    }
    if (rc == DFT_OK && !cosigned) {
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(j, "proof"), i, h)
        {
            const char *b = json_string_value(h);
            if (b == NULL || tlog_hash_decode(proof[np++], b, strlen(b), &err) != DFT_OK) {
                rc = dft_fail(&err, DFT_ERR_INTERNAL, "bad proof hash");
                break;
            }
        }
        dft_buf_reset(&cos);
        const char *ck = json_string_value(json_object_get(j, "checkpoint"));
        if (rc == DFT_OK && (ck == NULL || dft_buf_adds(&cos, ck) != DFT_OK)) {
            rc = dft_fail(&err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    dft_vault_close(v);
    if (rc == DFT_OK) {
        rc = tlog_proof_format(&out, index, (const unsigned char(*)[32])proof, np,
                               (const char *)cos.data, cos.len, &err);
    }
    json_decref(j);
    if (rc != DFT_OK) {
        st = cli_report(&err);
    } else {
        if (!cosigned) {
            fprintf(stderr, "defter: no cosigned checkpoint covers this record yet; the proof "
                            "carries the log's signature only (run defter checkpoint --cosign)\n");
        }
        if (cli->json) {
            json_t *o = json_pack("{s:s%,s:b,s:I}", "tlog_proof", (const char *)out.data, out.len,
                                  "cosigned", cosigned, "index", (json_int_t)index);
            cli_print_json(o);
            json_decref(o);
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
    }
    dft_buf_release(&cos);
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
