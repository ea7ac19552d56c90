/*
 * net.c - the --listen address of the HTTP servers (witness, sync): IPV4:PORT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "defter/net.h"

enum dft_err
dft_listen_parse(const char *listen, struct sockaddr_in *sa, struct dft_error *err)
{
    const char *colon = strrchr(listen, ':');
    char host[64];
    memset(sa, 0, sizeof *sa);
    if (colon == NULL || (size_t)(colon - listen) >= sizeof host || colon[1] == '\0' ||
        strlen(colon + 1) > 5) {
        return dft_fail(err, DFT_ERR_USAGE, "--listen needs IPV4:PORT, e.g. 127.0.0.1:8080");
    }
    unsigned long port = 0;
    for (const char *p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return dft_fail(err, DFT_ERR_USAGE, "--listen needs IPV4:PORT, e.g. 127.0.0.1:8080");
        }
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port > 65535) {
        return dft_fail(err, DFT_ERR_USAGE, "--listen port must be at most 65535");
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        return dft_fail(err, DFT_ERR_USAGE, "--listen needs an IPv4 address, not '%.63s'", host);
    }
    return DFT_OK;
}
