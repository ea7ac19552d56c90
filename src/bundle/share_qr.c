/*
 * share_qr.c - a recovery share's words as an SVG QR code (defter/safety.h), drawn by the same
 * code as the briefings' proofs (qr.c).
 */
#include <sodium.h>

#include "bundle/brief.h"
#include "defter/safety.h"

enum dft_err
dft_share_qr_svg(const unsigned char share[DFT_SHARE_BYTES], struct dft_buf *out,
                 struct dft_error *err)
{
    char *words = sodium_malloc(DFT_SHARE_WORDS_CAP);
    if (words == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    dft_share_words(share, words, DFT_SHARE_WORDS_CAP);
    enum dft_err rc = brief_qr_svg(out, words, err);
    sodium_free(words); /* wipes */
    return rc;
}
