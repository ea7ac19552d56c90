/*
 * agent_req.c - libFuzzer harness for the unlock agent's request check (agent_req_check) and
 * duration parser (agent_parse_duration).
 *
 * An input is a request header (struct agent_req) followed by its argument bytes. A request the
 * check accepts must yield exactly argc strings that lie inside the bytes and end at a NUL, with
 * a NULL after the last; one it refuses must say why. The same bytes, as text, go through the
 * duration parser, whose result must lie in [1, AGENT_FOR_MAX]. Never writes anything.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct agent_req req;
    struct dft_error err = {0};
    if (size < sizeof req) {
        return 0;
    }
    memcpy(&req, data, sizeof req);
    const char *args = (const char *)data + sizeof req;
    size_t len = size - sizeof req;
    /* most inputs should reach the string walk: take magic and length from the data as is */
    if ((req.argc & 1u) != 0) {
        req.magic = AGENT_MAGIC;
        req.args_len = (uint32_t)len;
        req.argc %= 64;
    }
    const char **argv = calloc(AGENT_ARGC_MAX + 1, sizeof *argv);
    if (argv == NULL) {
        return 0;
    }
    if (agent_req_check(&req, args, len, argv, &err) == DFT_OK) {
        for (uint32_t i = 0; i < req.argc; i++) {
            if (argv[i] < args || argv[i] >= args + len ||
                memchr(argv[i], '\0', len - (size_t)(argv[i] - args)) == NULL) {
                abort();
            }
        }
        if (argv[req.argc] != NULL) {
            abort();
        }
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(argv);

    char text[64];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, args, n);
    text[n] = '\0';
    long secs = 0;
    if (agent_parse_duration(text, &secs) == 0 && (secs < 1 || secs > AGENT_FOR_MAX)) {
        abort();
    }
    return 0;
}
