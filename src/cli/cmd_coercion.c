/*
 * cmd_coercion.c - `defter panic`, `defter duress set`, `defter recovery split|combine|rotate`.
 *
 * Parses arguments, calls one library function, prints. Shares are secrets: they go to stdout
 * (and QR files the user asked for) only, never to stderr or logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qrencode.h>
#include <sodium.h>

#include "cli/cmd_coercion.h"
#include "defter/coercion.h"
#include "vault/share.h"

int
dft_cmd_panic(struct dft_cli *cli)
{
    if (cli->argc != 0) {
        return cli_usage(cli, "panic takes no arguments");
    }
    struct dft_panic_result res;
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_panic(cli->vault_dir, &res, &err);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{sbsisI}", "wiped", 1, "copies", res.copies, "stopped",
                              (json_int_t)res.stopped);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("wiped: %d header copies overwritten; this vault can no longer be opened\n",
               res.copies);
        if (res.stopped > 0) {
            printf("stopped defter process %ld that held the vault\n", res.stopped);
        }
    }
    fflush(stdout);
    return 0;
}

static int
read_second_passphrase(struct dft_cli *cli, const char *file, const char *prompt, char **pass,
                       size_t *len)
{
    struct dft_error err = {0};
    struct dft_cli other = *cli;
    other.pass_file = file;
    if (cli_passphrase(&other, prompt, 1, pass, len, &err) != DFT_OK) {
        return cli_report(&err);
    }
    return 0;
}

/* `duress wipe-after N|off`: the passphrase that opens the vault is asked for once. */
static int
cmd_wipe_after(struct dft_cli *cli)
{
    if (cli->argc != 2) {
        return cli_usage(cli, "expected 'wipe-after N' (10 to 100) or 'wipe-after off'");
    }
    const char *a = cli->argv[1];
    unsigned n = 0;
    if (strcmp(a, "off") != 0) {
        char *end = NULL;
        errno = 0;
        unsigned long x = strtoul(a, &end, 10);
        if (a[0] < '0' || a[0] > '9' || *end != '\0' || errno != 0 || x < DFT_WIPE_AFTER_MIN ||
            x > DFT_WIPE_AFTER_MAX) {
            return cli_usage(cli, "wipe-after takes a number from %d to %d, or 'off' (got '%.32s')",
                             DFT_WIPE_AFTER_MIN, DFT_WIPE_AFTER_MAX, a);
        }
        n = (unsigned)x;
    }
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    char *real = NULL;
    size_t real_len = 0;
    int st = 0;
    if (cli_passphrase(cli, "Passphrase: ", 0, &real, &real_len, &err) != DFT_OK ||
        dft_vault_open(&v, cli->vault_dir, real, real_len, &err) != DFT_OK ||
        dft_vault_wipe_after(v, n, real, real_len, &err) != DFT_OK) {
        st = cli_report(&err);
    }
    sodium_free(real);
    dft_vault_close(v);
    if (st != 0) {
        return st;
    }
    if (cli->json) {
        json_t *o = json_pack("{sbsi}", "ok", 1, "wipe_after", (int)n);
        cli_print_json(o);
        json_decref(o);
    } else if (n == 0) {
        printf("wipe after wrong passphrases: off\n");
    } else {
        printf("wipe after %u wrong passphrases: after %u attempts in a row that do not open this\n"
               "compartment, its passphrase opens nothing any more (see docs/coercion.md)\n",
               n, n);
    }
    return 0;
}

int
dft_cmd_duress(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "wipe-after") == 0) {
        return cmd_wipe_after(cli);
    }
    if (cli->argc < 1 || strcmp(cli->argv[0], "set") != 0) {
        return cli_usage(cli, "expected 'set' or 'wipe-after'");
    }
    const char *action = NULL, *file = NULL, *decoy_file = NULL;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--action") == 0 && i + 1 < cli->argc) {
            action = cli->argv[++i];
        } else if (strcmp(a, "--duress-passphrase-file") == 0 && i + 1 < cli->argc) {
            file = cli->argv[++i];
        } else if (strcmp(a, "--decoy-passphrase-file") == 0 && i + 1 < cli->argc) {
            decoy_file = cli->argv[++i];
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    enum dft_duress_action act;
    if (action == NULL) {
        return cli_usage(cli, "--action is required (shred, decoy or shred+decoy)");
    } else if (strcmp(action, "shred") == 0) {
        act = DFT_DURESS_SHRED;
    } else if (strcmp(action, "decoy") == 0) {
        act = DFT_DURESS_DECOY;
    } else if (strcmp(action, "shred+decoy") == 0) {
        act = DFT_DURESS_SHRED_DECOY;
    } else {
        return cli_usage(cli, "unknown --action '%.32s' (shred, decoy, shred+decoy)", action);
    }
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    char *real = NULL, *pass = NULL, *decoy = NULL;
    size_t real_len = 0, len = 0, decoy_len = 0;
    int st = 0;
    if (cli_passphrase(cli, "Passphrase: ", 0, &real, &real_len, &err) != DFT_OK ||
        dft_vault_open(&v, cli->vault_dir, real, real_len, &err) != DFT_OK) {
        sodium_free(real);
        return cli_report(&err);
    }
    st = read_second_passphrase(
        cli, file, act == DFT_DURESS_DECOY ? "Decoy passphrase: " : "Duress passphrase: ", &pass,
        &len);
    if (st == 0 && act == DFT_DURESS_SHRED_DECOY) {
        st = read_second_passphrase(cli, decoy_file, "Decoy passphrase: ", &decoy, &decoy_len);
    }
    if (st == 0 &&
        dft_vault_duress_set(v, act, pass, len, real, real_len, decoy, decoy_len, &err) != DFT_OK) {
        st = cli_report(&err);
    }
    sodium_free(decoy);
    sodium_free(pass);
    sodium_free(real);
    dft_vault_close(v);
    if (st != 0) {
        return st;
    }
    if (cli->json) {
        json_t *o = json_pack("{sbss}", "ok", 1, "action", action);
        cli_print_json(o);
        json_decref(o);
    } else if (act == DFT_DURESS_SHRED_DECOY) {
        printf("duress passphrase set: typing it drops the real and recovery keys, then opens\n"
               "the decoy compartment (see docs/coercion.md for what it cannot do)\n");
    } else if (act == DFT_DURESS_DECOY) {
        printf("decoy compartment made: its passphrase opens it as if it were the only one;\n"
               "open it with that passphrase to add harmless records (see docs/coercion.md)\n");
    } else {
        printf("duress passphrase set: typing it drops the real and recovery keys, then says\n"
               "\"wrong passphrase or damaged header\" (see docs/coercion.md for what it cannot "
               "do)\n");
    }
    return 0;
}

/* ---- QR codes ---- */

static QRcode *
qr_of(const char *text)
{
    return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

/* An SVG: one rect per dark module, 4 modules of quiet zone. */
static int
write_svg(const char *path, const QRcode *q)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    int w = q->width + 8, scale = 8;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
            w * scale, w * scale, w, w, w, w);
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width; x++) {
            if (q->data[y * q->width + x] & 1) {
                fprintf(f, "M%d %dh1v1h-1z", x + 4, y + 4);
            }
        }
    }
    fprintf(f, "\"/>\n</svg>\n");
    int bad = ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* Terminal text: two modules per character, light modules drawn (for dark terminals). */
static void
print_qr_text(const QRcode *q)
{
    int w = q->width;
    for (int y = -2; y < w + 2; y += 2) {
        printf("  ");
        for (int x = -2; x < w + 2; x++) {
            int top = y >= 0 && y < w && x >= 0 && x < w && (q->data[y * w + x] & 1);
            int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (q->data[(y + 1) * w + x] & 1);
            /* light = not dark */
            const char *c = !top && !bot ? "\xe2\x96\x88"
                            : !top       ? "\xe2\x96\x80"
                            : !bot       ? "\xe2\x96\x84"
                                         : " ";
            fputs(c, stdout);
        }
        putchar('\n');
    }
}

static int
parse_count(struct dft_cli *cli, const char *name, const char *s, unsigned *out)
{
    uint64_t v = 0;
    if (cli_parse_u64(s, &v) != 0 || v > 255) {
        return cli_usage(cli, "%s needs a number, not '%.32s'", name, s);
    }
    *out = (unsigned)v;
    return 0;
}

static int
recovery_split(struct dft_cli *cli, int rotate)
{
    unsigned m = 0, n = 0;
    const char *qr_dir = NULL;
    int qr_text = 1;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        int st = 0;
        if (strcmp(a, "--threshold") == 0 && i + 1 < cli->argc) {
            st = parse_count(cli, a, cli->argv[++i], &m);
        } else if (strcmp(a, "--shares") == 0 && i + 1 < cli->argc) {
            st = parse_count(cli, a, cli->argv[++i], &n);
        } else if (strcmp(a, "--qr-dir") == 0 && i + 1 < cli->argc) {
            qr_dir = cli->argv[++i];
        } else if (strcmp(a, "--no-qr") == 0) {
            qr_text = 0;
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
        if (st != 0) {
            return st;
        }
    }
    if ((m == 0) != (n == 0) || (!rotate && m == 0)) {
        return cli_usage(cli, "--threshold M and --shares N go together");
    }
    struct stat sd;
    if (qr_dir != NULL && (stat(qr_dir, &sd) != 0 || !S_ISDIR(sd.st_mode))) {
        return cli_fail(1, "no directory '%.200s' for the QR codes", qr_dir);
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    struct dft_recovery_shares *s = NULL;
    enum dft_err rc =
        m == 0 ? dft_vault_recovery_void(v, &err) : dft_vault_recovery_split(v, m, n, &s, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (s == NULL) {
        if (cli->json) {
            json_t *o = json_pack("{sb}", "voided", 1);
            cli_print_json(o);
            json_decref(o);
        } else {
            printf("recovery shares voided: no share given out so far opens the vault\n");
        }
        return 0;
    }
    char *words = sodium_malloc(SHARE_WORDS * 10);
    json_t *arr = json_array();
    st = words == NULL || arr == NULL ? cli_fail(1, "out of memory") : 0;
    for (unsigned i = 0; st == 0 && i < s->n; i++) {
        const unsigned char *p = s->share[i];
        share_to_words(p, words, SHARE_WORDS * 10);
        QRcode *q = qr_of(words);
        char path[PATH_MAX] = "";
        if (q == NULL) {
            st = cli_fail(1, "cannot make a QR code: %s", strerror(errno));
            break;
        }
        if (qr_dir != NULL) {
            snprintf(path, sizeof path, "%s/share-%u.svg", qr_dir, p[SHARE_OFF_X]);
            if (write_svg(path, q) != 0) {
                st = cli_fail(1, "cannot write '%.200s': %s", path, strerror(errno));
            }
        }
        if (st == 0 && cli->json) {
            json_array_append_new(arr, json_pack("{sisssssi}", "index", p[SHARE_OFF_X], "words",
                                                 words, "qr", path, "threshold", s->m));
        } else if (st == 0) {
            printf("share %u of %u (any %u open the vault) - vault %02x%02x, split %02x%02x\n",
                   p[SHARE_OFF_X], s->n, s->m, p[0], p[1], p[2], p[3]);
            for (int w = 0, k = 0; words[k] != '\0'; w++) {
                int start = k;
                int count = 0;
                while (words[k] != '\0' && count < 8) {
                    if (words[k] == ' ') {
                        count++;
                    }
                    if (count < 8) {
                        k++;
                    }
                }
                printf("  %.*s\n", k - start, words + start);
                if (words[k] == ' ') {
                    k++;
                }
                (void)w;
            }
            if (qr_text) {
                print_qr_text(q);
            }
            if (path[0] != '\0') {
                printf("  QR code: %s\n", path);
            }
            printf("\n");
        }
        QRcode_free(q);
    }
    if (st == 0 && cli->json) {
        json_t *o = json_pack("{sisiso}", "threshold", s->m, "count", s->n, "shares", arr);
        arr = NULL;
        cli_print_json(o);
        json_decref(o);
    } else if (st == 0) {
        printf("Give each share to a different person. Any %u of them, with `defter recovery "
               "combine`,\nset a new passphrase. Earlier shares of this vault no longer work.\n",
               s->m);
    }
    json_decref(arr);
    sodium_free(words);
    dft_recovery_shares_free(s);
    return st;
}

/* Read a whole file (or stdin for "-") into sodium_malloc'd memory. */
static char *
slurp(const char *path, size_t max, struct dft_error *err)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dft_fail(err, DFT_ERR_INPUT, "cannot open '%.200s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = sodium_malloc(max + 1);
    size_t n = 0;
    while (buf != NULL && n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    if (fd != 0) {
        close(fd);
    }
    if (buf == NULL) {
        dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Blank out lines that are not words: comments and the "share 1 of 5 ..." titles. */
static void
strip_titles(char *t)
{
    char *line = t;
    while (*line != '\0') {
        char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '#' || strncmp(p, "share ", 6) == 0 || strncmp(p, "QR code:", 8) == 0 ||
            (unsigned char)*p >= 0x80) {
            memset(line, ' ', len);
        }
        line += len;
        if (*line == '\n') {
            line++;
        }
    }
}

static int
recovery_combine(struct dft_cli *cli)
{
    enum dft_kdf_level level = DFT_KDF_MODERATE;
    const char *new_file = NULL;
    const char *files[DFT_RECOVERY_SHARES_MAX];
    int nfiles = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--share-file") == 0 && i + 1 < cli->argc) {
            if (nfiles == DFT_RECOVERY_SHARES_MAX) {
                return cli_usage(cli, "at most %d --share-file", DFT_RECOVERY_SHARES_MAX);
            }
            files[nfiles++] = cli->argv[++i];
        } else if (strcmp(a, "--new-passphrase-file") == 0 && i + 1 < cli->argc) {
            new_file = cli->argv[++i];
        } else if (strcmp(a, "--kdf") == 0 && i + 1 < cli->argc) {
            if (dft_kdf_parse(cli->argv[++i], &level) != DFT_OK) {
                return cli_usage(cli, "unknown --kdf level '%.32s'", cli->argv[i]);
            }
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (nfiles == 0) {
        files[nfiles++] = "-";
    }
    struct dft_error err = {0};
    unsigned char(*shares)[DFT_SHARE_BYTES] =
        sodium_malloc(DFT_RECOVERY_SHARES_MAX * DFT_SHARE_BYTES);
    char *pass = NULL;
    size_t len = 0;
    unsigned k = 0;
    int st = 0;
    if (shares == NULL) {
        return cli_fail(1, "out of memory");
    }
    /* Every 32 words are one share; files or standard input, in order. */
    for (int f = 0; f < nfiles && st == 0; f++) {
        char *t = slurp(files[f], 64 * 1024, &err);
        if (t == NULL) {
            st = cli_report(&err);
            break;
        }
        strip_titles(t);
        char *p = t;
        while (st == 0) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                p++;
            }
            if (*p == '\0') {
                break;
            }
            /* the next 32 words */
            char *q = p;
            for (int w = 0; w < SHARE_WORDS && *q != '\0'; w++) {
                while (*q != '\0' && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
                    q++;
                }
                while (w < SHARE_WORDS - 1 &&
                       (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) {
                    q++;
                }
            }
            char save = *q;
            *q = '\0';
            char which[32];
            snprintf(which, sizeof which, "share %u", k + 1);
            if (k == DFT_RECOVERY_SHARES_MAX) {
                st = cli_fail(1, "more than %d shares given", DFT_RECOVERY_SHARES_MAX);
            } else if (share_from_words(shares[k], p, which, &err) != DFT_OK) {
                st = cli_report(&err);
            } else {
                k++;
            }
            *q = save;
            p = q;
        }
        sodium_free(t);
    }
    if (st == 0) {
        st = read_second_passphrase(cli, new_file, "New passphrase: ", &pass, &len);
    }
    if (st == 0 &&
        dft_vault_recovery_combine(cli->vault_dir, (const unsigned char(*)[DFT_SHARE_BYTES])shares,
                                   k, pass, len, level, &err) != DFT_OK) {
        st = cli_report(&err);
    }
    sodium_free(pass);
    sodium_free(shares);
    if (st != 0) {
        return st;
    }
    if (cli->json) {
        json_t *o = json_pack("{sbsi}", "ok", 1, "shares", (int)k);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("vault recovered: %u shares combined, new passphrase set\n", k);
    }
    return 0;
}

int
dft_cmd_recovery(struct dft_cli *cli)
{
    if (cli->argc < 1) {
        return cli_usage(cli, "expected split, combine or rotate");
    }
    const char *sub = cli->argv[0];
    if (strcmp(sub, "split") == 0) {
        return recovery_split(cli, 0);
    }
    if (strcmp(sub, "rotate") == 0) {
        return recovery_split(cli, 1);
    }
    if (strcmp(sub, "combine") == 0) {
        return recovery_combine(cli);
    }
    return cli_usage(cli, "unknown recovery command '%.32s'", sub);
}
