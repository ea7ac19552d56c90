/*
 * member.h - the membership chain of a sync collection (docs/sync-protocol.md, "Membership"):
 * owner-signed operations logged as kind-2 entries of the collection's own log. The server
 * replays it to decide who may do what; every client replays it from genesis to decide whose
 * envelopes it accepts. Internal to libdefter (server and client engine).
 *
 * Entry payload: u32 big-endian json_len || JSON (json_len bytes, UTF-8) || Ed25519 signature
 * (64) by the key "by" names over "defter/member/v1\n" || JSON. The chain never trusts the
 * server: a forged, reordered or replayed operation fails member_apply with DFT_ERR_INTEGRITY.
 */
#ifndef DEFTER_SYNC_MEMBER_H
#define DEFTER_SYNC_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "sync/storage.h"

#define MEMBER_CONTEXT      "defter/member/v1\n"
#define MEMBER_JSON_MAX     (1024u * 1024u) /* bytes of one operation's JSON */
#define MEMBER_MAX          4096            /* members and invites of one collection */
#define MEMBER_SEALED_BYTES (64 + 48)       /* crypto_box_seal(CK || drop_sk) */

enum member_role {
    MEMBER_NONE = 0,
    MEMBER_OWNER,
    MEMBER_EDITOR,
    MEMBER_VIEWER,
    MEMBER_FIELD,
};

struct member {
    unsigned char key[32];  /* Ed25519 device key */
    unsigned char xkey[32]; /* X25519 key the epoch keys are sealed to */
    enum member_role role;
    uint64_t joined; /* log index of the genesis or join operation */
    int revoked;
    uint64_t revoked_at;  /* log index of the revoke operation */
    uint64_t since_index; /* entries from here to revoked_at are held for review */
    int has_since;
};

struct member_invite {
    unsigned char pub[32]; /* the invite's ephemeral Ed25519 key */
    enum member_role role;
    int64_t expires; /* POSIX seconds */
    int used;
};

struct member_chain {
    char cid[SYNC_CID_MAX + 1];
    uint64_t seq;           /* operations applied; the next one's seq */
    unsigned char last[32]; /* SHA-256 of the last operation's payload */
    uint32_t epoch;         /* current epoch */
    unsigned char drop_pk[32];
    struct member *members;
    size_t n, cap;
    struct member_invite *invites;
    size_t ni, icap;
};

const char *member_role_name(enum member_role r);
/* MEMBER_NONE for an unknown name. */
enum member_role member_role_parse(const char *s);
/* Roles that read (hold the collection key): owner, editor, viewer. */
int member_role_reads(enum member_role r);
/* Roles that write envelopes: owner, editor, field. */
int member_role_writes(enum member_role r);

void member_chain_init(struct member_chain *c, const char *cid);
void member_chain_release(struct member_chain *c);

/*
 * Parse payload (a kind-2 entry's bytes) into *op (new reference) and check its signature
 * only. DFT_ERR_INPUT for a malformed payload, DFT_ERR_INTEGRITY for a bad signature.
 */
enum dft_err member_parse(const unsigned char *payload, size_t n, json_t **op,
                          struct dft_error *err) DFT_MUST_CHECK;

/*
 * Check one operation against the chain and apply it: signature, collection, seq, prev, signer
 * (an owner not revoked, or for join an unused invite key), and the action's own rules. index
 * is the operation's position in the collection log. now: POSIX seconds to check invite expiry
 * against (the server), or 0 to skip (clients replaying history). op (may be NULL) receives the
 * parsed operation (new reference). On failure the chain is unchanged: DFT_ERR_INPUT for a
 * malformed payload, DFT_ERR_INTEGRITY for one the chain refuses.
 */
enum dft_err member_apply(struct member_chain *c, const unsigned char *payload, size_t n,
                          uint64_t index, int64_t now, json_t **op,
                          struct dft_error *err) DFT_MUST_CHECK;

/* The member with this key (revoked ones too), or NULL. */
const struct member *member_find(const struct member_chain *c, const unsigned char key[32]);

/*
 * Whether key could write an envelope logged at index: 0 yes, 1 refuse (unknown, not a
 * writer, joined later, revoked before index), 2 hold for review (revoked with a since index
 * at or below index). The semantics of dft_sync_author_fn.
 */
int member_author_ok(const struct member_chain *c, const unsigned char key[32], uint64_t index);

/* Signer of a payload being built: Ed25519 over msg. */
typedef enum dft_err (*member_sign_fn)(void *ctx, const unsigned char *msg, size_t n,
                                       unsigned char sig[64], struct dft_error *err);

/*
 * Complete op for the chain (sets v, collection, seq, prev) and serialise it signed:
 * payload appended to out. by must already be set in op. Returns DFT_ERR_INPUT when op has
 * no "by".
 */
enum dft_err member_seal_op(const struct member_chain *c, json_t *op, member_sign_fn sign,
                            void *ctx, struct dft_buf *out, struct dft_error *err) DFT_MUST_CHECK;

/* The chain as JSON for `defter member list`: [{"key","role","joined","revoked"...}]. */
json_t *member_list_json(const struct member_chain *c);

#endif
