/*
 * serve.h - `defter serve`, the team-sync server (src/sync/server.c, docs/sync-protocol.md),
 * for front ends: start it on an address with a data directory and optional PostgreSQL and S3
 * stores, print its URL and verifier key, run until SIGINT or SIGTERM.
 */
#ifndef DEFTER_SERVE_H
#define DEFTER_SERVE_H

#include <stdint.h>

#include "defter/core.h"

struct dft_serve_opts {
    const char *listen;      /* "IPv4:PORT" (port 0: the system picks) */
    const char *data_dir;    /* --data DIR */
    const char *db_url;      /* --db or NULL */
    const char *objects_url; /* --objects or NULL */
    double rate_device;      /* requests per second per device key (0: unlimited) */
    double rate_ip;          /* requests per second per client address (0: unlimited) */
    unsigned conns_max;      /* open connections in all */
    unsigned conns_ip;       /* open connections per address */
    unsigned timeout_sec;    /* idle connection timeout */
    int64_t (*clock)(void);  /* POSIX seconds (tests); NULL: time() */
};
DFT_EXPORT void dft_serve_opts_default(struct dft_serve_opts *o);

struct dft_serve;
DFT_EXPORT enum dft_err dft_serve_start(struct dft_serve **out, const struct dft_serve_opts *o,
                                        struct dft_error *err) DFT_MUST_CHECK;
const char *dft_serve_url(const struct dft_serve *s);  /* http://HOST:PORT */
const char *dft_serve_vkey(const struct dft_serve *s); /* C2SP verifier key */
/* Block until SIGINT or SIGTERM (block both in every thread before starting). */
DFT_EXPORT void dft_serve_run(struct dft_serve *s);
DFT_EXPORT void dft_serve_free(struct dft_serve *s);

#endif
