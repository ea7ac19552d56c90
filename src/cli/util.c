/*
 * util.c - exit statuses, messages, passphrase input, JSON output and argument parsing.
 *
 * Messages go to stderr as one line "defter: <message>"; with --json, stdout holds only JSON.
 * The passphrase is read into sodium_malloc memory and never echoed or logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_agent.h"

int
cli_status(enum dft_err code)
{
    switch (code) {
    case DFT_OK:
        return 0;
    case DFT_ERR_USAGE:
        return 2;
    case DFT_ERR_INTEGRITY:
        return 3;
    default:
        return 1;
    }
}

int
cli_report(const struct dft_error *err)
{
    const char *msg = err->msg[0] != '\0' ? err->msg : dft_strerror(err->code);
    fprintf(stderr, "defter: %s\n", msg);
    return cli_status(err->code);
}

int
cli_fail(int status, const char *fmt, ...)
{
    char msg[DFT_ERROR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "defter: %s\n", msg);
    return status;
}

int
cli_usage(struct dft_cli *cli, const char *fmt, ...)
{
    char msg[DFT_ERROR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "defter: %s\n", msg);
    fprintf(stderr, "try 'defter %s --help'\n", cli->command);
    return 2;
}

static enum dft_err
read_pass_file(const char *path, char **pass, size_t *len, struct dft_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot open passphrase file '%s': %s", path,
                        strerror(errno));
    }
    char *buf = sodium_malloc(DFT_PASSPHRASE_MAX + 2);
    if (buf == NULL) {
        close(fd);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, DFT_PASSPHRASE_MAX + 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;
            close(fd);
            sodium_free(buf);
            return dft_fail(err, DFT_ERR_INPUT, "cannot read passphrase file '%s': %s", path,
                            strerror(e));
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
        if (n > DFT_PASSPHRASE_MAX) {
            break;
        }
    }
    close(fd);
    /* The passphrase is the first line; a trailing newline (or CRLF) is not part of it. */
    char *nl = memchr(buf, '\n', n);
    if (nl != NULL) {
        n = (size_t)(nl - buf);
    }
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    if (n > DFT_PASSPHRASE_MAX) {
        sodium_free(buf);
        return dft_fail(err, DFT_ERR_INPUT, "passphrase is too long (max %d bytes)",
                        DFT_PASSPHRASE_MAX);
    }
    if (n == 0) {
        sodium_free(buf);
        return dft_fail(err, DFT_ERR_INPUT, "passphrase file '%s' is empty", path);
    }
    buf[n] = '\0';
    *pass = buf;
    *len = n;
    return DFT_OK;
}

static enum dft_err
read_tty_line(int fd, const char *prompt, char *buf, size_t max, size_t *len, struct dft_error *err)
{
    struct termios old, quiet;
    if (tcgetattr(fd, &old) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot read the passphrase from the terminal");
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot read the passphrase from the terminal");
    }
    size_t n = 0;
    enum dft_err rc = DFT_OK;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || c == '\n' || c == '\r') {
            break;
        }
        if (n < max) {
            buf[n] = c;
        }
        n++;
    }
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* nothing to do: the newline is cosmetic */
    }
    if (n > max) {
        rc = dft_fail(err, DFT_ERR_INPUT, "passphrase is too long (max %d bytes)",
                      DFT_PASSPHRASE_MAX);
        n = 0;
    }
    *len = n;
    return rc;
}

enum dft_err
cli_passphrase(struct dft_cli *cli, const char *prompt, int confirm, char **pass, size_t *len,
               struct dft_error *err)
{
    if (cli->pass_file != NULL) {
        return read_pass_file(cli->pass_file, pass, len, err);
    }
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "no passphrase: run in a terminal or give --passphrase-file FILE");
    }
    char *a = sodium_malloc(DFT_PASSPHRASE_MAX + 1);
    char *b = confirm ? sodium_malloc(DFT_PASSPHRASE_MAX + 1) : NULL;
    size_t an = 0, bn = 0;
    enum dft_err rc = DFT_OK;
    if (a == NULL || (confirm && b == NULL)) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = read_tty_line(fd, prompt, a, DFT_PASSPHRASE_MAX, &an, err)) != DFT_OK) {
        goto out;
    }
    if (an == 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
        goto out;
    }
    if (confirm) {
        if ((rc = read_tty_line(fd, "Repeat the passphrase: ", b, DFT_PASSPHRASE_MAX, &bn, err)) !=
            DFT_OK) {
            goto out;
        }
        if (an != bn || sodium_memcmp(a, b, an) != 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "the passphrases do not match");
            goto out;
        }
    }
    a[an] = '\0';
    *pass = a;
    *len = an;
    a = NULL;
out:
    close(fd);
    sodium_free(a);
    sodium_free(b);
    return rc;
}

int
cli_open_vault(struct dft_cli *cli, struct dft_vault **v)
{
    struct dft_error err = {0};
    char *pass = NULL;
    size_t len = 0;
    char prompt[128];
    if (dft_cli_agent_vault(v)) { /* inside the unlock agent: its open vault */
        return 0;
    }
    snprintf(prompt, sizeof prompt, "Passphrase: ");
    enum dft_err rc = cli_passphrase(cli, prompt, 0, &pass, &len, &err);
    if (rc == DFT_OK) {
        rc = dft_vault_open(v, cli->vault_dir, pass, len, &err);
    }
    sodium_free(pass);
    if (rc == DFT_ERR_BUSY && strcmp(cli->command, "unlock") != 0) {
        /* e.g. a `defter ui`: say how to have both at once */
        return cli_fail(1,
                        "%s (to use `defter ui` and commands at once, run `defter unlock` "
                        "first)",
                        err.msg);
    }
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    return 0;
}

int
cli_read(struct dft_cli *cli, dft_cli_query_fn query, void *ctx, void (*human)(const json_t *out))
{
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *out = NULL;
    enum dft_err rc = query(v, ctx, &out, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(out);
    } else {
        human(out);
    }
    json_decref(out);
    return 0;
}

void
cli_print_json(const json_t *j)
{
    size_t flags = JSON_ENCODE_ANY | (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT);
    json_dumpf(j, stdout, flags);
    fputc('\n', stdout);
    fflush(stdout);
}

int
cli_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 19) {
        return -1;
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

int
cli_parse_fields(struct dft_cli *cli, int first, json_t **out)
{
    json_t *fields = json_object();
    for (int i = first; i < cli->argc; i++) {
        const char *arg = cli->argv[i];
        const char *eq = strchr(arg, '=');
        if (eq == NULL || eq == arg) {
            json_decref(fields);
            return cli_usage(cli, "'%.64s' is not FIELD=VALUE", arg);
        }
        int raw = eq > arg && eq[-1] == ':';
        size_t klen = (size_t)(eq - arg) - (raw ? 1 : 0);
        char key[128];
        if (klen == 0 || klen >= sizeof key) {
            json_decref(fields);
            return cli_usage(cli, "'%.64s' is not FIELD=VALUE", arg);
        }
        memcpy(key, arg, klen);
        key[klen] = '\0';
        json_t *val;
        if (raw) {
            json_error_t jerr;
            val = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
            if (val == NULL) {
                json_decref(fields);
                return cli_fail(1, "field '%s': malformed JSON value: %s", key, jerr.text);
            }
        } else {
            size_t vlen = strlen(eq + 1);
            if (!dft_utf8_valid(eq + 1, vlen)) {
                json_decref(fields);
                return cli_fail(1, "field '%s' is not valid UTF-8 text", key);
            }
            val = json_stringn(eq + 1, vlen);
        }
        json_t *prev = json_object_get(fields, key);
        if (prev == NULL) {
            json_object_set_new(fields, key, val);
        } else if (json_is_array(prev) && !raw) {
            json_array_append_new(prev, val);
        } else {
            json_t *arr = json_pack("[OO]", prev, val);
            json_decref(val);
            json_object_set_new(fields, key, arr);
        }
    }
    *out = fields;
    return 0;
}

int
cli_parse_rate(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e9) {
        return -1;
    }
    *out = v;
    return 0;
}
