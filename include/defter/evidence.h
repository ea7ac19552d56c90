/*
 * evidence.h - encrypted, deduplicated evidence objects (the files under <vault>/objects/).
 *
 * An import reads a file exactly once. In the same pass it computes the SHA-256 of the
 * plaintext and encrypts it in fixed-size chunks with AES-256-GCM under a random per-file key;
 * hashing and encryption run on two threads. The file key (and the plaintext SHA-256) are
 * wrapped with keys->object_key. The object id is a keyed hash of the content (dedup_key), so
 * identical content is stored once and a holder of the chunks cannot test for a known file.
 * Layout and constructions: docs/evidence-format.md.
 *
 * This layer knows nothing about records, the operation log or the vault: the vault
 * (src/vault/evidence.c) records an import as an operation and hands this layer the objects
 * directory and keys (src/evidence/evidence.h, internal). This public header has only the
 * verbs on an open object and on an upload writer, which carry no key. It never writes plaintext to
 * disk except to the caller's OUT file of an extract, and never leaves a partial object or a
 * partial OUT behind on failure.
 *
 * Errors: DFT_ERR_NOT_FOUND (missing file or object), DFT_ERR_INPUT (not a regular file, file
 * changed during import), DFT_ERR_IO (the system refused), DFT_ERR_INTEGRITY (an object was
 * tampered with or damaged), DFT_ERR_TOO_LARGE (above DFT_EVIDENCE_SIZE_MAX), DFT_ERR_NOMEM,
 * DFT_ERR_CRYPTO.
 */
#ifndef DEFTER_EVIDENCE_H
#define DEFTER_EVIDENCE_H

#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "defter/crypto.h" /* DFT_HASH_BYTES */

#define DFT_EVIDENCE_CHUNK_BYTES  (1u << 20) /* plaintext bytes per chunk (the last may be less) */
#define DFT_EVIDENCE_TAG_BYTES    16         /* GCM tag after each chunk's ciphertext */
#define DFT_EVIDENCE_HEADER_BYTES 184        /* fixed object header, see docs/evidence-format.md */
#define DFT_EVIDENCE_SIZE_MAX     (UINT64_C(1) << 42) /* 4 TiB per file */
#define DFT_OBJECT_ID_BYTES       32
#define DFT_OBJECT_HEX_BYTES      65 /* 64 hex digits and NUL */
#define DFT_SHA256_HEX_BYTES      65
#define DFT_MIME_MAX              128

/* Called after each chunk with bytes done so far and the total (from the main thread). */
typedef void (*dft_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* An open object: header checked and file key unwrapped (held in sodium_malloc memory). */
struct dft_evidence_obj;

DFT_EXPORT void dft_evidence_close(struct dft_evidence_obj *o); /* NULL allowed; wipes the key */
DFT_EXPORT uint64_t dft_evidence_size(const struct dft_evidence_obj *o);
/* The plaintext SHA-256 recorded in the (authenticated) header. */
DFT_EXPORT void dft_evidence_sha256(const struct dft_evidence_obj *o,
                                    unsigned char out[DFT_HASH_BYTES]);

/*
 * Decrypt up to len bytes from plaintext offset off into buf (for range requests, e.g. video
 * seeking): only the chunks covering the range are read, each checked. *n_out is the number
 * of bytes written (less than len only at the end of the file; 0 at or past the end).
 */
DFT_EXPORT enum dft_err dft_evidence_read(struct dft_evidence_obj *o, uint64_t off, void *buf,
                                          size_t len, size_t *n_out,
                                          struct dft_error *err) DFT_MUST_CHECK;

/* ---- streaming import: evidence pushed in pieces, e.g. an HTTP upload (src/evidence/stream.c) */

/*
 * A writer hashes and encrypts each piece as it arrives (one pass, the same object format as
 * evidence_import), holding at most one chunk of plaintext in memory (wiped on release).
 * The ciphertext goes to a temporary 0600 file in objects_dir; nothing is placed until
 * evidence_writer_finish. The vault keys are needed only by finish, so a writer can be
 * open while the vault is locked and reopened.
 */
struct dft_evidence_writer;

/*
 * Add n bytes. DFT_ERR_TOO_LARGE past the cap (nothing of this call is added). After any
 * failure the writer only accepts dft_evidence_writer_abort (finish fails too).
 */
DFT_EXPORT enum dft_err dft_evidence_writer_write(struct dft_evidence_writer *w, const void *p,
                                                  size_t n, struct dft_error *err) DFT_MUST_CHECK;
/* Plaintext bytes accepted so far. */
DFT_EXPORT uint64_t dft_evidence_writer_size(const struct dft_evidence_writer *w);
/* Drop an unfinished writer: the temporary file goes, plaintext is wiped. NULL allowed. */
DFT_EXPORT void dft_evidence_writer_abort(struct dft_evidence_writer *w);

#endif
