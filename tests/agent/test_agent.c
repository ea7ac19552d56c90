/*
 * test_agent.c - the library part of the unlock agent: durations, the request check, a request
 * and an answer with fds over a real socket pair, the peer uid, the socket path and its
 * directory checks, the gate's idle clock, and a vault shared by two holders (dft_vault_ref).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/agent.h"
#include "defter/crypto.h"
#include "defter/vault.h"

#define PASS "correct horse battery staple"

static void
test_duration__forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        long want; /* -1: refused */
    } cases[] = {
        {"1", 1},
        {"90", 90},
        {"90s", 90},
        {"15m", 900},
        {"8h", 28800},
        {"1h30m", 5400},
        {"2d", 172800},
        {"1d2h3m4s", 93784},
        {"30d", 30 * 86400},
        {"31d", -1},
        {"0", -1},
        {"0s", -1},
        {"", -1},
        {"m", -1},
        {"5x", -1},
        {"-5m", -1},
        {"1h30", -1},
        {"1.5h", -1},
        {"15 m", -1},
        {"99999999999999999999s", -1},
        {"720h1s", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long got = -1;
        int rc = agent_parse_duration(cases[i].in, &got);
        if (cases[i].want < 0) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(got, cases[i].want);
        }
    }
    long v = 7;
    assert_int_equal(agent_parse_duration(NULL, &v), -1);
    assert_int_equal(v, 7);
}

static void
test_req_check__strings(void **state)
{
    (void)state;
    struct agent_req req = {AGENT_MAGIC, AGENT_RUN, 2, 0, 022, 0};
    const char *argv[4];
    struct dft_error err = {0};
    static const char good[] = "list\0--json"; /* two strings, the last NUL from the literal */
    req.args_len = sizeof good;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_OK);
    assert_string_equal(argv[0], "list");
    assert_string_equal(argv[1], "--json");
    assert_null(argv[2]);
    /* one string too many, too few, a missing final NUL, a wrong length, magic or kind */
    req.argc = 3;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_ERR_INPUT);
    req.argc = 1;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_ERR_INPUT);
    req.argc = 2;
    req.args_len = sizeof good - 1;
    assert_int_equal(agent_req_check(&req, good, sizeof good - 1, argv, &err), DFT_ERR_INPUT);
    req.args_len = sizeof good;
    assert_int_equal(agent_req_check(&req, good, sizeof good - 1, argv, &err), DFT_ERR_INPUT);
    req.magic = 0;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_ERR_INPUT);
    req.magic = AGENT_MAGIC;
    req.kind = 99;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_ERR_INPUT);
    req.kind = AGENT_STATUS;
    req.argc = AGENT_ARGC_MAX + 1;
    assert_int_equal(agent_req_check(&req, good, sizeof good, argv, &err), DFT_ERR_INPUT);
    /* no strings at all */
    req.argc = 0;
    req.args_len = 0;
    assert_int_equal(agent_req_check(&req, "", 0, argv, &err), DFT_OK);
    assert_null(argv[0]);
}

static void
test_wire__request_with_fds_and_answer(void **state)
{
    (void)state;
    int sp[2], pp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(pipe(pp), 0);
    uid_t uid = (uid_t)-1;
    assert_int_equal(agent_peer_uid(sp[0], &uid), 0);
    assert_int_equal(uid, geteuid());

    const char *argv[] = {"--vault", "/tmp/v", "add", "person", "name=Ахтем"};
    int fds[AGENT_FDS] = {pp[0], pp[0], pp[1], pp[1]};
    struct dft_error err = {0};
    assert_int_equal(agent_send_req(sp[0], AGENT_RUN, 5, argv, fds, AGENT_FDS, &err), DFT_OK);

    struct agent_req req;
    int got[AGENT_FDS], n = 0;
    char *args = NULL;
    assert_int_equal(agent_recv_req(sp[1], &req, got, &n, &args, &err), DFT_OK);
    assert_int_equal(req.kind, AGENT_RUN);
    assert_int_equal(req.argc, 5);
    assert_int_equal(n, AGENT_FDS);
    const char *back[6];
    assert_int_equal(agent_req_check(&req, args, req.args_len, back, &err), DFT_OK);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(back[i], argv[i]);
    }
    /* the received stdout is the pipe: writing to it reaches the other end */
    assert_int_equal(write(got[2], "ok", 2), 2);
    char buf[4] = {0};
    assert_int_equal(read(pp[0], buf, 2), 2);
    assert_string_equal(buf, "ok");
    for (int i = 0; i < n; i++) {
        close(got[i]);
    }
    free(args);

    /* a run request without its fds is refused (and nothing leaks) */
    assert_int_equal(agent_send_req(sp[0], AGENT_RUN, 1, argv, NULL, 0, &err), DFT_OK);
    args = NULL;
    assert_int_equal(agent_recv_req(sp[1], &req, got, &n, &args, &err), DFT_ERR_INPUT);
    assert_int_equal(n, 0);
    assert_null(args);
    close(sp[0]);
    close(sp[1]);

    /* an answer with text */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    agent_send_resp(sp[1], 3, AGENT_R_LOCKED, "why", NULL);
    struct agent_resp resp;
    char *text = NULL;
    assert_int_equal(agent_recv_resp(sp[0], &resp, &text, &err), DFT_OK);
    assert_int_equal(resp.status, 3);
    assert_int_equal(resp.flags, AGENT_R_LOCKED);
    assert_string_equal(text, "why");
    free(text);
    /* garbage is not an answer; a closed peer is another error */
    assert_int_equal(write(sp[1], "0123456789abcdefXYZ", 19), 19);
    assert_int_equal(agent_recv_resp(sp[0], &resp, &text, &err), DFT_ERR_INPUT);
    close(sp[1]);
    assert_int_equal(agent_recv_resp(sp[0], &resp, &text, &err), DFT_ERR_IO);
    close(sp[0]);
    close(pp[0]);
    close(pp[1]);
}

static void
test_socket_path__private_directory_only(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/defter-agent-test.XXXXXX";
    char path[AGENT_PATH_MAX], other[AGENT_PATH_MAX], sub[256];
    struct dft_error err = {0};
    assert_non_null(mkdtemp(tmpl));
    setenv("XDG_RUNTIME_DIR", tmpl, 1);
    /* created on demand, 0700, under $XDG_RUNTIME_DIR/defter, keyed by the vault path */
    assert_int_equal(agent_socket_path("/srv/a", 0, path, sizeof path, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(agent_socket_path("/srv/a", 1, path, sizeof path, &err), DFT_OK);
    snprintf(sub, sizeof sub, "%s/defter/agent-", tmpl);
    assert_memory_equal(path, sub, strlen(sub));
    assert_int_equal(agent_socket_path("/srv/b", 0, other, sizeof other, &err), DFT_OK);
    assert_string_not_equal(path, other);
    assert_int_equal(agent_socket_path("/srv/a", 0, other, sizeof other, &err), DFT_OK);
    assert_string_equal(path, other);
    struct stat st;
    snprintf(sub, sizeof sub, "%s/defter", tmpl);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* a directory open to others is refused, never used */
    assert_int_equal(chmod(sub, 0755), 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(agent_socket_path("/srv/a", 1, path, sizeof path, &err), DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "0700"));
    assert_int_equal(rmdir(sub), 0);
    /* a symlink in its place too */
    assert_int_equal(symlink("/tmp", sub), 0);
    assert_int_equal(agent_socket_path("/srv/a", 1, path, sizeof path, &err), DFT_ERR_INPUT);
    assert_int_equal(unlink(sub), 0);
    /* $XDG_RUNTIME_DIR open to others: not used at all */
    assert_int_equal(chmod(tmpl, 0777), 0);
    assert_int_equal(agent_socket_path("/srv/a", 0, path, sizeof path, &err) == DFT_OK &&
                         strncmp(path, tmpl, strlen(tmpl)) == 0,
                     0);
    assert_int_equal(rmdir(tmpl), 0);
    unsetenv("XDG_RUNTIME_DIR");
}

static void
test_gate__records_use(void **state)
{
    (void)state;
    agent_gate_enter();
    int64_t t = agent_gate_last_use();
    agent_gate_leave();
    assert_true(t > 0);
    assert_true(t <= agent_now());
    agent_gate_hold(); /* the agent's own housekeeping is no use */
    agent_gate_leave();
    assert_true(agent_gate_last_use() >= t);
}

static void
test_vault_ref__last_holder_closes(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/defter-agent-vault.XXXXXX";
    char dir[256];
    struct dft_vault *v = NULL, *w = NULL;
    json_t *ids = NULL, *list = NULL;
    struct dft_error err = {0};
    assert_non_null(mkdtemp(tmpl));
    snprintf(dir, sizeof dir, "%s/v", tmpl);
    assert_int_equal(dft_vault_create(dir, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &err), DFT_OK);
    assert_int_equal(dft_vault_open(&v, dir, PASS, strlen(PASS), &err), DFT_OK);
    /* a second holder: its close leaves the vault open for the first */
    assert_ptr_equal(dft_vault_ref(v), v);
    dft_vault_close(v);
    json_t *items = json_pack("[{s:s, s:s}]", "type", "person", "name", "Ali");
    assert_int_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
    assert_int_equal(dft_vault_list(v, NULL, &list, &err), DFT_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(items);
    json_decref(ids);
    json_decref(list);
    /* the last close really closes: the vault opens again (the database lock is released) */
    dft_vault_close(v);
    assert_int_equal(dft_vault_open(&w, dir, PASS, strlen(PASS), &err), DFT_OK);
    dft_vault_close(w);
    assert_null(dft_vault_ref(NULL));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    struct dft_error err = {0};
    if (dft_crypto_init(&err) != DFT_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration__forms),
        cmocka_unit_test(test_req_check__strings),
        cmocka_unit_test(test_wire__request_with_fds_and_answer),
        cmocka_unit_test(test_socket_path__private_directory_only),
        cmocka_unit_test(test_gate__records_use),
        cmocka_unit_test(test_vault_ref__last_holder_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
