/*
 * safety.h - what a front end other than the CLI (the web page of `defter ui`) needs to offer
 * the answers of defter/coercion.h: a passphrase check on an open vault, and recovery shares as
 * words and as a QR code, exactly as `defter recovery split|combine` prints and reads them.
 */
#ifndef DEFTER_SAFETY_H
#define DEFTER_SAFETY_H

#include "defter/coercion.h"
#include "defter/core.h"

/*
 * Does pass open the compartment that v opened, as its slot is now on disk? Reads the header
 * under the directory lock and writes nothing (no attempt is counted). DFT_ERR_PASSPHRASE
 * ("wrong passphrase or damaged header") when it does not.
 */
DFT_EXPORT enum dft_err dft_vault_passphrase_check(struct dft_vault *v, const char *pass,
                                                   size_t pass_len,
                                                   struct dft_error *err) DFT_MUST_CHECK;

#define DFT_SHARE_WORDS     32
#define DFT_SHARE_WORDS_CAP (DFT_SHARE_WORDS * 10) /* bytes of the words, with spaces and NUL */

/* The share as 32 space-separated BIP-39 words (out: at least DFT_SHARE_WORDS_CAP bytes). */
DFT_EXPORT void dft_share_words(const unsigned char share[DFT_SHARE_BYTES], char *out, size_t cap);

/*
 * Parse 32 words (any white space between them, case ignored) into share and check its
 * checksum, as `recovery combine` does: DFT_ERR_INPUT with the message the CLI prints, naming
 * `which` (e.g. "share 2") and the mistyped word.
 */
DFT_EXPORT enum dft_err dft_share_parse_words(unsigned char share[DFT_SHARE_BYTES],
                                              const char *text, const char *which,
                                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * The share's words as an SVG QR code (libqrencode, error correction M, the same text as the
 * CLI's QR codes), appended to out. Give out a secure buffer: it holds the share.
 */
DFT_EXPORT enum dft_err dft_share_qr_svg(const unsigned char share[DFT_SHARE_BYTES],
                                         struct dft_buf *out, struct dft_error *err) DFT_MUST_CHECK;

#endif
