/*
 * server.h - `defter serve`: the team-sync server (docs/sync-protocol.md). Per collection an
 * RFC 9162 log of entries (envelopes, kind 1; membership operations, kind 2) with signed C2SP
 * checkpoints, inclusion and consistency proofs, and evidence chunks; every request signed
 * (RFC 9421, httpsig.h); roles from the membership chain (member.h); storage through
 * storage.h only. Internal to libdefter; src/cli/cmd_serve.c is its front end.
 *
 * Data directory (created 0700): server.key (32-byte Ed25519 seed, 0600, O_EXCL), then what
 * the storage backends keep (sync.db and chunks/ by default). The server never holds a key
 * that opens an envelope or a chunk.
 */
#ifndef DEFTER_SYNC_SERVER_H
#define DEFTER_SYNC_SERVER_H

#include <stdint.h>

#include "defter/core.h"
#include "defter/serve.h"
#include "log/tlog.h"

#define SYNC_SERVER_KEY_FILE "server.key"
#define SYNC_PUSH_MAX        (64u * 1024u * 1024u) /* bytes of one push body */
#define SYNC_SMALL_MAX       (1024u * 1024u)       /* bytes of other bodies */
#define SYNC_PULL_BYTES      (8u * 1024u * 1024u)  /* bytes of entries per pull answer */
#define SYNC_WAIT_MAX        20                    /* seconds a pull may wait for news */
#define SYNC_ORIGIN_PREFIX   "defter.server/"

/* "defter.server/<16 hex of SHA-256(pub)>": the verifier key's name. */
void sync_server_name(char out[64], const unsigned char pub[32]);
/* The checkpoint origin of a collection: name + "/" + cid. */
void sync_server_origin(char out[DFT_NOTE_NAME_MAX + 1], const unsigned char pub[32],
                        const char *cid);

#endif
