/*
 * brief.h - briefings (src/bundle/brief.c, catalog.c, qr.c): what a diplomat reads, built from
 * verified bundles only.
 */
#ifndef DEFTER_BUNDLE_BRIEF_H
#define DEFTER_BUNDLE_BRIEF_H

#include "defter/core.h"

/* 1 for the briefing languages: crh, uk, en, ru, tr. */
int brief_lang_valid(const char *lang);
/* The catalogue text of key in lang (English when missing), or NULL for an unknown key. */
const char *brief_text(const char *lang, const char *key);
/* An SVG QR code of text (libqrencode, error correction M) appended to out. */
enum dft_err brief_qr_svg(struct dft_buf *out, const char *text,
                          struct dft_error *err) DFT_MUST_CHECK;

#endif
