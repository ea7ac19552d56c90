/*
 * coercion.h - answers for a checkpoint or a house search: panic wipe, m-of-n recovery and
 * duress passphrases (docs/coercion.md says, in plain words, where each one ends).
 *
 * None of these prints or exits. Secrets (recovery keys, shares) are returned in sodium_malloc
 * memory that the caller frees with dft_recovery_shares_free.
 */
#ifndef DEFTER_COERCION_H
#define DEFTER_COERCION_H

#include "defter/core.h"
#include "defter/vault.h"

/* What a panic did. */
struct dft_panic_result {
    int copies;   /* header copies overwritten and fsynced (two per header file) */
    long stopped; /* pid of a defter process holding the vault that was stopped, or 0 */
};

/*
 * Wipe a vault without its passphrase: every key slot of every header copy is overwritten with
 * random bytes and fsynced (the ciphertext stays and can never be opened again), then a running
 * `defter ui` (any process holding the vault's database lock) is stopped. The work does not
 * depend on the vault's size. DFT_ERR_NOT_FOUND when dir holds no vault header.
 */
DFT_EXPORT enum dft_err dft_vault_panic(const char *dir, struct dft_panic_result *res,
                                        struct dft_error *err) DFT_MUST_CHECK;

#define DFT_RECOVERY_SHARES_MAX 16
#define DFT_RECOVERY_KEY_BYTES  32
#define DFT_SHARE_BYTES         44 /* vault tag 4, index 1, threshold 1, count 1, pad 1, y 32, check 4 */

/* Shares of a recovery key: share i is shares[i], share_len bytes. */
struct dft_recovery_shares {
    unsigned n, m;
    unsigned char share[DFT_RECOVERY_SHARES_MAX][DFT_SHARE_BYTES];
};

/*
 * Split: a new random recovery key seals the master key in the recovery slot (replacing any
 * earlier one: old shares stop working) and is split m of n (2 <= m <= n <= 16). *out is
 * sodium_malloc'd; free it with dft_recovery_shares_free.
 */
DFT_EXPORT enum dft_err dft_vault_recovery_split(struct dft_vault *v, unsigned m, unsigned n,
                                                 struct dft_recovery_shares **out,
                                                 struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT void dft_recovery_shares_free(struct dft_recovery_shares *s);

/*
 * Combine shares (k of them, each DFT_SHARE_BYTES, checksums checked first: DFT_ERR_INPUT names
 * the damaged one) and open the vault at dir with the recovery key, then seal the keys under a
 * new passphrase. DFT_ERR_PASSPHRASE when the combined key opens nothing (too few shares,
 * shares of different splits or of another vault).
 */
DFT_EXPORT enum dft_err dft_vault_recovery_combine(const char *dir,
                                                   const unsigned char (*shares)[DFT_SHARE_BYTES],
                                                   unsigned k, const char *new_pass, size_t new_len,
                                                   enum dft_kdf_level level,
                                                   struct dft_error *err) DFT_MUST_CHECK;

/* Drop the recovery slot: every share given out so far opens nothing. */
DFT_EXPORT enum dft_err dft_vault_recovery_void(struct dft_vault *v,
                                                struct dft_error *err) DFT_MUST_CHECK;

/* Check one share's checksum and fields (no vault needed). */
DFT_EXPORT enum dft_err dft_share_check(const unsigned char share[DFT_SHARE_BYTES],
                                        struct dft_error *err) DFT_MUST_CHECK;

/* Duress: what the duress passphrase does. */
enum dft_duress_action { DFT_DURESS_SHRED = 1, DFT_DURESS_DECOY = 2, DFT_DURESS_SHRED_DECOY = 3 };

/*
 * Set a duress passphrase (same Argon2id salt as the vault's; it must differ from real, the
 * passphrase that opened v, which is checked again).
 * - shred: that passphrase drops the real and recovery key slots in its unlock rewrite, then
 *   answers "wrong passphrase or damaged header".
 * - decoy: a second compartment (its own keys, database vault-1.db, log) that the passphrase
 *   opens as if it were the only one; seed it with harmless records by opening it with that
 *   passphrase. One per vault: DFT_ERR_INPUT when one exists.
 * - shred+decoy: like shred, then it opens the decoy compartment (made before with decoy),
 *   whose passphrase decoy must open it. DFT_ERR_INPUT when there is no decoy yet.
 */
DFT_EXPORT enum dft_err dft_vault_duress_set(struct dft_vault *v, enum dft_duress_action action,
                                             const char *pass, size_t pass_len, const char *real,
                                             size_t real_len, const char *decoy, size_t decoy_len,
                                             struct dft_error *err) DFT_MUST_CHECK;

/*
 * Create a vault at dir whose files are named after name (NAME.001 the header, NAME.002 and
 * NAME.003 the two compartments' databases, NAME/ the evidence objects) instead of header,
 * vault.db, vault-1.db and objects/. Every command then finds it from dir alone. name: 1 to 64
 * of [A-Za-z0-9_-.], not starting with '.' (DFT_ERR_INPUT otherwise).
 */
DFT_EXPORT enum dft_err dft_vault_create_camouflaged(const char *dir, const char *name,
                                                     const char *pass, size_t pass_len,
                                                     enum dft_kdf_level level,
                                                     struct dft_error *err) DFT_MUST_CHECK;

/* 1 when dir holds a camouflaged vault (its files named NAME.001 ...), else 0. */
DFT_EXPORT int dft_vault_camouflaged(const char *dir);

/* Is name a valid camouflage NAME? DFT_ERR_INPUT says why not. */
DFT_EXPORT enum dft_err dft_camouflage_check_name(const char *name,
                                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * Wipe after n wrong passphrases (HEADER_WIPE_MIN 10 .. 100; 0 turns it off) for the
 * compartment that v opened, whose passphrase real must open it again. After n attempts in a
 * row that do not open this compartment (wrong passphrases, the decoy's, the duress one), its
 * passphrase slot can no longer be opened by anyone: the next answer is "wrong passphrase".
 */
#define DFT_WIPE_AFTER_MIN 10
#define DFT_WIPE_AFTER_MAX 100
DFT_EXPORT enum dft_err dft_vault_wipe_after(struct dft_vault *v, unsigned n, const char *real,
                                             size_t real_len, struct dft_error *err) DFT_MUST_CHECK;

#endif
