/*
 * witness.h - `defter witness serve` and its data directory, for front ends: a C2SP
 * tlog-witness that cosigns checkpoints of the logs it trusts (docs/witnesses.md). The server
 * itself is src/server/witness_*.c; these are its public entry points.
 */
#ifndef DEFTER_WITNESS_H
#define DEFTER_WITNESS_H

#include <jansson.h>

#include "defter/core.h"

#define DFT_WITNESS_VKEY_MAX 320 /* a verifier key string with its NUL */

/* Create dir (if missing) with a new key named name; vkey receives the verifier key. */
DFT_EXPORT enum dft_err dft_witness_init(const char *dir, const char *name,
                                         char vkey[DFT_WITNESS_VKEY_MAX],
                                         struct dft_error *err) DFT_MUST_CHECK;
/* Accept checkpoints of origin signed by vkey (a log key whose name is origin). */
DFT_EXPORT enum dft_err dft_witness_trust(const char *dir, const char *origin, const char *vkey,
                                          struct dft_error *err) DFT_MUST_CHECK;
/* {"logs":[{"origin","size","vkey"}]} */
DFT_EXPORT enum dft_err dft_witness_logs(const char *dir, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;
/* {"forks":[{"id","origin","received","stored_size","old_size","size","reason","checkpoint"}]} */
DFT_EXPORT enum dft_err dft_witness_forks(const char *dir, json_t **out,
                                          struct dft_error *err) DFT_MUST_CHECK;

struct dft_witness_opts {
    const char *listen;   /* "IPv4:PORT" (port 0: the system picks) */
    const char *prefix;   /* URL prefix without trailing '/', "" by default */
    double rate_ip;       /* requests per second per client address (0: unlimited) */
    double rate_origin;   /* add-checkpoint requests per second per log (0: unlimited) */
    unsigned conns_max;   /* open connections in all */
    unsigned conns_ip;    /* open connections per client address */
    unsigned timeout_sec; /* idle connection timeout */
    unsigned threads;     /* worker threads */
};
DFT_EXPORT void dft_witness_opts_default(struct dft_witness_opts *o);

struct dft_witness_server;
DFT_EXPORT enum dft_err dft_witness_server_start(struct dft_witness_server **out, const char *dir,
                                                 const struct dft_witness_opts *o,
                                                 struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT const char *dft_witness_server_url(const struct dft_witness_server *s);
DFT_EXPORT const char *dft_witness_server_vkey(const struct dft_witness_server *s);
/* Block until SIGINT or SIGTERM (block both in every thread before starting). */
DFT_EXPORT void dft_witness_server_run(struct dft_witness_server *s);
DFT_EXPORT void dft_witness_server_free(struct dft_witness_server *s);

#endif
