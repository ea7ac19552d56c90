/*
 * header.h - the vault header file: key slots behind one Argon2id, and the sealed log states.
 *
 * Internal to src/vault. Format in docs/vault-format.md ("Header"). Nothing in the file is in
 * clear: a salt, HEADER_SLOTS same-size key slots (each an XChaCha20-Poly1305 box under the
 * passphrase's key, a recovery key, or random bytes), HEADER_CELLS sealed log states and a tag
 * (keyed BLAKE2b under a key every slot holds, so any damaged byte is seen after unlock). The
 * file holds the same image twice and is rewritten in place (copy 1, fsync, copy 0, fsync), so
 * a crash leaves one whole copy and no older copy stays behind in a renamed-away inode.
 * Legacy headers (magic DFTVAULT, version 1) are read, opened and converted at the next write.
 */
#ifndef DEFTER_VAULT_HEADER_H
#define DEFTER_VAULT_HEADER_H

#include "defter/crypto.h"

/* Legacy (version 1) layout, read for migration only. */
#define DFT_HEADER_MAGIC         "DFTVAULT"
#define DFT_HEADER_VERSION       1
#define DFT_HEADER_SALT_BYTES    16
#define DFT_HEADER_NONCE_BYTES   24
#define DFT_HEADER_WRAPPED_BYTES (DFT_KEY_BYTES + DFT_SIGN_SK_BYTES + DFT_BOX_SK_BYTES + 16)
#define DFT_HEADER_LEGACY_MAX    (298 + 4096 + 32)

/* Slotted layout. */
#define HEADER_SLOTS       8
#define HEADER_CELLS       2   /* sealed log states: one per compartment */
#define HEADER_SLOT_PLAIN  200 /* kind, maps, vault id, master, sign sk, box sk, tag key */
#define HEADER_SLOT_BYTES  (24 + HEADER_SLOT_PLAIN + 16)
#define HEADER_CELL_BYTES  81 /* DFT_TLOG_STATE_BYTES */
#define HEADER_OFF_SLOTS   DFT_HEADER_SALT_BYTES
#define HEADER_OFF_CELLS   (HEADER_OFF_SLOTS + HEADER_SLOTS * HEADER_SLOT_BYTES)
#define HEADER_OFF_TAG     (HEADER_OFF_CELLS + HEADER_CELLS * HEADER_CELL_BYTES)
#define HEADER_IMAGE_BYTES (HEADER_OFF_TAG + 32) /* a keyed BLAKE2b of the image before it */
#define HEADER_FILE_BYTES  (2 * HEADER_IMAGE_BYTES)
/*
 * The attempt counter after the two copies: 32 bytes that every unlock attempt, right or wrong,
 * replaces by their hash (header_ratchet). Slots of a compartment with "wipe after N wrong
 * passphrases" are sealed under a key that needs a value N steps down that chain.
 */
#define HEADER_COUNTER_BYTES 32
#define HEADER_DISK_BYTES    (HEADER_FILE_BYTES + HEADER_COUNTER_BYTES)
#define HEADER_WIPE_MIN      10
#define HEADER_WIPE_MAX      100

#define DFT_HEADER_STATE_MAX HEADER_CELL_BYTES
#define DFT_HEADER_MAX_BYTES                                                                       \
    (HEADER_DISK_BYTES > DFT_HEADER_LEGACY_MAX ? HEADER_DISK_BYTES : DFT_HEADER_LEGACY_MAX)

/* What a slot is, inside its AEAD. */
enum header_kind {
    HEADER_KIND_OPEN = 1,     /* opens its compartment (the real one, or the decoy) */
    HEADER_KIND_SHRED = 2,    /* drops its compartment's open and recovery slots first */
    HEADER_KIND_RECOVERY = 3, /* opened by a recovery key (m-of-n shares), not a passphrase */
};

/* Roles in a slot's map, seen from its compartment. */
enum header_role {
    HEADER_ROLE_OPEN = 0,     /* the compartment's passphrase slot */
    HEADER_ROLE_RECOVERY = 1, /* its recovery slot (random while there is none) */
    HEADER_ROLE_SHRED = 2,    /* its duress slot (random while there is none) */
    HEADER_ROLE_OTHER = 3,    /* the other compartment's three slots */
    HEADER_ROLE_SPARE = 4,    /* re-randomised at every unlock */
};

#define HEADER_SHRED_OPENS 0x01 /* flag: a shred slot that then opens the other compartment */
#define HEADER_HAS_OTHER   0x02 /* flag: the vault has a second compartment (no second decoy) */

/* The database of each compartment's store (slot byte): 0 vault.db, 1 the second one. */
#define HEADER_STORE1_FILE "vault-1.db"

struct dft_header {
    int legacy;        /* 1: a version-1 header (fields below until `state`) */
    uint8_t kdf_level; /* enum dft_kdf_level */
    uint64_t opslimit; /* Argon2id parameters */
    uint64_t memlimit;
    unsigned char salt[DFT_HEADER_SALT_BYTES];
    unsigned char vault_id[DFT_VAULT_ID_BYTES]; /* known after unlock (slotted) */
    unsigned char sign_pk[DFT_SIGN_PK_BYTES];
    unsigned char box_pk[DFT_BOX_PK_BYTES];
    unsigned char nonce[DFT_HEADER_NONCE_BYTES];     /* legacy wrap */
    unsigned char wrapped[DFT_HEADER_WRAPPED_BYTES]; /* legacy wrap */
    uint32_t state_len;                              /* sealed log state (0: none yet) */
    unsigned char state[DFT_HEADER_STATE_MAX];       /* nonce ‖ XChaCha20-Poly1305 ciphertext */
    /* Slotted: the image as read or as it will be written, and what unlock found. */
    unsigned char file[DFT_HEADER_MAX_BYTES]; /* the file exactly as read */
    size_t file_len;
    unsigned char image[HEADER_IMAGE_BYTES];  /* copy 0, or the copy that opened */
    unsigned char image1[HEADER_IMAGE_BYTES]; /* copy 1 as read */
    int have_image1;
    int unlocked;  /* 1 after unlock: the fields below are valid */
    int own;       /* the slot that opened */
    int cell;      /* this compartment's log state cell */
    int store;     /* its database: 0 vault.db, 1 HEADER_STORE1_FILE */
    int has_other; /* a second compartment exists */
    uint8_t kind;  /* enum header_kind of the own slot (after a shred: OPEN) */
    uint8_t map[HEADER_SLOTS];
    int shredded;                /* the unlock dropped the real and recovery slots */
    unsigned char key_check[32]; /* BLAKE2b of the master key that opened (not secret) */
    unsigned char tag_key[32];   /* keys the image's tag; in every slot of the vault */
    int damaged;                 /* after unlock: 1 + the copy that failed its tag, or 0 */
    unsigned char counter[HEADER_COUNTER_BYTES]; /* the attempt counter to write */
    uint8_t wipe_after;                          /* own slot: wipe after N wrong, or 0 */
};

/* Generate fresh keys into k and a header wrapping them under pass. */
enum dft_err header_create(struct dft_header *h, struct dft_keys *k, const char *pass,
                           size_t pass_len, enum dft_kdf_level level,
                           struct dft_error *err) DFT_MUST_CHECK;

/*
 * Rewrap k under a new passphrase into h (unlocked). The salt stays unless the level changes;
 * then the other compartment's and the duress slots (same salt) are dropped. Keys whose master
 * differs from the one that opened h drop the recovery slot too (its shares wrap the old one).
 */
enum dft_err header_wrap(struct dft_header *h, const struct dft_keys *k, const char *pass,
                         size_t pass_len, enum dft_kdf_level level,
                         struct dft_error *err) DFT_MUST_CHECK;

/*
 * One Argon2id, then every slot of both copies. Fills k and h's unlocked fields, re-seals the
 * own slot under a fresh nonce and re-randomises the spares in h->image (header_write makes it
 * durable). DFT_ERR_PASSPHRASE ("wrong passphrase or damaged header") when no slot opens, and
 * also after a shred slot that opens nothing; h->shredded says a shred happened.
 */
enum dft_err header_unlock(struct dft_header *h, struct dft_keys *k, const char *pass,
                           size_t pass_len, struct dft_error *err) DFT_MUST_CHECK;

/*
 * header_unlock, then the rewrite every unlock does at path: the new image when a slot opened,
 * the same bytes when none did (same files, calls and byte counts either way).
 */
enum dft_err header_unlock_at(struct dft_header *h, struct dft_keys *k, const char *pass,
                              size_t pass_len, const char *path,
                              struct dft_error *err) DFT_MUST_CHECK;

/* Open with a 32-byte recovery key instead of a passphrase (no Argon2id). */
enum dft_err header_unlock_recovery(struct dft_header *h, struct dft_keys *k,
                                    const unsigned char rkey[32],
                                    struct dft_error *err) DFT_MUST_CHECK;

/*
 * After header_read of the file again (under the directory lock), take over the unlocked
 * fields of `known` (the same compartment): DFT_ERR_INTEGRITY when the own slot changed.
 */
enum dft_err header_attach(struct dft_header *h, const struct dft_header *known,
                           struct dft_error *err) DFT_MUST_CHECK;

/*
 * Seal or drop (random bytes) slots of an unlocked h (duress, recovery). _seal uses h's cell
 * and store and adds HEADER_HAS_OTHER when h has it; _seal_as says them for another
 * compartment's slot.
 */
void header_slot_seal(struct dft_header *h, int idx, uint8_t kind, uint8_t flags,
                      const uint8_t map[HEADER_SLOTS], const struct dft_keys *k,
                      const unsigned char key[32]);
void header_slot_seal_as(struct dft_header *h, int idx, uint8_t kind, uint8_t flags, int cell,
                         int store, const uint8_t map[HEADER_SLOTS], const struct dft_keys *k,
                         const unsigned char key[32]);
void header_slot_drop(struct dft_header *h, int idx);
/* A shred slot (under key) that, after the shred, opens other's compartment (keys ok). */
void header_slot_seal_shred_opens(struct dft_header *h, int idx, const struct dft_header *other,
                                  const struct dft_keys *ok, const unsigned char key[32]);
/* Does slot idx of h's image open under key? */
int header_slot_opens(const struct dft_header *h, int idx, const unsigned char key[32]);
/* Does h's own slot (unlocked h; plain, or chained for wipe after N) open under kek? */
int header_own_opens(const struct dft_header *h, const unsigned char kek[32]);
/* The slot with role r in h's map, or -1. */
int header_role_slot(const struct dft_header *h, enum header_role r);
/* The Argon2id key of pass under h's salt (into sodium_malloc'd kek, 32 bytes). */
enum dft_err header_derive(const struct dft_header *h, unsigned char *kek, const char *pass,
                           size_t pass_len, struct dft_error *err) DFT_MUST_CHECK;
/*
 * The key of a dormant second compartment's open slot (made at init, before any decoy
 * passphrase): derived from the vault's tag key, which only an unlocked slot holds.
 */
void header_second_key(unsigned char out[32], const unsigned char tag_key[32]);
/*
 * Make the dormant second compartment of an unlocked h (store 1, the other cell) open under
 * kek_d instead: 1 when it was dormant, 0 when there is none or it has a passphrase already.
 */
int header_second_arm(struct dft_header *h, const unsigned char kek_d[32]);
/* Has unlocked h a dormant second compartment (no passphrase yet)? */
int header_second_dormant(const struct dft_header *h);
/*
 * Wipe after n wrong passphrases (n in HEADER_WIPE_MIN..HEADER_WIPE_MAX, or 0: off) for the
 * own slot of unlocked h: resealed under kek so that it opens only while fewer than n attempts
 * were made since the last unlock of this compartment (docs/coercion.md).
 */
void header_set_wipe_after(struct dft_header *h, const struct dft_keys *k,
                           const unsigned char kek[32], uint8_t n);
/* The slot key of a recovery key. */
void header_recovery_key(unsigned char out[32], const unsigned char rkey[32]);

/*
 * Serialise h into out (cap >= DFT_HEADER_MAX_BYTES is always enough); *len gets the size:
 * the image with the own state cell, twice. A legacy h that was never unlocked encodes as read.
 */
enum dft_err header_encode(const struct dft_header *h, unsigned char *out, size_t cap, size_t *len,
                           struct dft_error *err) DFT_MUST_CHECK;

/*
 * Parse a legacy header (strict: any damaged byte gives DFT_ERR_INTEGRITY) or take a slotted
 * one (HEADER_FILE_BYTES of what looks like random bytes; a mid-migration file is legacy plus
 * copy 1). Read / write in place (header_write: copy 1, fsync, copy 0, fsync).
 */
enum dft_err header_parse(struct dft_header *h, const unsigned char *p, size_t n,
                          struct dft_error *err) DFT_MUST_CHECK;
enum dft_err header_read(struct dft_header *h, const char *path,
                         struct dft_error *err) DFT_MUST_CHECK;
enum dft_err header_write(const struct dft_header *h, const char *path,
                          struct dft_error *err) DFT_MUST_CHECK;
/* Write raw file bytes in place, the same way (copy 1 part first, fsync, then the rest). */
enum dft_err header_write_raw(const unsigned char *p, size_t n, const char *path,
                              struct dft_error *err) DFT_MUST_CHECK;

#endif
