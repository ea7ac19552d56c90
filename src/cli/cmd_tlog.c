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
#include "defter/tlog.h"

/* The signed checkpoint of the tree of size leaves, appended to out. */
static enum dft_err
signed_checkpoint(struct dft_vault *v, uint64_t size, struct dft_buf *out, struct dft_error *err)
{
    const struct dft_keys *k = dft_vault_keys(v);
    struct dft_checkpoint c;
    memset(&c, 0, sizeof c);
    dft_tlog_origin(c.origin, k->sign_pk);
    c.size = size;
    enum dft_err rc = dft_tlog_root(dft_vault_db(v), size, c.root, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return dft_checkpoint_sign(out, &c, k->sign_sk, err);
}

static json_t *
hash_json(const unsigned char h[32])
{
    char b64[DFT_TLOG_HASH_B64];
    dft_tlog_hash_encode(b64, h);
    return json_string(b64);
}

static json_t *
proof_json(unsigned char (*proof)[32], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, hash_json(proof[i]));
    }
    return a;
}

/* Read a note from path ("-": stdin) into b (capped at DFT_NOTE_MAX_BYTES + 1). */
static int
read_note(const char *path, struct dft_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return dft_cli_fail(1, "cannot open '%s': %s", path, strerror(errno));
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
        return dft_cli_fail(1, "'%s' is too large for a checkpoint (max %d bytes)", path,
                            DFT_NOTE_MAX_BYTES);
    }
    if (rc != DFT_OK || ioerr) {
        return dft_cli_fail(1, "cannot read '%s'", path);
    }
    return 0;
}

static int
import_checkpoint(struct dft_cli *cli, const char *path)
{
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    int st = read_note(path, &note);
    if (st != 0) {
        dft_buf_release(&note);
        return st;
    }
    struct dft_vault *v = NULL;
    if ((st = dft_cli_open_vault(cli, &v)) != 0) {
        dft_buf_release(&note);
        return st;
    }
    struct dft_error err = {0};
    struct dft_witness_set ws;
    struct dft_witness_import res;
    enum dft_err rc = dft_witness_load(dft_vault_db(v), &ws, &err);
    if (rc == DFT_OK) {
        rc = dft_witness_import(dft_vault_db(v), dft_vault_keys(v)->sign_pk, &ws,
                                note.data != NULL ? (const char *)note.data : "", note.len, &res,
                                &err);
    }
    dft_vault_close(v);
    dft_buf_release(&note);
    if (rc != DFT_OK) {
        return dft_cli_report(&err);
    }
    int met = ws.policy == 0 || res.cosignatures >= ws.policy;
    if (cli->json) {
        json_t *o = json_pack("{sIsIsIsIsb}", "size", (json_int_t)res.size, "cosignatures",
                              (json_int_t)res.cosignatures, "added", (json_int_t)res.added,
                              "policy", (json_int_t)ws.policy, "policy_met", met);
        dft_cli_print_json(o);
        json_decref(o);
    } else {
        printf("kept checkpoint of size %llu with %zu trusted cosignatures (%zu new); policy %u "
               "of %zu %s\n",
               (unsigned long long)res.size, res.cosignatures, res.added, ws.policy, ws.n,
               met ? "met" : "not met");
    }
    return 0;
}

static int
latest_cosigned(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_witness_set ws;
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc = dft_witness_load(dft_vault_db(v), &ws, &err);
    if (rc == DFT_OK) {
        rc = dft_witness_latest(dft_vault_db(v), dft_vault_keys(v)->sign_pk, &ws, &note, &err);
    }
    dft_vault_close(v);
    if (rc == DFT_OK) {
        fwrite(note.data, 1, note.len, stdout);
    }
    dft_buf_release(&note);
    return rc == DFT_OK ? 0 : dft_cli_report(&err);
}

int
dft_cmd_checkpoint(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "--import") == 0) {
        if (cli->argc != 2) {
            return dft_cli_usage(cli, "--import needs one FILE (or - for stdin)");
        }
        return import_checkpoint(cli, cli->argv[1]);
    }
    if (cli->argc == 1 && strcmp(cli->argv[0], "--cosigned") == 0) {
        return latest_cosigned(cli);
    }
    if (cli->argc != 0) {
        return dft_cli_usage(cli, "unexpected argument '%.64s'", cli->argv[0]);
    }
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    uint64_t size = 0;
    enum dft_err rc = dft_tlog_size(dft_vault_db(v), &size, &err);
    if (rc == DFT_OK) {
        rc = signed_checkpoint(v, size, &note, &err);
    }
    dft_vault_close(v);
    if (rc == DFT_OK) {
        fwrite(note.data, 1, note.len, stdout);
    }
    dft_buf_release(&note);
    return rc == DFT_OK ? 0 : dft_cli_report(&err);
}

/* Index of the latest envelope touching id. */
static enum dft_err
latest_index(struct dft_vault *v, const char *id, uint64_t *index, struct dft_error *err)
{
    sqlite3 *db = dft_vault_db(v);
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(db, "SELECT max(idx) FROM history WHERE record = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot read history: %s", sqlite3_errmsg(db));
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    enum dft_err out = DFT_OK;
    if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
        out = dft_fail(err, DFT_ERR_NOT_FOUND, "no record '%.64s'", id);
    } else {
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return out;
}

static int
prove_inclusion(struct dft_cli *cli, const char *id)
{
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    sqlite3 *db = dft_vault_db(v);
    uint64_t index = 0, size = 0;
    unsigned char leaf[32];
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc = latest_index(v, id, &index, &err);
    if (rc == DFT_OK && (rc = dft_tlog_size(db, &size, &err)) == DFT_OK &&
        (rc = dft_tlog_leaf(db, index, leaf, &err)) == DFT_OK &&
        (rc = dft_tlog_prove_inclusion(db, index, size, proof, &n, &err)) == DFT_OK) {
        rc = signed_checkpoint(v, size, &note, &err);
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        dft_buf_release(&note);
        return dft_cli_report(&err);
    }
    json_t *o = json_pack("{sIsIsoso}", "index", (json_int_t)index, "size", (json_int_t)size,
                          "leaf_hash", hash_json(leaf), "proof", proof_json(proof, n));
    json_object_set_new(o, "checkpoint", json_stringn((const char *)note.data, note.len));
    if (cli->json) {
        dft_cli_print_json(o);
    } else {
        char b64[DFT_TLOG_HASH_B64];
        dft_tlog_hash_encode(b64, leaf);
        printf("index %llu\nsize %llu\nleaf_hash %s\n", (unsigned long long)index,
               (unsigned long long)size, b64);
        for (size_t i = 0; i < n; i++) {
            dft_tlog_hash_encode(b64, proof[i]);
            printf("proof %s\n", b64);
        }
        printf("\n");
        fwrite(note.data, 1, note.len, stdout);
    }
    json_decref(o);
    dft_buf_release(&note);
    return 0;
}

static int
prove_consistency(struct dft_cli *cli, uint64_t old_size, uint64_t new_size)
{
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    sqlite3 *db = dft_vault_db(v);
    unsigned char r1[32], r2[32];
    unsigned char proof[DFT_TLOG_PROOF_MAX][32];
    size_t n = 0;
    enum dft_err rc = dft_tlog_prove_consistency(db, old_size, new_size, proof, &n, &err);
    if (rc == DFT_OK && (rc = dft_tlog_root(db, old_size, r1, &err)) == DFT_OK) {
        rc = dft_tlog_root(db, new_size, r2, &err);
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return dft_cli_report(&err);
    }
    json_t *o = json_pack("{sIsIsososo}", "old_size", (json_int_t)old_size, "new_size",
                          (json_int_t)new_size, "old_root", hash_json(r1), "new_root",
                          hash_json(r2), "proof", proof_json(proof, n));
    if (cli->json) {
        dft_cli_print_json(o);
    } else {
        char b64[DFT_TLOG_HASH_B64];
        dft_tlog_hash_encode(b64, r1);
        printf("old_size %llu\nold_root %s\n", (unsigned long long)old_size, b64);
        dft_tlog_hash_encode(b64, r2);
        printf("new_size %llu\nnew_root %s\n", (unsigned long long)new_size, b64);
        for (size_t i = 0; i < n; i++) {
            dft_tlog_hash_encode(b64, proof[i]);
            printf("proof %s\n", b64);
        }
    }
    json_decref(o);
    return 0;
}

int
dft_cmd_prove(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "--consistency") == 0) {
        uint64_t a = 0, b = 0;
        if (cli->argc != 3 || dft_cli_parse_u64(cli->argv[1], &a) != 0 ||
            dft_cli_parse_u64(cli->argv[2], &b) != 0) {
            return dft_cli_usage(cli, "--consistency needs two tree sizes OLD NEW");
        }
        return prove_consistency(cli, a, b);
    }
    if (cli->argc != 1 || cli->argv[0][0] == '-') {
        return dft_cli_usage(cli, "prove needs one record id (or --consistency OLD NEW)");
    }
    return prove_inclusion(cli, cli->argv[0]);
}

static int
witness_list(struct dft_cli *cli)
{
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_witness_set ws;
    enum dft_err rc = dft_witness_load(dft_vault_db(v), &ws, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return dft_cli_report(&err);
    }
    json_t *list = json_array();
    for (size_t i = 0; i < ws.n; i++) {
        char vkey[DFT_NOTE_VKEY_MAX];
        char id[9];
        dft_note_verifier_format(&ws.keys[i], vkey);
        snprintf(id, sizeof id, "%08x", (unsigned)ws.keys[i].key_id);
        json_array_append_new(
            list, json_pack("{ssssss}", "name", ws.keys[i].name, "key_id", id, "vkey", vkey));
        if (!cli->json) {
            printf("%s\n", vkey);
        }
    }
    if (cli->json) {
        json_t *o = json_pack("{sosI}", "witnesses", list, "policy", (json_int_t)ws.policy);
        dft_cli_print_json(o);
        json_decref(o);
    } else {
        json_decref(list);
        printf("policy: %u of %zu trusted witnesses\n", ws.policy, ws.n);
    }
    return 0;
}

/* witness add VKEY / witness policy K: one signed operation. */
static int
witness_change(struct dft_cli *cli, const char *vkey, uint64_t k)
{
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_witness_set ws;
    json_t *op = NULL;
    enum dft_err rc = dft_witness_load(dft_vault_db(v), &ws, &err);
    if (rc == DFT_OK) {
        rc = vkey != NULL ? dft_witness_add_op(&ws, vkey, &op, &err)
                          : dft_witness_policy_op(&ws, k, &op, &err);
    }
    if (rc == DFT_OK) {
        json_t *ops = json_pack("[O]", op);
        rc = ops == NULL ? dft_fail(&err, DFT_ERR_NOMEM, "out of memory")
                         : dft_vault_append_ops(v, ops, NULL, &err);
        json_decref(ops);
    }
    if (rc == DFT_OK) {
        rc = dft_witness_load(dft_vault_db(v), &ws, &err);
    }
    dft_vault_close(v);
    if (rc != DFT_OK) {
        json_decref(op);
        return dft_cli_report(&err);
    }
    if (cli->json) {
        json_t *o =
            json_pack("{sIsI}", "trusted", (json_int_t)ws.n, "policy", (json_int_t)ws.policy);
        if (vkey != NULL) {
            json_object_set(o, "vkey", json_object_get(json_object_get(op, "fields"), "vkey"));
        }
        dft_cli_print_json(o);
        json_decref(o);
    } else if (vkey != NULL) {
        printf("trusted witness %s (%zu trusted, policy %u)\n", ws.keys[ws.n - 1].name, ws.n,
               ws.policy);
    } else {
        printf("policy: %u of %zu trusted witnesses\n", ws.policy, ws.n);
    }
    json_decref(op);
    return 0;
}

int
dft_cmd_witness(struct dft_cli *cli)
{
    const char *sub = cli->argc >= 1 ? cli->argv[0] : "";
    if (strcmp(sub, "list") == 0) {
        if (cli->argc != 1) {
            return dft_cli_usage(cli, "witness list takes no arguments");
        }
        return witness_list(cli);
    }
    if (strcmp(sub, "add") == 0) {
        if (cli->argc != 2) {
            return dft_cli_usage(cli, "witness add needs one verifier key");
        }
        return witness_change(cli, cli->argv[1], 0);
    }
    if (strcmp(sub, "policy") == 0) {
        uint64_t k = 0;
        if (cli->argc != 2 || dft_cli_parse_u64(cli->argv[1], &k) != 0) {
            return dft_cli_usage(cli, "witness policy needs a number K");
        }
        return witness_change(cli, NULL, k);
    }
    return dft_cli_usage(cli, "witness needs add VKEY, list or policy K");
}
