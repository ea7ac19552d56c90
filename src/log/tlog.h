/*
 * tlog.h - the transparency log: RFC 9162 (RFC 6962) Merkle tree over the envelopes, its node
 * store, inclusion and consistency proofs, C2SP signed notes, checkpoints and witness
 * cosignatures.
 *
 * Hashing (RFC 9162 section 2.1.1): leaf = SHA-256(0x00 || data), interior node =
 * SHA-256(0x01 || left || right), empty tree = SHA-256(""). The vault's leaves are envelopes.
 *
 * Storage: table tlog_nodes(id, hash) holds the hash of every complete subtree; node (l, i)
 * covers leaves [i * 2^l, (i + 1) * 2^l) and is row id = i * 2^(l+1) + 2^l - 1 (its in-order
 * position; level 0 = leaf hashes at even ids). Appending writes the leaf and the complete
 * subtrees it closes; proofs and roots read O(log n) stored nodes, never the whole tree. The
 * table lives in the vault's (encrypted) database and is written inside the vault's transaction.
 *
 * Verification functions take hashes and proof arrays only (no database): they are what an
 * independent verifier does, and they return DFT_ERR_INTEGRITY for any proof that does not
 * verify (including impossible indices and wrong lengths). Format: docs/log-format.md.
 */
#ifndef DEFTER_TLOG_H
#define DEFTER_TLOG_H

#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"

#define DFT_TLOG_HASH_BYTES 32
#define DFT_TLOG_PROOF_MAX                                                                         \
    64 /* hashes in any proof of a tree below 2^63 leaves (<= 2 * 63 / 2)                          \
        */
#define DFT_TLOG_SIZE_MAX ((uint64_t)1 << 62) /* leaves; far beyond any vault */

/* ---- hashing (the leaf hash is crypto_leaf_hash, src/crypto/hash.h: one for the tree) ---- */

void tlog_hash_node(unsigned char out[DFT_TLOG_HASH_BYTES],
                    const unsigned char left[DFT_TLOG_HASH_BYTES],
                    const unsigned char right[DFT_TLOG_HASH_BYTES]);
void tlog_hash_empty(unsigned char out[DFT_TLOG_HASH_BYTES]);

/*
 * Decode a hash given as standard base64 (as in checkpoints and proof JSON). DFT_ERR_INPUT for
 * bad base64 or a length other than 32 bytes.
 */
enum dft_err tlog_hash_decode(unsigned char out[DFT_TLOG_HASH_BYTES], const char *b64, size_t len,
                              struct dft_error *err) DFT_MUST_CHECK;
/* Standard base64 of a hash; out holds DFT_TLOG_HASH_B64 bytes including the NUL. */
#define DFT_TLOG_HASH_B64 45
void tlog_hash_encode(char out[DFT_TLOG_HASH_B64], const unsigned char h[DFT_TLOG_HASH_BYTES]);

/* ---- pure verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---- */

/* Number of hashes in the inclusion proof of index in a tree of size (index < size). */
size_t tlog_inclusion_len(uint64_t index, uint64_t size);
/* Number of hashes in the consistency proof from old to new (0 < old <= new). */
size_t tlog_consistency_len(uint64_t old_size, uint64_t new_size);

/*
 * Check that leaf_hash is at index in the tree of size with the given root. DFT_OK or
 * DFT_ERR_INTEGRITY (index >= size, proof of the wrong length, or any mismatch).
 */
enum dft_err tlog_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf_hash[32],
                                   const unsigned char (*proof)[32], size_t proof_len,
                                   const unsigned char root[32],
                                   struct dft_error *err) DFT_MUST_CHECK;

/*
 * Check that the tree of old_size with old_root is a prefix of the tree of new_size with
 * new_root. old_size = new_size needs an empty proof and equal roots. DFT_ERR_INTEGRITY for
 * old_size = 0 (nothing to prove: every tree extends the empty one, and a caller asking is
 * confused), old_size > new_size, a proof of the wrong length, or any mismatch.
 */
enum dft_err tlog_verify_consistency(uint64_t old_size, uint64_t new_size,
                                     const unsigned char old_root[32],
                                     const unsigned char new_root[32],
                                     const unsigned char (*proof)[32], size_t proof_len,
                                     struct dft_error *err) DFT_MUST_CHECK;

/* ---- the node store (in the vault's SQLite database) ---- */

/*
 * CREATE TABLE IF NOT EXISTS tlog_nodes, tlog_meta, tlog_cosigned; converts a node table of the
 * first layout (level, idx, hash). Called on every vault open, inside the setup transaction.
 */
enum dft_err tlog_setup(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Append one leaf hash; index must equal the current size (else DFT_ERR_INTEGRITY: the caller's
 * log and the tree disagree). Call inside the caller's write transaction: on failure the caller
 * rolls back (this function may have written part of the nodes).
 */
enum dft_err tlog_append(sqlite3 *db, uint64_t index,
                         const unsigned char leaf_hash[DFT_TLOG_HASH_BYTES],
                         struct dft_error *err) DFT_MUST_CHECK;

/*
 * Bulk appending with statements prepared once (bench, rebuilds, big imports). Same contract as
 * tlog_append; tlog_writer_close finalizes (NULL allowed).
 */
struct dft_tlog_writer;
enum dft_err tlog_writer_open(sqlite3 *db, struct dft_tlog_writer **out,
                              struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_writer_append(struct dft_tlog_writer *w, uint64_t index,
                                const unsigned char leaf_hash[32],
                                struct dft_error *err) DFT_MUST_CHECK;
void tlog_writer_close(struct dft_tlog_writer *w);

/* Number of leaves. */
enum dft_err tlog_size(sqlite3 *db, uint64_t *size, struct dft_error *err) DFT_MUST_CHECK;

/* Stored hash of leaf index (DFT_ERR_NOT_FOUND when index >= size). */
enum dft_err tlog_leaf(sqlite3 *db, uint64_t index, unsigned char out[32],
                       struct dft_error *err) DFT_MUST_CHECK;

/* Root of the tree of the first size leaves (size <= current size, else DFT_ERR_INPUT). */
enum dft_err tlog_root(sqlite3 *db, uint64_t size, unsigned char root[32],
                       struct dft_error *err) DFT_MUST_CHECK;

/*
 * Inclusion proof of leaf index in the tree of size (index < size <= current size, else
 * DFT_ERR_INPUT). proof must hold DFT_TLOG_PROOF_MAX hashes; *proof_len receives the count.
 * Order: from the leaf's sibling up to the root's child (RFC 9162).
 */
enum dft_err tlog_prove_inclusion(sqlite3 *db, uint64_t index, uint64_t size,
                                  unsigned char (*proof)[32], size_t *proof_len,
                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * Consistency proof from old_size to new_size (0 < old_size <= new_size <= current size, else
 * DFT_ERR_INPUT). Same buffer rules as above; old = new gives an empty proof.
 */
enum dft_err tlog_prove_consistency(sqlite3 *db, uint64_t old_size, uint64_t new_size,
                                    unsigned char (*proof)[32], size_t *proof_len,
                                    struct dft_error *err) DFT_MUST_CHECK;

/*
 * The same reads with statements prepared once, for callers that prove often (bench, a log
 * server): same contracts as the functions above. A reader keeps up to 8192 nodes of levels 8
 * and up in memory (stored complete subtrees never change). tlog_reader_close finalizes
 * (NULL allowed).
 */
struct dft_tlog_reader;
enum dft_err tlog_reader_open(sqlite3 *db, struct dft_tlog_reader **out,
                              struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_reader_root(struct dft_tlog_reader *r, uint64_t size, unsigned char root[32],
                              struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_reader_prove_inclusion(struct dft_tlog_reader *r, uint64_t index, uint64_t size,
                                         unsigned char (*proof)[32], size_t *proof_len,
                                         struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_reader_prove_consistency(struct dft_tlog_reader *r, uint64_t old_size,
                                           uint64_t new_size, unsigned char (*proof)[32],
                                           size_t *proof_len, struct dft_error *err) DFT_MUST_CHECK;
void tlog_reader_close(struct dft_tlog_reader *r);

/*
 * Full check of the stored tree (for `defter verify`): feed every leaf hash, recomputed by the
 * caller from the envelopes, in index order; the checker rebuilds every complete subtree and
 * compares it with the stored node as it goes (memory O(log n)), and at the end checks that
 * no stored node is missing or extra. DFT_ERR_INTEGRITY names the first difference.
 * tlog_check_finish frees the checker in every case; _free is for abandoning it.
 */
struct dft_tlog_check;
enum dft_err tlog_check_begin(sqlite3 *db, struct dft_tlog_check **out,
                              struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_check_add(struct dft_tlog_check *c, const unsigned char leaf_hash[32],
                            struct dft_error *err) DFT_MUST_CHECK;
/* On success *size and root (either may be NULL) receive the checked tree's size and root. */
enum dft_err tlog_check_finish(struct dft_tlog_check *c, uint64_t *size, unsigned char root[32],
                               struct dft_error *err) DFT_MUST_CHECK;
void tlog_check_free(struct dft_tlog_check *c);

/* ---- the sealed log state (kept in the vault header against rollback) ---- */

/*
 * The latest tree size and root, sealed with XChaCha20-Poly1305 under the vault's state key
 * (fresh random nonce; associated data "defter/tlog-state/v1" || vault id). Layout of the
 * DFT_TLOG_STATE_BYTES: nonce (24) || ciphertext of [version 0x01 || size (8, big-endian) ||
 * root (32)] || tag (16). Format: docs/log-format.md ("Rollback").
 */
#define DFT_TLOG_STATE_VERSION  1
#define DFT_TLOG_STATE_BYTES    (24 + 1 + 8 + 32 + 16)
#define DFT_TLOG_STATE_ID_BYTES 16 /* the vault id */

struct dft_tlog_state {
    uint64_t size;
    unsigned char root[DFT_TLOG_HASH_BYTES];
};

void tlog_state_seal(unsigned char out[DFT_TLOG_STATE_BYTES], const struct dft_tlog_state *st,
                     const unsigned char key[32],
                     const unsigned char vault_id[DFT_TLOG_STATE_ID_BYTES]);
/* DFT_ERR_INTEGRITY for a wrong length, a failed authentication or an unknown version. */
enum dft_err tlog_state_open(struct dft_tlog_state *st, const unsigned char *in, size_t len,
                             const unsigned char key[32],
                             const unsigned char vault_id[DFT_TLOG_STATE_ID_BYTES],
                             struct dft_error *err) DFT_MUST_CHECK;
/*
 * Check that the tree in db extends sealed: its size is at least sealed->size and its root at
 * that size is sealed->root. Otherwise DFT_ERR_INTEGRITY "vault database is older than its
 * header: rolled back or replaced". current (may be NULL) receives the tree's size and root.
 */
enum dft_err tlog_state_check(sqlite3 *db, const struct dft_tlog_state *sealed,
                              struct dft_tlog_state *current, struct dft_error *err) DFT_MUST_CHECK;
/*
 * The database's mark that its header carries a sealed state (table tlog_meta): a header whose
 * state was stripped is refused when the database is marked. _mark runs in any transaction.
 */
enum dft_err tlog_state_marked(sqlite3 *db, int *marked, struct dft_error *err) DFT_MUST_CHECK;
enum dft_err tlog_state_mark(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/* ---- C2SP signed notes (c2sp.org/signed-note) ---- */

#define DFT_NOTE_MAX_BYTES    65536 /* whole note */
#define DFT_NOTE_LINE_MAX     4096  /* bytes of one line, newline excluded */
#define DFT_NOTE_SIGS_MAX     32    /* signature lines (the spec asks for at least 16) */
#define DFT_NOTE_NAME_MAX     255   /* bytes of a key name */
#define DFT_NOTE_ALG_ED25519  0x01  /* plain Ed25519 note signature */
#define DFT_NOTE_ALG_COSIG_V1 0x04  /* c2sp.org/tlog-cosignature Ed25519, cosignature/v1 */
#define DFT_NOTE_VKEY_MAX     (DFT_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1) /* vkey string with NUL */

struct dft_note_sig {
    const char *name; /* key name, inside the note's copy, not NUL-terminated */
    size_t name_len;
    uint32_t key_id;          /* the first four bytes, big-endian */
    const unsigned char *sig; /* the bytes after the key id */
    size_t sig_len;
    const char *line; /* the whole line from the em dash through its newline */
    size_t line_len;
};

/* A parsed note; owns copies of the text and decoded signatures. */
struct dft_note {
    char *text; /* note text incl. its final newline; text_len bytes, not NUL-terminated */
    size_t text_len;
    struct dft_note_sig sigs[DFT_NOTE_SIGS_MAX];
    size_t nsigs; /* >= 1 after a successful parse */
    char *mem;    /* owned storage */
};

/*
 * Parse strictly: valid UTF-8 without control characters but newline, at most
 * DFT_NOTE_MAX_BYTES, lines of at most DFT_NOTE_LINE_MAX bytes, text ending in newline, a
 * blank line, then 1..DFT_NOTE_SIGS_MAX lines "— NAME BASE64" (name without spaces or '+',
 * canonical padded base64 of >= 5 bytes) and nothing after the last newline. DFT_ERR_INPUT
 * names the problem; DFT_ERR_TOO_LARGE above the caps. note_release frees.
 */
enum dft_err note_parse(struct dft_note *n, const char *msg, size_t len,
                        struct dft_error *err) DFT_MUST_CHECK;
void note_release(struct dft_note *n);

/* A key that can verify note signatures: plain Ed25519 (0x01) or cosignature/v1 (0x04). */
struct dft_note_verifier {
    char name[DFT_NOTE_NAME_MAX + 1];
    uint32_t key_id;
    unsigned char alg; /* DFT_NOTE_ALG_* */
    unsigned char pub[32];
};

/* key id = SHA-256(name || "\n" || alg || pub)[:4], big-endian. */
uint32_t note_key_id(const char *name, unsigned char alg, const unsigned char pub[32]);
/* Fill v from parts; DFT_ERR_INPUT for a bad name or alg. */
enum dft_err note_verifier_init(struct dft_note_verifier *v, const char *name, unsigned char alg,
                                const unsigned char pub[32], struct dft_error *err) DFT_MUST_CHECK;
/*
 * Parse a verifier key "NAME+HEXID+BASE64(alg || pub)": 8 lower- or upper-case hex digits that
 * must equal the computed key id, alg 0x01 or 0x04, a 32-byte key. DFT_ERR_INPUT otherwise.
 */
enum dft_err note_verifier_parse(struct dft_note_verifier *v, const char *vkey, size_t len,
                                 struct dft_error *err) DFT_MUST_CHECK;
/* Format as a verifier key string (lower-case hex id) into out[DFT_NOTE_VKEY_MAX]. */
void note_verifier_format(const struct dft_note_verifier *v, char out[DFT_NOTE_VKEY_MAX]);

/*
 * Sign text (which must be valid note text: UTF-8, no control characters but newline, ending in
 * newline) with an Ed25519 key (libsodium 64-byte secret key): appends to out the signature line
 * "— NAME BASE64\n" of algorithm 0x01. The whole note is text || "\n" || lines.
 */
enum dft_err note_sign_line(struct dft_buf *out, const char *text, size_t text_len,
                            const char *name, const unsigned char sk[64],
                            struct dft_error *err) DFT_MUST_CHECK;
/* The same for a cosignature/v1 line made at POSIX time timestamp (< 2^63). */
enum dft_err note_cosign_line(struct dft_buf *out, const char *text, size_t text_len,
                              const char *name, const unsigned char sk[64], uint64_t timestamp,
                              struct dft_error *err) DFT_MUST_CHECK;

/* What note_verify found for one verifier. */
struct dft_note_check {
    int verified;       /* 1 when a signature by this key verified */
    uint64_t timestamp; /* cosignature/v1 time (0 for plain Ed25519) */
    size_t sig_index;   /* which of n->sigs */
};

/*
 * Verify n against the known keys vs[0..nvs) as the spec says: signatures by unknown keys
 * (name and key id not both matching) are ignored; a signature by a known key that fails to
 * verify rejects the note; two verifiers with the same name and id are ambiguous
 * (DFT_ERR_INPUT); a note with no verified signature is rejected. Failures: DFT_ERR_INTEGRITY.
 * checks (nvs entries, may be NULL) receive per-key results.
 */
enum dft_err note_verify(const struct dft_note *n, const struct dft_note_verifier *vs, size_t nvs,
                         struct dft_note_check *checks, struct dft_error *err) DFT_MUST_CHECK;

/* ---- checkpoints (c2sp.org/tlog-checkpoint) ---- */

#define DFT_TLOG_ORIGIN_PREFIX "defter.vault/"
#define DFT_TLOG_ORIGIN_BYTES  (13 + 16 + 1) /* prefix, 16 hex digits, NUL */

struct dft_checkpoint {
    char origin[DFT_NOTE_NAME_MAX + 1];
    uint64_t size;
    unsigned char root[DFT_TLOG_HASH_BYTES];
};

/* "defter.vault/" + first 16 hex digits of SHA-256(pub): the origin and the key name. */
void tlog_origin(char out[DFT_TLOG_ORIGIN_BYTES], const unsigned char pub[32]);

/* The log's verifier (alg 0x01, name = origin) for a vault public signing key. */
void tlog_log_verifier(struct dft_note_verifier *v, const unsigned char pub[32]);

/* Append the checkpoint body "ORIGIN\nSIZE\nBASE64ROOT\n" to out. */
enum dft_err checkpoint_format(struct dft_buf *out, const struct dft_checkpoint *c,
                               struct dft_error *err) DFT_MUST_CHECK;

/*
 * Parse a checkpoint body strictly: exactly three non-empty lines (Defter checkpoints carry no
 * extension lines), a size in decimal without leading zeros or sign (<= DFT_TLOG_SIZE_MAX), a
 * base64 root of exactly 32 bytes. DFT_ERR_INPUT otherwise.
 */
enum dft_err checkpoint_parse(struct dft_checkpoint *c, const char *text, size_t len,
                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * The whole signed note of c (c->origin must be the signer's origin), signed with the log key.
 * Appends to out.
 */
enum dft_err checkpoint_sign(struct dft_buf *out, const struct dft_checkpoint *c,
                             const unsigned char sk[64], struct dft_error *err) DFT_MUST_CHECK;

/*
 * Open a signed checkpoint: parse the note, require a valid signature by log (whose name must
 * equal the origin line), verify the cosignatures of the witnesses ws[0..nws) (may be 0;
 * wchecks receives per-witness results, may be NULL), parse the body into c. Errors as
 * note_parse / note_verify; a note not signed by the log is DFT_ERR_INTEGRITY.
 */
enum dft_err checkpoint_open(struct dft_checkpoint *c, const char *msg, size_t len,
                             const struct dft_note_verifier *log,
                             const struct dft_note_verifier *ws, size_t nws,
                             struct dft_note_check *wchecks, struct dft_error *err) DFT_MUST_CHECK;

/* ---- witnesses (c2sp.org/tlog-cosignature) and cosigned checkpoints of this log ---- */

/*
 * The trusted witnesses and the policy are replayed from signed, logged operations of the
 * reserved record DFT_WITNESS_RECORD (made with dft_witness_*_op and appended through
 * dft_vault_append_ops): {"action":"witness_add","fields":{"vkey":VKEY}} and
 * {"action":"witness_policy","fields":{"k":K}}. Cosigned checkpoints live in table
 * tlog_cosigned(size, note, imported), one note per tree size. Format: docs/log-format.md.
 */
#define DFT_WITNESS_RECORD "tlog_witnesses"
#define DFT_WITNESS_MAX    (DFT_NOTE_SIGS_MAX - 1) /* a stored note also holds the log's line */

struct dft_witness_set {
    struct dft_note_verifier keys[DFT_WITNESS_MAX]; /* cosignature/v1 keys, in order of trust */
    size_t n;
    unsigned policy;     /* cosignatures the latest cosigned checkpoint needs (0: no policy) */
    int has_policy_text; /* the latest policy operation signs a policy file's text: */
    unsigned char policy_sha256[32]; /* its SHA-256 */
};

/*
 * Replay one witness operation (log entry idx) onto ws, which starts zeroed; the vault feeds
 * its history of DFT_WITNESS_RECORD in order (the log reads no table of the vault).
 * DFT_ERR_INTEGRITY for a bad one.
 */
enum dft_err witness_replay(struct dft_witness_set *ws, const json_t *op, int64_t idx,
                            struct dft_error *err) DFT_MUST_CHECK;
/*
 * The operation that trusts vkey (a cosignature/v1 verifier key NAME+HEXID+BASE64(0x04||key)),
 * into *op (new reference). DFT_ERR_INPUT for a bad or non-witness key, or one already trusted;
 * DFT_ERR_TOO_LARGE beyond DFT_WITNESS_MAX.
 */
enum dft_err witness_add_op(const struct dft_witness_set *ws, const char *vkey, json_t **op,
                            struct dft_error *err) DFT_MUST_CHECK;
/* The operation that requires k cosignatures (k <= trusted witnesses, else DFT_ERR_INPUT). */
/*
 * Policy operations: k cosignatures; witness_policy_text_op also signs the SHA-256 of the policy
 * file's text (field "text_sha256", hex), so the text kept beside the log is part of history.
 */
enum dft_err witness_policy_text_op(const struct dft_witness_set *ws, uint64_t k,
                                    const unsigned char sha256[32], json_t **op,
                                    struct dft_error *err) DFT_MUST_CHECK;
enum dft_err witness_policy_op(const struct dft_witness_set *ws, uint64_t k, json_t **op,
                               struct dft_error *err) DFT_MUST_CHECK;

struct witness_import {
    uint64_t size;       /* the checkpoint's tree size */
    size_t cosignatures; /* trusted cosignatures now kept for that size */
    size_t added;        /* of which this import brought */
};

/*
 * Import a checkpoint of this log (log_pub: the vault's signing key) carrying cosignature/v1
 * lines; in its own transaction. DFT_ERR_INPUT: malformed note, another log's origin, no line by
 * the vault's key, no trusted witness, no cosignature by a trusted witness. DFT_ERR_INTEGRITY: a
 * signature by the vault or a trusted witness that does not verify, a size above the tree's or
 * another root at its size. The stored note keeps the log's line and the trusted cosignatures
 * (merged with those already kept for the same size); other lines are dropped. Nothing is stored
 * on failure.
 */
enum dft_err witness_import(sqlite3 *db, const unsigned char log_pub[32],
                            const struct dft_witness_set *ws, const char *note, size_t len,
                            struct witness_import *res, struct dft_error *err) DFT_MUST_CHECK;
/*
 * Verify every stored cosigned checkpoint again (signatures and root against the current tree;
 * DFT_ERR_INTEGRITY on the first failure) and report {"trusted":N,"policy":K,"checkpoints":M,
 * "latest":{"size","cosignatures","cosigned_by":[{"name","timestamp"}]}|null,"policy_met":B}:
 * the policy is met when K is 0 or the latest cosigned checkpoint has K trusted cosignatures.
 */
enum dft_err witness_check(sqlite3 *db, const unsigned char log_pub[32],
                           const struct dft_witness_set *ws, json_t **report,
                           struct dft_error *err) DFT_MUST_CHECK;

/*
 * Append to out the kept cosigned checkpoint of the largest size, verified again as
 * witness_check does (DFT_ERR_NOT_FOUND when none is kept).
 */
enum dft_err witness_latest(sqlite3 *db, const unsigned char log_pub[32],
                            const struct dft_witness_set *ws, struct dft_buf *out,
                            struct dft_error *err) DFT_MUST_CHECK;

#endif
