/*
 * witness.h - `defter witness serve`: a C2SP tlog-witness (c2sp.org/tlog-witness) that cosigns
 * checkpoints of the logs it trusts with a tlog-cosignature/v1 Ed25519 key (type 0x04), only
 * when they extend the last checkpoint it cosigned for that log. Internal to libdefter; the CLI
 * (src/cli/cmd_witness.c) is its only front end.
 *
 * Data directory (created 0700 by witness_init):
 *   witness.key  the 32-byte Ed25519 seed, raw, mode 0600, created O_EXCL|O_NOFOLLOW. It is
 *                refused when group or others can read it or another user owns it. A witness
 *                is an unattended server, so a passphrase would have to sit on the same disk:
 *                the protection is the file mode, the directory mode and the disk's own
 *                encryption. The key lives in sodium_malloc memory while the server runs.
 *   witness.db   SQLite (WAL, synchronous=FULL): meta(name, vkey), logs(origin, vkey, size,
 *                root, note) and forks (validly signed checkpoints that failed consistency,
 *                with the request that carried them), kept as evidence of a forked log.
 *
 * Check-and-update: one mutex and one BEGIN IMMEDIATE transaction around reading the last
 * size, checking and writing the new one; the answer goes out only after COMMIT returned (its
 * fsync done), so concurrent requests never roll a log back and a 200 survives kill -9.
 */
#ifndef DEFTER_SERVER_WITNESS_H
#define DEFTER_SERVER_WITNESS_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/witness.h"
#include "log/tlog.h"

#define WITNESS_KEY_FILE "witness.key"
#define WITNESS_DB_FILE  "witness.db"

/* Create dir (if missing) with a new key named name; out receives the vkey. */
enum dft_err witness_init(const char *dir, const char *name, char vkey[DFT_NOTE_VKEY_MAX],
                          struct dft_error *err) DFT_MUST_CHECK;
/* The witness's vkey (reads the database only). */
enum dft_err witness_vkey(const char *dir, char vkey[DFT_NOTE_VKEY_MAX],
                          struct dft_error *err) DFT_MUST_CHECK;
/*
 * Accept checkpoints of origin signed by vkey (type 0x01, its name must equal origin).
 * DFT_ERR_INPUT for a bad key or an origin already trusted with another key.
 */
enum dft_err witness_trust(const char *dir, const char *origin, const char *vkey,
                           struct dft_error *err) DFT_MUST_CHECK;
/* {"logs":[{"origin","size","vkey"}]} */
enum dft_err witness_logs(const char *dir, json_t **out, struct dft_error *err) DFT_MUST_CHECK;
/* {"forks":[{"id","origin","received","stored_size","old_size","size","reason","checkpoint"}]} */
enum dft_err witness_forks(const char *dir, json_t **out, struct dft_error *err) DFT_MUST_CHECK;

struct witness_server;
enum dft_err witness_server_start(struct witness_server **out, const char *dir,
                                  const struct dft_witness_opts *o,
                                  struct dft_error *err) DFT_MUST_CHECK;
const char *witness_server_url(const struct witness_server *s); /* http://HOST:PORT[prefix] */
const char *witness_server_vkey(const struct witness_server *s);
/* Block until SIGINT or SIGTERM (block both in every thread before starting). */
void witness_server_run(struct witness_server *s);
void witness_server_free(struct witness_server *s);

#endif
