/*
 * net.h - small network helpers the HTTP servers share (src/core/net.c).
 */
#ifndef DEFTER_NET_H
#define DEFTER_NET_H

#include <netinet/in.h>

#include "defter/core.h"

/* Parse --listen "IPV4:PORT" (port 0: the system picks) into sa; DFT_ERR_USAGE naming the fault. */
DFT_EXPORT enum dft_err dft_listen_parse(const char *listen, struct sockaddr_in *sa,
                                         struct dft_error *err) DFT_MUST_CHECK;

#endif
