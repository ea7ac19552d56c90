/*
 * bundle.h - verifiable bundles: what leaves a vault (docs/bundle-format.md).
 *
 * A bundle is one stored ZIP: a manifest, the selected records as selective disclosures of their
 * signed operations, the sealed envelopes with a C2SP tlog-proof each, the log and witness keys,
 * cosigned checkpoints, evidence files under their SHA-256 and each file's custody history.
 * A profile decides which fields each record shows; withheld fields travel only as digests.
 *
 * dft_bundle_export needs an open vault; dft_bundle_verify needs nothing but the bundle (and
 * links no vault or SQLite code: defter-verify is built from it).
 */
#ifndef DEFTER_BUNDLE_H
#define DEFTER_BUNDLE_H

#include <jansson.h>

#include "defter/core.h"

#define DFT_BUNDLE_MEDIA_TYPE  "application/vnd.defter.bundle.v1+json"
#define DFT_BUNDLE_MAX_ENTRIES 1000000

struct dft_vault;

/* What to export: a case (with the records linked to it) or a list of record ids. */
struct dft_bundle_selection {
    const char *case_id;   /* or NULL */
    const json_t *records; /* JSON array of ids, when case_id is NULL */
    const char *profile;   /* "court", "diplomatic", "public" or a path to a profile file */
    unsigned flags;        /* enum dft_bundle_flags */
};

enum dft_bundle_flags {
    DFT_BUNDLE_HASHES_ONLY = 1 << 0,        /* no evidence files whatever the profile (briefs) */
    DFT_BUNDLE_INCLUDE_PRIVILEGED = 1 << 1, /* privileged notes stay in (their author only) */
};

/*
 * The plan of an export without writing it (`--dry-run`): {"profile", "records":[{"id","type",
 * "shows":[field...],"withholds":[field...],"operations":N}], "evidence":[{"id","sha256","size",
 * "file":bool}], "dropped":[{"id","reason"}]}. DFT_ERR_INPUT for a bad profile,
 * DFT_ERR_NOT_FOUND for an unknown record.
 */
DFT_EXPORT enum dft_err dft_bundle_plan(struct dft_vault *v, const struct dft_bundle_selection *sel,
                                        json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Write the bundle to out_path (replaced atomically: nothing is left there on failure). The
 * same vault state and selection give the same bytes. *summary (may be NULL) gets
 * {"bundle","records","operations","envelopes","evidence","bytes"}.
 */
DFT_EXPORT enum dft_err dft_bundle_export(struct dft_vault *v,
                                          const struct dft_bundle_selection *sel,
                                          const char *out_path, json_t **summary,
                                          struct dft_error *err) DFT_MUST_CHECK;

/* The same bundle, appended to out (held in memory: for briefings, without evidence files). */
DFT_EXPORT enum dft_err dft_bundle_export_mem(struct dft_vault *v,
                                              const struct dft_bundle_selection *sel,
                                              struct dft_buf *out, json_t **summary,
                                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * Check a bundle with no vault: ZIP structure, manifest, the log key, checkpoints and
 * cosignatures, every tlog-proof, every disclosure, evidence hashes and the witness quorum.
 * policy_json (may be NULL) is a trust policy obtained apart from the bundle: {"log": VKEY,
 * "witnesses": [VKEY...], "quorum": K}; without it the keys the bundle names are used and the
 * report says so. On success *report gets the verified content (records with the fields they
 * show). DFT_ERR_INTEGRITY (or DFT_ERR_INPUT for a malformed bundle) names the first failing item
 * in plain words; DFT_ERR_NOT_FOUND / DFT_ERR_IO when the file cannot be read.
 */
DFT_EXPORT enum dft_err dft_bundle_verify(const char *path, const json_t *policy_json,
                                          json_t **report, struct dft_error *err) DFT_MUST_CHECK;

/* The same on a bundle held in memory (for the fuzz harness and tests). */
DFT_EXPORT enum dft_err dft_bundle_verify_buffer(const void *data, size_t len,
                                                 const json_t *policy_json, json_t **report,
                                                 struct dft_error *err) DFT_MUST_CHECK;

/* ---- briefings (src/bundle/brief.c) ---- */

struct dft_brief_options {
    const char *const *cases; /* case ids, in the order of the briefing */
    size_t n_cases;
    const char *lang;    /* crh, uk, en, ru, tr */
    const char *profile; /* as for bundles */
    int pdf;             /* 0: HTML (bundle as a download link); 1: PDF/A-3b, bundle attached */
};

/*
 * Write a briefing of the cases to out_path (whole or not at all): per case its summary,
 * timeline, persons by role, proceedings with their hearings, evidence with SHA-256 and a QR
 * code of its inclusion proof, all taken from a bundle of the case (evidence as hashes only)
 * that is verified first and carried along. A contents page when there are several cases.
 * PDF through WeasyPrint (DFT_ERR_NOT_FOUND when it is missing).
 */
DFT_EXPORT enum dft_err dft_brief_write(struct dft_vault *v, const struct dft_brief_options *o,
                                        const char *out_path, json_t **summary,
                                        struct dft_error *err) DFT_MUST_CHECK;

/* ---- C2SP tlog-proof (c2sp.org/tlog-proof@v1), src/bundle/tlog_proof.c ---- */
#define DFT_TLOG_PROOF_TEXT_MAX   (65536 + 8192) /* a whole .tlog-proof: note plus proof lines */
#define DFT_TLOG_PROOF_HASHES_MAX 64

struct dft_tlog_proof {
    uint64_t index;
    unsigned char hashes[DFT_TLOG_PROOF_HASHES_MAX][32];
    size_t n;
    const char *checkpoint; /* points into the parsed text: the signed note */
    size_t checkpoint_len;
};

/* Format a tlog-proof (no extra line) into out. */
DFT_EXPORT enum dft_err dft_tlog_proof_format(struct dft_buf *out, uint64_t index,
                                              const unsigned char (*hashes)[32], size_t n,
                                              const char *checkpoint, size_t checkpoint_len,
                                              struct dft_error *err) DFT_MUST_CHECK;
/* Parse strictly (DFT_ERR_INPUT naming the problem); p->checkpoint points into text. */
DFT_EXPORT enum dft_err dft_tlog_proof_parse(struct dft_tlog_proof *p, const char *text, size_t len,
                                             struct dft_error *err) DFT_MUST_CHECK;

#endif
