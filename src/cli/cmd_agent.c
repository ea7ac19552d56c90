/*
 * cmd_agent.c - one unlock for a working session: `defter unlock [--for D] [--idle D]` starts a
 * per-user agent (as ssh-agent and gpg-agent) that holds the open vault; `defter lock` wipes it;
 * `defter status` says whether it runs and until when. Every other command of the same user for
 * the same vault goes through it without asking for the passphrase, and `defter ui` serves its
 * pages from it, so the UI and the command line work on one vault at once.
 *
 * How a command goes through the agent: the command (client) connects to the agent's socket
 * (src/agent/agent.c: a 0700 directory of the user, one socket per vault real path), checks that
 * the agent runs as its own uid (SO_PEERCRED), and sends its argv with its cwd, stdin, stdout
 * and stderr (SCM_RIGHTS). The agent checks the client's uid the same way, puts those fds in
 * place of its own, fchdirs, runs the same dispatch as main() with its open vault lent to the
 * command (dft_vault_ref), flushes, restores its fds and answers the exit status. One request at
 * a time; the UI server's thread and the requests share the vault under one gate
 * (src/agent/gate.c).
 *
 * The agent locks (wipes the keys, removes its socket and exits) on `defter lock`, after an idle
 * time without a request or UI use (default 15 min: --idle, else $DEFTER_AGENT_IDLE), on
 * SIGTERM, SIGINT or SIGHUP, and when its --for (default 12 h) runs out. It is not dumpable and
 * has no core limit; its keys are in sodium_malloc'd (locked, guarded) memory. It must never
 * serve another uid, run init, passwd or unlock for a client, or hold the gate while it waits
 * for a client.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cli/cmd_agent.h"
#include "defter/server.h"

/* State of the agent process (only in the agent; the client uses none of it). */
static struct {
    int serving;             /* 1 inside the agent process */
    struct dft_vault *vault; /* the vault while no UI holds it */
    struct dft_ui *ui;       /* the UI served, or NULL */
    int ui_sock;             /* connection of the `defter ui` that asked for it, or -1 */
    int log_fd;              /* that command's stderr (UI request lines), or -1 */
    int devnull;             /* the agent's own stdin, stdout and stderr */
    char dir[PATH_MAX];      /* real path of the vault */
    char sock[AGENT_PATH_MAX];
    int64_t deadline;   /* CLOCK_MONOTONIC second when --for runs out */
    time_t until;       /* the same, wall clock */
    long idle;          /* seconds without use before locking */
    const char *reason; /* why it locked, for the UI's command */
} ag = {.ui_sock = -1, .log_fd = -1, .devnull = -1};

/* ---- shared by client and agent ---- */

static void
fmt_wall(char *out, size_t max, time_t t, int utc)
{
    struct tm tm;
    if (utc) {
        gmtime_r(&t, &tm);
        strftime(out, max, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        localtime_r(&t, &tm);
        strftime(out, max, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

/* The real path of the vault directory and its agent socket path; 0 on success. */
static int
agent_paths(struct dft_cli *cli, int create, char *real, char *sock, struct dft_error *err)
{
    if (realpath(cli->vault_dir, real) == NULL) {
        dft_fail(err, DFT_ERR_NOT_FOUND, "no vault at '%s'", cli->vault_dir);
        return -1;
    }
    return agent_socket_path(real, create, sock, AGENT_PATH_MAX, err) == DFT_OK ? 0 : -1;
}

/*
 * Connect to the agent of this vault. Returns the socket, or -1 when there is none we may use:
 * nothing listening, or a peer of another uid (said on stderr: someone else's socket there).
 */
static int
client_connect(struct dft_cli *cli, char *real)
{
    char sock[AGENT_PATH_MAX];
    uid_t peer;
    if (agent_paths(cli, 0, real, sock, NULL) != 0) {
        return -1;
    }
    int s = agent_connect(sock);
    if (s < 0) {
        return -1;
    }
    if (agent_peer_uid(s, &peer) != 0 || peer != geteuid()) {
        fprintf(stderr, "defter: ignoring the agent socket '%s': it is not this user's\n", sock);
        close(s);
        return -1;
    }
    return s;
}

/* cwd, stdin, stdout, stderr for the agent (a closed std fd is sent as /dev/null). */
static int
client_fds(int fds[AGENT_FDS], int *extra)
{
    *extra = -1;
    fds[0] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fds[0] < 0) {
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        fds[i + 1] = i;
        if (fcntl(i, F_GETFD) < 0) {
            if (*extra < 0) {
                *extra = open("/dev/null", O_RDWR | O_CLOEXEC);
            }
            fds[i + 1] = *extra;
        }
    }
    return 0;
}

static void
client_fds_close(int fds[AGENT_FDS], int extra)
{
    close(fds[0]);
    if (extra >= 0) {
        close(extra);
    }
}

/* Commands that never go through the agent. */
static int
never_forwarded(const struct dft_cli *cli)
{
    static const char *const local[] = {"init",   "passwd", "unlock", "lock",
                                        "status", "ui",     "serve"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        if (strcmp(cli->command, local[i]) == 0) {
            return 1;
        }
    }
    /* long-running servers and key set-up of other commands stay in their own process */
    return strcmp(cli->command, "witness") == 0 && cli->argc > 0 &&
           (strcmp(cli->argv[0], "serve") == 0 || strcmp(cli->argv[0], "init") == 0);
}

int
dft_cli_agent_forward(struct dft_cli *cli, int *status)
{
    char real[PATH_MAX];
    int fds[AGENT_FDS], extra = -1;
    struct dft_error err = {0};
    struct agent_resp resp;
    char *text = NULL;
    int forwarded = 0;

    if (ag.serving) {
        if (never_forwarded(cli)) { /* only a hand-made request asks for these */
            *status = cli_fail(1, "'%s' does not run through the unlock agent", cli->command);
            return 1;
        }
        if (realpath(cli->vault_dir, real) == NULL || strcmp(real, ag.dir) != 0) {
            *status = cli_fail(1, "this unlock agent holds another vault");
            return 1;
        }
        return 0;
    }
    if (never_forwarded(cli)) {
        if (strcmp(cli->command, "passwd") == 0) {
            int s = client_connect(cli, real);
            if (s >= 0) {
                close(s);
                *status = cli_fail(1, "the vault is unlocked by an agent: run `defter lock` "
                                      "first");
                return 1;
            }
        }
        return 0;
    }
    int s = client_connect(cli, real);
    if (s < 0) {
        return 0;
    }
    /* defter --vault REAL [--json] COMMAND ARGS...: the agent's environment plays no part */
    const char **argv = calloc((size_t)cli->argc + 5, sizeof *argv);
    if (argv == NULL || client_fds(fds, &extra) != 0) {
        free(argv);
        close(s);
        return 0;
    }
    int n = 0;
    argv[n++] = "--vault";
    argv[n++] = real;
    if (cli->json) {
        argv[n++] = "--json";
    }
    argv[n++] = cli->command;
    for (int i = 0; i < cli->argc; i++) {
        argv[n++] = cli->argv[i];
    }
    fflush(stdout);
    fflush(stderr);
    if (agent_send_req(s, AGENT_RUN, n, argv, fds, AGENT_FDS, &err) != DFT_OK) {
        goto out; /* the agent got nothing it can run: run it here */
    }
    enum dft_err rc = agent_recv_resp(s, &resp, &text, &err);
    if (rc == DFT_ERR_INPUT) { /* not our agent: it ran nothing of ours */
        fprintf(stderr, "defter: ignoring the agent socket: the answer is not a defter agent's\n");
        goto out;
    }
    if (rc != DFT_OK) {
        *status = cli_fail(1, "the unlock agent stopped before answering; check with "
                              "`defter log` whether the command ran");
        forwarded = 1;
        goto out;
    }
    if ((resp.flags & AGENT_R_LOCKED) == 0) {
        if (text != NULL && text[0] != '\0') { /* the agent's own trouble with the request */
            fprintf(stderr, "defter: %s\n", text);
        }
        *status = resp.status;
        forwarded = 1;
    }
out:
    free(text);
    free(argv);
    client_fds_close(fds, extra);
    close(s);
    return forwarded;
}

int
dft_cli_agent_vault(struct dft_vault **v)
{
    if (!ag.serving) {
        return 0;
    }
    struct dft_vault *cur = ag.ui != NULL ? dft_ui_vault(ag.ui) : ag.vault;
    if (cur == NULL) {
        return 0;
    }
    *v = dft_vault_ref(cur);
    return 1;
}

/* ---- the agent ---- */

static void
agent_log(void *ctx, enum dft_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    if (ag.log_fd >= 0) {
        dprintf(ag.log_fd, "defter: %s\n", msg);
    }
}

/* The vault the agent holds now (NULL: locked, e.g. by "Lock" in the UI). Under the gate. */
static struct dft_vault *
current_vault(void)
{
    return ag.ui != NULL ? dft_ui_vault(ag.ui) : ag.vault;
}

static json_t *
status_json(void)
{
    char until[32], idle_at[32];
    int64_t now = agent_now();
    int64_t left = agent_gate_last_use() + ag.idle - now;
    agent_gate_hold();
    int locked = current_vault() == NULL;
    agent_gate_leave();
    fmt_wall(until, sizeof until, ag.until, 1);
    fmt_wall(idle_at, sizeof idle_at, time(NULL) + (left > 0 ? left : 0), 1);
    return json_pack("{s:s, s:b, s:I, s:s, s:I, s:s, s:b, s:s}", "vault", ag.dir, "locked", locked,
                     "pid", (json_int_t)getpid(), "until", until, "idle_seconds",
                     (json_int_t)ag.idle, "idle_lock_at", idle_at, "ui", ag.ui != NULL, "socket",
                     ag.sock);
}

/* Wipe everything, tell a UI's command why, remove the socket, exit. */
static void
agent_shutdown(const char *reason)
{
    unlink(ag.sock);
    if (ag.ui != NULL) {
        agent_gate_hold();
        struct dft_vault *v = dft_ui_take_vault(ag.ui);
        agent_gate_leave();
        dft_vault_close(v);
        dft_ui_free(ag.ui); /* without the gate: its thread may be waiting for it */
        ag.ui = NULL;
    }
    agent_gate_hold();
    dft_vault_close(ag.vault);
    ag.vault = NULL;
    agent_gate_leave();
    if (ag.ui_sock >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the vault was locked (%s); the UI stopped", reason);
        agent_send_resp(ag.ui_sock, 0, AGENT_R_ENDED, msg, NULL);
        close(ag.ui_sock);
        ag.ui_sock = -1;
    }
}

/* The UI's command went away: take the vault back (NULL when locked in the page). */
static void
ui_detach(void)
{
    agent_gate_hold();
    struct dft_vault *v = dft_ui_take_vault(ag.ui);
    agent_gate_leave();
    dft_ui_free(ag.ui);
    ag.ui = NULL;
    ag.vault = v;
    dft_log_set(NULL, NULL, DFT_LOG_WARN);
    if (ag.log_fd >= 0) {
        close(ag.log_fd);
        ag.log_fd = -1;
    }
    agent_send_resp(ag.ui_sock, 0, AGENT_R_ENDED, "stopping the UI", NULL);
    close(ag.ui_sock);
    ag.ui_sock = -1;
}

static int
std_restore(void)
{
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        bad |= dup2(ag.devnull, i) < 0;
    }
    return bad ? -1 : 0;
}

/* Run one command line with the client's fds and cwd; answer its exit status. */
static void
serve_run(int s, const struct agent_req *req, int *fds, char *args)
{
    const char **argv = calloc((size_t)req->argc + 2, sizeof *argv);
    struct dft_error err = {0};
    int st = 1;
    if (argv == NULL || agent_req_check(req, args, req->args_len, argv + 1, &err) != DFT_OK) {
        agent_send_resp(s, 1, 0, "malformed request to the unlock agent", NULL);
        free(argv);
        return;
    }
    argv[0] = "defter";
    agent_gate_enter();
    if (current_vault() == NULL) {
        agent_gate_leave();
        agent_send_resp(s, 0, AGENT_R_LOCKED, NULL, NULL);
        free(argv);
        return;
    }
    if (dup2(fds[1], 0) < 0 || dup2(fds[2], 1) < 0 || dup2(fds[3], 2) < 0 || fchdir(fds[0]) != 0) {
        (void)std_restore();
        agent_gate_leave();
        agent_send_resp(s, 1, 0, "the unlock agent cannot enter the command's directory", NULL);
        free(argv);
        return;
    }
    mode_t old = umask((mode_t)(req->umask & 0777));
    clearerr(stdin);
    __fpurge(stdin);
    st = dft_cli_main((int)req->argc + 1, (char **)(uintptr_t)argv);
    fflush(stdout);
    fflush(stderr);
    __fpurge(stdin);
    __fpurge(stdout); /* output that could not be written stays the client's loss */
    clearerr(stdin);
    clearerr(stdout);
    clearerr(stderr);
    umask(old);
    if (std_restore() != 0 || chdir("/") != 0) {
        st = 1;
    }
    agent_gate_leave();
    free(argv);
    agent_send_resp(s, st, 0, NULL, NULL);
}

/* Serve `defter ui` from the agent; on success s becomes the UI's connection. */
static int
serve_ui(int s, const struct agent_req *req, int *fds, char *args)
{
    const char *argv[2];
    struct dft_error err = {0};
    uint64_t port = 0;
    if (agent_req_check(req, args, req->args_len, argv, &err) != DFT_OK || req->argc != 1 ||
        cli_parse_u64(argv[0], &port) != 0 || port > 65535) {
        agent_send_resp(s, 2, 0, "malformed UI request to the agent", NULL);
        return 0;
    }
    if (ag.ui != NULL) {
        agent_send_resp(s, 1, 0, "a `defter ui` already runs for this vault from the unlock agent",
                        NULL);
        return 0;
    }
    if (ag.vault == NULL) {
        agent_send_resp(s, 0, AGENT_R_LOCKED, NULL, NULL);
        return 0;
    }
    ag.log_fd = fcntl(fds[3], F_DUPFD_CLOEXEC, 3);
    dft_log_set(agent_log, NULL, DFT_LOG_INFO);
    agent_gate_enter();
    /* the UI gets its own holder: if it cannot start, the agent keeps the vault */
    enum dft_err rc = dft_ui_start(&ag.ui, dft_vault_ref(ag.vault), ag.dir, (uint16_t)port, &err);
    if (rc == DFT_OK) {
        dft_vault_close(ag.vault); /* the UI's handle is now the only one */
        ag.vault = NULL;
    }
    agent_gate_leave();
    if (rc != DFT_OK) {
        dft_log_set(NULL, NULL, DFT_LOG_WARN);
        close(ag.log_fd);
        ag.log_fd = -1;
        agent_send_resp(s, cli_status(rc), 0, err.msg[0] != '\0' ? err.msg : dft_strerror(rc),
                        NULL);
        return 0;
    }
    if (agent_send_resp(s, 0, 0, dft_ui_url(ag.ui), NULL) != DFT_OK) {
        ui_detach();
        return 0;
    }
    ag.ui_sock = s;
    return 1;
}

/* Accept one connection and answer it. Returns 1 when the agent must lock now. */
static int
serve_one(int lsock)
{
    struct agent_req req;
    struct dft_error err = {0};
    int fds[AGENT_FDS], nfds = 0, lock = 0, keep = 0;
    char *args = NULL;
    uid_t peer;
    struct timeval tv = {10, 0};

    int s = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0) {
        return 0;
    }
    if (agent_peer_uid(s, &peer) != 0 || peer != geteuid()) {
        char msg[96];
        snprintf(msg, sizeof msg, "refused: this agent serves uid %lu only",
                 (unsigned long)geteuid());
        agent_send_resp(s, 1, 0, msg, NULL);
        close(s);
        return 0;
    }
    (void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (agent_recv_req(s, &req, fds, &nfds, &args, &err) != DFT_OK) {
        agent_send_resp(s, 2, 0, err.msg, NULL);
        close(s);
        return 0;
    }
    switch (req.kind) {
    case AGENT_RUN:
        serve_run(s, &req, fds, args);
        break;
    case AGENT_UI:
        keep = serve_ui(s, &req, fds, args);
        break;
    case AGENT_STATUS: {
        json_t *j = status_json();
        char *t = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        agent_send_resp(s, t != NULL ? 0 : 1, 0, t, NULL);
        dft_json_string_free(t);
        json_decref(j);
        break;
    }
    case AGENT_LOCK:
        ag.reason = "defter lock";
        agent_shutdown(ag.reason);
        agent_send_resp(s, 0, 0, NULL, NULL);
        lock = 1;
        break;
    default:
        break;
    }
    for (int i = 0; i < nfds; i++) {
        close(fds[i]);
    }
    free(args);
    if (!keep) {
        close(s);
    }
    return lock;
}

/* The agent's loop: requests, the UI's connection, signals, the idle and --for timers. */
static void
agent_loop(int lsock, int sigfd)
{
    for (;;) {
        int64_t now = agent_now();
        int64_t idle_end = agent_gate_last_use() + ag.idle;
        if (now >= ag.deadline) {
            agent_shutdown("its --for ran out");
            return;
        }
        if (now >= idle_end) {
            agent_shutdown("idle");
            return;
        }
        int64_t wait = (ag.deadline < idle_end ? ag.deadline : idle_end) - now;
        struct pollfd p[3] = {{lsock, POLLIN, 0}, {sigfd, POLLIN, 0}, {ag.ui_sock, POLLIN, 0}};
        int r = poll(p, ag.ui_sock >= 0 ? 3 : 2, (int)(wait > 3600 ? 3600000 : wait * 1000));
        if (r < 0 && errno != EINTR) {
            agent_shutdown("an error");
            return;
        }
        if (r <= 0) {
            continue;
        }
        if (p[1].revents != 0) {
            agent_shutdown("a signal");
            return;
        }
        if (ag.ui_sock >= 0 && p[2].revents != 0) {
            char c;
            if (recv(ag.ui_sock, &c, 1, MSG_DONTWAIT) <= 0) {
                ui_detach();
                if (ag.vault == NULL) { /* locked in the page, then the UI stopped */
                    agent_shutdown("locked in the UI");
                    return;
                }
            }
        }
        if (p[0].revents != 0 && serve_one(lsock)) {
            return;
        }
    }
}

/* Not dumpable, no core file, before any key is in memory (OpenSSH's platform_disable_tracing). */
static void
harden(void)
{
    struct rlimit no = {0, 0};
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)setrlimit(RLIMIT_CORE, &no);
}

static int
bind_socket(const char *path, struct dft_error *err)
{
    struct sockaddr_un sa;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        dft_fail(err, DFT_ERR_IO, "cannot create a socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    mode_t old = umask(0177);
    int rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
    if (rc != 0 && errno == EADDRINUSE) {
        int c = agent_connect(path);
        if (c >= 0) {
            close(c);
            umask(old);
            close(s);
            dft_fail(err, DFT_ERR_BUSY, "an agent already holds this vault");
            return -1;
        }
        unlink(path); /* left by an agent that was killed */
        rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
    }
    umask(old);
    if (rc != 0 || listen(s, 16) != 0) {
        dft_fail(err, DFT_ERR_IO, "cannot listen on '%s': %s", path, strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

static int
print_status(struct dft_cli *cli, const char *real, const char *text)
{
    json_error_t jerr;
    json_t *j = text != NULL ? json_loads(text, 0, &jerr) : NULL;
    if (j == NULL) {
        j = json_pack("{s:s, s:b}", "vault", real, "locked", 1);
    }
    if (cli->json) {
        cli_print_json(j);
    } else if (json_is_true(json_object_get(j, "locked"))) {
        printf("locked: %s\n", real);
    } else {
        time_t until = 0, idle_at = 0;
        struct tm tm;
        char a[32], b[32];
        memset(&tm, 0, sizeof tm);
        const char *u = json_string_value(json_object_get(j, "until"));
        const char *i = json_string_value(json_object_get(j, "idle_lock_at"));
        if (u != NULL && strptime(u, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL) {
            until = timegm(&tm);
        }
        memset(&tm, 0, sizeof tm);
        if (i != NULL && strptime(i, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL) {
            idle_at = timegm(&tm);
        }
        fmt_wall(a, sizeof a, until, 0);
        fmt_wall(b, sizeof b, idle_at, 0);
        printf("unlocked: %s\nuntil %s, or %s if unused (idle lock after %lld s)%s\n", real, a, b,
               (long long)json_integer_value(json_object_get(j, "idle_seconds")),
               json_is_true(json_object_get(j, "ui")) ? "; the UI runs from the agent" : "");
    }
    json_decref(j);
    return 0;
}

/* Ask the agent of this vault; *text is its JSON status (NULL: no agent). */
static int
query(struct dft_cli *cli, uint32_t kind, char *real, char **text)
{
    struct agent_resp resp;
    *text = NULL;
    int s = client_connect(cli, real);
    if (s < 0) {
        return -1;
    }
    int rc = agent_send_req(s, kind, 0, NULL, NULL, 0, NULL) == DFT_OK &&
                     agent_recv_resp(s, &resp, text, NULL) == DFT_OK
                 ? 0
                 : -1;
    close(s);
    return rc;
}

int
dft_cmd_status(struct dft_cli *cli)
{
    char real[PATH_MAX];
    char *text = NULL;
    if (cli->argc != 0) {
        return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[0]);
    }
    if (realpath(cli->vault_dir, real) == NULL) {
        return cli_fail(1, "no vault at '%s'", cli->vault_dir);
    }
    (void)query(cli, AGENT_STATUS, real, &text);
    int st = print_status(cli, real, text);
    free(text);
    return st;
}

int
dft_cmd_lock(struct dft_cli *cli)
{
    char real[PATH_MAX];
    char *text = NULL;
    if (cli->argc != 0) {
        return cli_usage(cli, "unexpected argument '%.64s'", cli->argv[0]);
    }
    if (realpath(cli->vault_dir, real) == NULL) {
        return cli_fail(1, "no vault at '%s'", cli->vault_dir);
    }
    int had = query(cli, AGENT_LOCK, real, &text) == 0;
    free(text);
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:b, s:b}", "vault", real, "locked", 1, "was_unlocked", had);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf(had ? "locked: keys wiped\n" : "locked (no agent was running)\n");
    }
    return 0;
}

static long
duration_arg(struct dft_cli *cli, int *i, const char *name)
{
    long v = 0;
    if (*i + 1 >= cli->argc || agent_parse_duration(cli->argv[*i + 1], &v) != 0) {
        cli_usage(cli, "%s needs a duration such as 90s, 15m, 8h or 1h30m (at most 30d)", name);
        return -1;
    }
    ++*i;
    return v;
}

int
dft_cmd_unlock(struct dft_cli *cli)
{
    long for_s = AGENT_FOR_DEF, idle = AGENT_IDLE_DEF;
    char real[PATH_MAX];
    struct dft_error err = {0};
    const char *env = getenv(AGENT_IDLE_ENV);
    if (env != NULL && env[0] != '\0' && agent_parse_duration(env, &idle) != 0) {
        return cli_fail(2, "$%s must be a duration such as 15m", AGENT_IDLE_ENV);
    }
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--for") == 0) {
            if ((for_s = duration_arg(cli, &i, "--for")) < 0) {
                return 2;
            }
        } else if (strcmp(a, "--idle") == 0) {
            if ((idle = duration_arg(cli, &i, "--idle")) < 0) {
                return 2;
            }
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (idle > for_s) {
        idle = for_s;
    }
    if (agent_paths(cli, 1, real, ag.sock, &err) != 0) {
        return cli_report(&err);
    }
    char *text = NULL;
    if (query(cli, AGENT_STATUS, real, &text) == 0) {
        fprintf(stderr, "defter: already unlocked (`defter lock` first to change --for)\n");
        int st = print_status(cli, real, text);
        free(text);
        return st;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        return cli_fail(1, "cannot start the agent: %s", strerror(errno));
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return cli_fail(1, "cannot start the agent: %s", strerror(errno));
    }
    if (pid > 0) {
        unsigned char st = 1;
        close(p[1]);
        ssize_t r;
        do {
            r = read(p[0], &st, 1);
        } while (r < 0 && errno == EINTR);
        close(p[0]);
        if (r != 1) {
            (void)waitpid(pid, NULL, WNOHANG);
            return cli_fail(1, "the agent did not start");
        }
        if (st != 0) {
            (void)waitpid(pid, NULL, 0);
            return st; /* the agent said why on stderr */
        }
        /* said from what the agent was given: it may lock before it could be asked */
        char until[32], idle_at[32];
        fmt_wall(until, sizeof until, time(NULL) + for_s, 1);
        fmt_wall(idle_at, sizeof idle_at, time(NULL) + idle, 1);
        json_t *j =
            json_pack("{s:s, s:b, s:I, s:s, s:I, s:s, s:b, s:s}", "vault", real, "locked", 0, "pid",
                      (json_int_t)pid, "until", until, "idle_seconds", (json_int_t)idle,
                      "idle_lock_at", idle_at, "ui", 0, "socket", ag.sock);
        char *t = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        int rc = print_status(cli, real, t);
        dft_json_string_free(t);
        return rc;
    }

    /* the agent: unlock (the passphrase as usual), listen, leave the terminal, serve */
    close(p[0]);
    harden();
    /* nothing inherited but stdio and the pipe: a daemon must not hold its caller's fds */
    if (p[1] > 3) {
        (void)close_range(3, (unsigned)p[1] - 1, 0);
    }
    (void)close_range((unsigned)p[1] + 1, ~0u, 0);
    unsigned char st = 1;
    struct dft_cli mine = *cli;
    mine.vault_dir = real; /* absolute: the agent's cwd changes with every request */
    int lsock = -1, sigfd = -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if ((st = (unsigned char)cli_open_vault(&mine, &ag.vault)) != 0) {
        goto fail;
    }
    st = 1;
    if ((lsock = bind_socket(ag.sock, &err)) < 0) {
        st = (unsigned char)cli_report(&err);
        goto fail;
    }
    /* every thread (the UI's too) inherits the blocked signals; the loop reads them */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
        (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
        st = (unsigned char)cli_fail(1, "cannot set up the agent's signals");
        goto fail;
    }
    (void)signal(SIGPIPE, SIG_IGN);
    ag.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (ag.devnull < 0 || setsid() < 0 || chdir("/") != 0 || std_restore() != 0) {
        st = 1;
        goto fail;
    }
    unsetenv("DEFTER_PASSPHRASE_FILE"); /* no command run here reads a passphrase file */
    snprintf(ag.dir, sizeof ag.dir, "%s", real);
    ag.serving = 1;
    ag.idle = idle;
    ag.deadline = agent_now() + for_s;
    ag.until = time(NULL) + for_s;
    agent_gate_touch();
    umask(077);
    st = 0;
    if (write(p[1], &st, 1) != 1) {
        agent_shutdown("its command went away");
        _exit(1);
    }
    close(p[1]);
    agent_loop(lsock, sigfd);
    close(lsock);
    close(sigfd);
    exit(0); /* leak checkers see the whole session */
fail:
    dft_vault_close(ag.vault);
    ag.vault = NULL;
    if (lsock >= 0) {
        unlink(ag.sock);
        close(lsock);
    }
    if (write(p[1], &st, 1) != 1) {
        /* the command is gone: nobody to tell */
    }
    _exit(st);
}

int
dft_cli_agent_ui(struct dft_cli *cli, uint16_t port, int *status)
{
    char real[PATH_MAX], portstr[8];
    int fds[AGENT_FDS], extra = -1;
    struct agent_resp resp;
    struct dft_error err = {0};
    char *text = NULL;
    sigset_t set;
    int done = 0;

    int s = client_connect(cli, real);
    if (s < 0) {
        return 0;
    }
    if (client_fds(fds, &extra) != 0) {
        close(s);
        return 0;
    }
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    const char *argv[] = {portstr};
    fflush(stdout);
    int sent = agent_send_req(s, AGENT_UI, 1, argv, fds, AGENT_FDS, &err) == DFT_OK &&
               agent_recv_resp(s, &resp, &text, &err) == DFT_OK;
    client_fds_close(fds, extra);
    if (!sent || (resp.flags & AGENT_R_LOCKED) != 0) {
        free(text);
        close(s);
        return 0; /* serve it here, with the passphrase */
    }
    if (resp.status != 0) {
        *status = cli_fail(resp.status, "%s", text != NULL ? text : "the agent refused");
        free(text);
        close(s);
        return 1;
    }
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    text = NULL;
    fprintf(stderr, "defter: serving the vault on 127.0.0.1 from the unlock agent; press Ctrl-C "
                    "to stop the UI\n");
    /* wait for Ctrl-C / SIGTERM (then let the agent stop the UI) or for the agent to end it */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    while (!done) {
        struct pollfd p[2] = {{s, POLLIN, 0}, {sigfd, POLLIN, 0}};
        int r = poll(p, sigfd >= 0 ? 2 : 1, -1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            break;
        }
        if (sigfd >= 0 && p[1].revents != 0) {
            (void)shutdown(s, SHUT_WR); /* the agent stops the UI and keeps the vault */
            if (agent_recv_resp(s, &resp, &text, NULL) != DFT_OK) {
                /* the agent is gone: the UI is stopped either way */
            }
            fprintf(stderr, "defter: stopping the UI; the vault stays unlocked in the agent\n");
            done = 1;
        } else if (p[0].revents != 0) {
            if (agent_recv_resp(s, &resp, &text, NULL) == DFT_OK && text != NULL) {
                fprintf(stderr, "defter: %s\n", text);
            } else {
                fprintf(stderr, "defter: the unlock agent stopped; the UI stopped\n");
            }
            done = 1;
        }
    }
    free(text);
    if (sigfd >= 0) {
        close(sigfd);
    }
    close(s);
    *status = 0;
    return 1;
}
