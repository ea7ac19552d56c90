/*
 * qr.c - QR codes as SVG (libqrencode), for the proofs printed in briefings.
 */
#include <qrencode.h>

#include "bundle/brief.h"

#define QUIET 4 /* modules of margin the QR specification asks for */

enum dft_err
brief_qr_svg(struct dft_buf *out, const char *text, struct dft_error *err)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (q == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot make a QR code of the proof");
    }
    int w = q->width, size = w + 2 * QUIET;
    enum dft_err rc =
        dft_buf_addf(out,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                     "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                     size, size, size, size);
    for (int y = 0; rc == DFT_OK && y < w; y++) {
        for (int x = 0; rc == DFT_OK && x < w; x++) {
            if (q->data[y * w + x] & 1) {
                rc = dft_buf_addf(out, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
            }
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_adds(out, "\"/></svg>");
    }
    QRcode_free(q);
    return rc == DFT_OK ? DFT_OK : dft_fail(err, rc, "QR code too large");
}
