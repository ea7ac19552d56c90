/*
 * agent.c - the agent's socket path, its wire format, fd passing and the peer check.
 *
 * The socket lives in a directory of the user only (0700, owned by the user, not a symlink);
 * both ends check with SO_PEERCRED that the other runs as the same uid. This file never reads
 * or sends a passphrase or a key, and never trusts a length or a count it received beyond the
 * caps of agent.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "crypto/hash.h"

/* 1 when path is a real directory of ours, closed to group and others. */
static int
private_dir(const char *path, struct stat *st)
{
    if (lstat(path, st) != 0) {
        return 0;
    }
    return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

static enum dft_err
ensure_dir(const char *path, int create, struct dft_error *err)
{
    struct stat st;
    if (create && mkdir(path, 0700) != 0 && errno != EEXIST) {
        return dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    if (!private_dir(path, &st)) {
        if (lstat(path, &st) != 0) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "no agent directory '%s'", path);
        }
        return dft_fail(err, DFT_ERR_INPUT,
                        "refusing agent directory '%s': it must be a directory of this user "
                        "with mode 0700",
                        path);
    }
    return DFT_OK;
}

enum dft_err
agent_socket_path(const char *real_dir, int create, char *out, size_t max, struct dft_error *err)
{
    char dir[AGENT_PATH_MAX];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    unsigned char digest[DFT_HASH_BYTES];
    char hex[2 * DFT_HASH_BYTES + 1];
    struct crypto_sha256 h = {0};
    enum dft_err rc;
    int n;

    /* $XDG_RUNTIME_DIR only when it is absolute and the user's own private directory */
    if (xdg != NULL && xdg[0] == '/' && private_dir(xdg, &st)) {
        n = snprintf(dir, sizeof dir, "%s/defter", xdg);
    } else {
        n = snprintf(dir, sizeof dir, "/tmp/defter-%lu", (unsigned long)geteuid());
    }
    if (n < 0 || (size_t)n >= sizeof dir) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "agent directory path too long");
    }
    if ((rc = ensure_dir(dir, create, err)) != DFT_OK) {
        return rc;
    }
    if ((rc = crypto_sha256_init(&h, err)) != DFT_OK) {
        return rc;
    }
    crypto_sha256_update(&h, real_dir, strlen(real_dir));
    crypto_sha256_final(&h, digest);
    crypto_sha256_release(&h);
    dft_hex_encode(hex, digest, 16);
    n = snprintf(out, max, "%s/agent-%s.sock", dir, hex);
    if (n < 0 || (size_t)n >= max || (size_t)n >= AGENT_PATH_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "agent socket path too long");
    }
    return DFT_OK;
}

int
agent_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd;
    if (strlen(path) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
agent_peer_uid(int fd, uid_t *uid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
        return -1;
    }
    *uid = cred.uid;
    return 0;
}

enum dft_err
agent_req_check(const struct agent_req *req, const char *args, size_t args_len,
                const char **argv_out, struct dft_error *err)
{
    if (req->magic != AGENT_MAGIC) {
        return dft_fail(err, DFT_ERR_INPUT, "not an agent request");
    }
    if (req->kind < AGENT_RUN || req->kind > AGENT_UI) {
        return dft_fail(err, DFT_ERR_INPUT, "unknown agent request %u", (unsigned)req->kind);
    }
    if (req->argc > AGENT_ARGC_MAX || req->args_len > AGENT_ARGS_MAX || req->args_len != args_len) {
        return dft_fail(err, DFT_ERR_INPUT, "agent request too large");
    }
    size_t at = 0;
    for (uint32_t i = 0; i < req->argc; i++) {
        const char *nul = at < args_len ? memchr(args + at, '\0', args_len - at) : NULL;
        if (nul == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "malformed agent request");
        }
        if (argv_out != NULL) {
            argv_out[i] = args + at;
        }
        at = (size_t)(nul - args) + 1;
    }
    if (at != args_len) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed agent request");
    }
    if (argv_out != NULL) {
        argv_out[req->argc] = NULL;
    }
    return DFT_OK;
}

static int
write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = recv(fd, c, n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

enum dft_err
agent_send_req(int sock, uint32_t kind, int argc, const char *const *argv, const int *fds, int nfds,
               struct dft_error *err)
{
    struct agent_req req = {AGENT_MAGIC, kind, 0, 0, 0, 0};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * AGENT_FDS)];
    } ctl;
    struct iovec iov = {&req, sizeof req};
    struct msghdr msg;
    size_t total = 0;
    mode_t mask = umask(077);
    umask(mask);

    if (argc < 0 || argc > AGENT_ARGC_MAX || nfds < 0 || nfds > AGENT_FDS) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many arguments for the agent");
    }
    for (int i = 0; i < argc; i++) {
        total += strlen(argv[i]) + 1;
        if (total > AGENT_ARGS_MAX) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "arguments too long for the agent");
        }
    }
    req.argc = (uint32_t)argc;
    req.args_len = (uint32_t)total;
    req.umask = (uint32_t)mask;
    memset(&msg, 0, sizeof msg);
    memset(&ctl, 0, sizeof ctl);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t w;
    do {
        w = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof req) {
        return dft_fail(err, DFT_ERR_IO, "cannot talk to the agent: %s",
                        w < 0 ? strerror(errno) : "short write");
    }
    for (int i = 0; i < argc; i++) {
        if (write_all(sock, argv[i], strlen(argv[i]) + 1) != 0) {
            return dft_fail(err, DFT_ERR_IO, "cannot talk to the agent: %s", strerror(errno));
        }
    }
    return DFT_OK;
}

static int
fds_for(uint32_t kind)
{
    return kind == AGENT_RUN || kind == AGENT_UI ? AGENT_FDS : 0;
}

enum dft_err
agent_recv_req(int sock, struct agent_req *req, int *fds, int *nfds, char **args,
               struct dft_error *err)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * AGENT_FDS)];
    } ctl;
    struct iovec iov = {req, sizeof *req};
    struct msghdr msg;
    enum dft_err rc = DFT_OK;
    char *buf = NULL;
    ssize_t r;

    *nfds = 0;
    *args = NULL;
    memset(&msg, 0, sizeof msg);
    memset(&ctl, 0, sizeof ctl);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    do {
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    } while (r < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (*nfds < AGENT_FDS) {
                    fds[(*nfds)++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    if (r != (ssize_t)sizeof *req || (msg.msg_flags & MSG_CTRUNC) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "malformed agent request");
        goto out;
    }
    if (req->magic != AGENT_MAGIC || req->args_len > AGENT_ARGS_MAX || req->argc > AGENT_ARGC_MAX) {
        rc = dft_fail(err, DFT_ERR_INPUT, "malformed agent request");
        goto out;
    }
    if (*nfds != fds_for(req->kind)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "agent request without its file descriptors");
        goto out;
    }
    buf = malloc((size_t)req->args_len + 1);
    if (buf == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (req->args_len > 0 && read_all(sock, buf, req->args_len) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "truncated agent request");
        goto out;
    }
    buf[req->args_len] = '\0';
    if ((rc = agent_req_check(req, buf, req->args_len, NULL, err)) != DFT_OK) {
        goto out;
    }
    *args = buf;
    buf = NULL;
out:
    free(buf);
    if (rc != DFT_OK) {
        for (int i = 0; i < *nfds; i++) {
            close(fds[i]);
        }
        *nfds = 0;
    }
    return rc;
}

enum dft_err
agent_send_resp(int sock, int status, uint32_t flags, const char *text, struct dft_error *err)
{
    size_t len = text != NULL ? strlen(text) : 0;
    if (len > AGENT_TEXT_MAX) {
        len = AGENT_TEXT_MAX;
    }
    struct agent_resp resp = {AGENT_MAGIC, status, flags, (uint32_t)len};
    if (write_all(sock, &resp, sizeof resp) != 0 || (len > 0 && write_all(sock, text, len) != 0)) {
        return dft_fail(err, DFT_ERR_IO, "cannot answer the command: %s", strerror(errno));
    }
    return DFT_OK;
}

enum dft_err
agent_recv_resp(int sock, struct agent_resp *resp, char **text, struct dft_error *err)
{
    *text = NULL;
    if (read_all(sock, resp, sizeof *resp) != 0) {
        return dft_fail(err, DFT_ERR_IO, "the agent closed the connection");
    }
    if (resp->magic != AGENT_MAGIC || resp->len > AGENT_TEXT_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed answer from the agent");
    }
    char *t = malloc((size_t)resp->len + 1);
    if (t == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (resp->len > 0 && read_all(sock, t, resp->len) != 0) {
        free(t);
        return dft_fail(err, DFT_ERR_IO, "the agent closed the connection");
    }
    t[resp->len] = '\0';
    *text = t;
    return DFT_OK;
}

int
agent_parse_duration(const char *s, long *seconds)
{
    long total = 0;
    const char *p = s;
    if (s == NULL || *s == '\0') {
        return -1;
    }
    while (*p != '\0') {
        long n = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > AGENT_FOR_MAX) {
                return -1;
            }
            n = n * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0) {
            return -1;
        }
        long unit;
        switch (*p) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case '\0':
            if (p == s + digits) { /* a bare number: seconds */
                unit = 1;
                break;
            }
            return -1;
        default:
            return -1;
        }
        if (n > AGENT_FOR_MAX / unit) {
            return -1;
        }
        total += n * unit;
        if (total > AGENT_FOR_MAX) {
            return -1;
        }
        if (*p != '\0') {
            p++;
        }
    }
    if (total < 1) {
        return -1;
    }
    *seconds = total;
    return 0;
}
