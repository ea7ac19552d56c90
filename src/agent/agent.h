/*
 * agent.h - the library part of the unlock agent (`defter unlock`): where its socket lives, the
 * wire format between a command and the agent, passing file descriptors, the peer check, the
 * gate that serialises vault use inside the agent, and durations.
 *
 * Internal to the library (no dft_ prefix). The agent itself (its loop and the commands that
 * talk to it) is in src/cli/cmd_agent.c, since it runs the command line's dispatch.
 *
 * Wire format (one Unix stream socket per request, both ends must run as the same uid):
 *   request:  struct agent_req (host byte order: both ends are one machine) sent with sendmsg,
 * carrying with SCM_RIGHTS the fds the kind needs (RUN and UI: cwd, stdin, stdout, stderr); then
 *             args_len bytes: argc NUL-terminated strings.
 *   response: struct agent_resp, then len bytes of text (status JSON, UI URL or a message).
 * Nothing here ever carries a passphrase or a key.
 */
#ifndef DEFTER_AGENT_AGENT_H
#define DEFTER_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "defter/core.h"

#define AGENT_MAGIC    0x31414644u /* "DFA1" */
#define AGENT_ARGC_MAX 4096
#define AGENT_ARGS_MAX (16u << 20) /* bytes of the argument strings of one request */
#define AGENT_TEXT_MAX (64u << 10) /* bytes of the text of one response */
#define AGENT_FDS      4           /* cwd, stdin, stdout, stderr */
#define AGENT_PATH_MAX 108         /* sizeof sockaddr_un.sun_path */
#define AGENT_IDLE_DEF (15 * 60)   /* seconds of idle time before the agent locks */
#define AGENT_FOR_DEF  (12 * 3600) /* seconds an agent lives at most unless --for says */
#define AGENT_FOR_MAX  (30 * 86400)
#define AGENT_IDLE_ENV "DEFTER_AGENT_IDLE" /* default idle time (a duration) */

enum agent_kind {
    AGENT_RUN = 1,    /* run a command line (argv) with the sender's fds */
    AGENT_STATUS = 2, /* JSON status */
    AGENT_LOCK = 3,   /* wipe and exit */
    AGENT_UI = 4,     /* serve `defter ui` from the agent; argv[0] is the port */
};

enum agent_resp_flags {
    AGENT_R_LOCKED = 1 << 0, /* the agent holds no open vault: do as if there were no agent */
    AGENT_R_ENDED = 1 << 1,  /* a UI session ended (the text says why) */
};

struct agent_req {
    uint32_t magic;
    uint32_t kind;     /* enum agent_kind */
    uint32_t argc;     /* strings that follow */
    uint32_t args_len; /* their bytes, NULs included */
    uint32_t umask;    /* the sender's umask (RUN) */
    uint32_t reserved;
};

struct agent_resp {
    uint32_t magic;
    int32_t status; /* exit status of the command */
    uint32_t flags; /* enum agent_resp_flags */
    uint32_t len;   /* bytes of text that follow */
};

/*
 * The socket path of the agent for the vault whose real path is real_dir:
 * $XDG_RUNTIME_DIR/defter/agent-<32 hex of SHA-256(real_dir)>.sock, or /tmp/defter-<uid>/...
 * when $XDG_RUNTIME_DIR is unset or not the user's own private directory. create makes the
 * directory (0700) when missing. The directory must be owned by the user, a real directory and
 * closed to group and others: otherwise DFT_ERR_INPUT naming it.
 */
enum dft_err agent_socket_path(const char *real_dir, int create, char *out, size_t max,
                               struct dft_error *err) DFT_MUST_CHECK;

/* Connect to path; -1 with errno when nothing listens there. */
int agent_connect(const char *path);

/* The uid of the process at the other end of a Unix socket (SO_PEERCRED); -1 on failure. */
int agent_peer_uid(int fd, uid_t *uid);

/*
 * Check a request header and its argument bytes: magic, kind, caps, and exactly argc
 * NUL-terminated strings in args[0..args_len). argv_out (argc + 1 pointers, may be NULL) gets
 * pointers into args and a final NULL. DFT_ERR_INPUT for anything else.
 */
enum dft_err agent_req_check(const struct agent_req *req, const char *args, size_t args_len,
                             const char **argv_out, struct dft_error *err) DFT_MUST_CHECK;

/* Send a request: header, fds (nfds of them, may be 0) and the strings argv[0..argc). */
enum dft_err agent_send_req(int sock, uint32_t kind, int argc, const char *const *argv,
                            const int *fds, int nfds, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Receive a request: header and up to AGENT_FDS fds (*nfds receives their count; they are
 * close-on-exec and the caller's to close), then the strings into *args (malloc'd, the
 * caller frees). Refuses what agent_req_check refuses, closing the fds.
 */
enum dft_err agent_recv_req(int sock, struct agent_req *req, int *fds, int *nfds, char **args,
                            struct dft_error *err) DFT_MUST_CHECK;

/* Send a response with text (may be NULL). Best effort: a client that went away is no error. */
enum dft_err agent_send_resp(int sock, int status, uint32_t flags, const char *text,
                             struct dft_error *err);

/* Receive a response; *text (malloc'd, NUL-terminated, may be NULL) is the caller's to free. */
enum dft_err agent_recv_resp(int sock, struct agent_resp *resp, char **text,
                             struct dft_error *err) DFT_MUST_CHECK;

/*
 * Parse a duration: one or more NUMBER UNIT pairs (s, m, h, d), e.g. "90s", "15m", "1h30m",
 * or a bare number of seconds. 1 second to AGENT_FOR_MAX; -1 for anything else.
 */
int agent_parse_duration(const char *s, long *seconds);

/*
 * The gate: one process-wide lock around every use of the vault inside a process that shares
 * it between threads (the agent's command requests and the UI server's handlers). Uncontended
 * in a process without an agent. enter also records the time of the last use.
 */
void agent_gate_enter(void);
void agent_gate_leave(void);
/* Enter without counting as a use (the agent's own status and housekeeping). */
void agent_gate_hold(void);
/* CLOCK_MONOTONIC seconds of the last agent_gate_enter (0: never). */
int64_t agent_gate_last_use(void);
/* Record a use without entering (a request that does not touch the vault). */
void agent_gate_touch(void);

/* CLOCK_MONOTONIC, in seconds. */
int64_t agent_now(void);

#endif
