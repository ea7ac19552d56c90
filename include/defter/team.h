/*
 * team.h - team sync for front ends (src/sync/client.c, docs/sync-protocol.md): share a vault
 * on a server, invite and revoke members, join with an invite, sync. Each call opens its own
 * connection from the vault's sync state.
 */
#ifndef DEFTER_TEAM_H
#define DEFTER_TEAM_H

#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"

struct dft_vault;

#define DFT_SYNC_INVITE_PREFIX "defter-invite:"

/*
 * Make the open vault a collection on the server at url (its verifier key is learned here,
 * trust on first use) and push its history. *out: {"collection","server","vkey","pushed",...}.
 */
DFT_EXPORT enum dft_err dft_sync_share(struct dft_vault *v, const char *url, json_t **out,
                                       struct dft_error *err) DFT_MUST_CHECK;
/* An owner's one-use invite for role: *out {"invite":STRING,"role","expires"}. */
DFT_EXPORT enum dft_err dft_sync_invite(struct dft_vault *v, const char *role, json_t **out,
                                        struct dft_error *err) DFT_MUST_CHECK;
/* Before making a vault for it: the invite decodes and the server still honours it. */
DFT_EXPORT enum dft_err dft_sync_invite_check(const char *invite,
                                              struct dft_error *err) DFT_MUST_CHECK;
/* Join the collection of invite with this (new) vault, then pull. *out as dft_sync_run. */
DFT_EXPORT enum dft_err dft_sync_join(struct dft_vault *v, const char *invite, json_t **out,
                                      struct dft_error *err) DFT_MUST_CHECK;
/* {"collection","members":[{"key","role","joined","revoked",...,"you"}]} */
DFT_EXPORT enum dft_err dft_sync_members(struct dft_vault *v, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;
/*
 * Revoke key (base64 Ed25519) and start a new epoch sealed to the remaining readers. since:
 * POSIX seconds (-1: none): entries logged after the last checkpoint this device verified
 * before since are held for review.
 */
DFT_EXPORT enum dft_err dft_sync_revoke(struct dft_vault *v, const char *key, int64_t since,
                                        json_t **out, struct dft_error *err) DFT_MUST_CHECK;
/*
 * Push, then pull and verify: {"pushed","pulled","size","root"}. DFT_ERR_INTEGRITY on a fork,
 * rollback or bad proof: nothing is merged and both signed checkpoints are kept in the state's
 * "evidence". to_url (may be NULL): re-seed that server from this vault instead.
 */
DFT_EXPORT enum dft_err dft_sync_run(struct dft_vault *v, const char *to_url, json_t **out,
                                     struct dft_error *err) DFT_MUST_CHECK;

#endif
