/*
 * meta.c - MIME type (libmagic) and photo capture metadata (libexif: date taken, GPS, camera)
 * from the first bytes of an evidence file, already in memory from the import pass.
 *
 * Never reads the file again and never fails an import over metadata: unknown or malformed
 * data gives "application/octet-stream" and an empty object. Only strings go into the JSON
 * (GPS too, as fixed-point decimal strings), so operations stay canonical without floats.
 */
#include <stdio.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <magic.h>

#include "evidence/internal.h"

#define EXIF_STR_MAX 128

/* Copy an ASCII entry into out (trimmed, valid UTF-8) or return 0. */
static int
exif_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, char out[EXIF_STR_MAX])
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[ifd], tag);
    if (e == NULL || e->format != EXIF_FORMAT_ASCII || e->data == NULL || e->size == 0) {
        return 0;
    }
    size_t n = 0;
    while (n < e->size && n < EXIF_STR_MAX - 1 && e->data[n] != '\0') {
        out[n] = (char)e->data[n];
        n++;
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) {
        n--;
    }
    out[n] = '\0';
    return n > 0 && dft_utf8_valid(out, n);
}

/* Degrees from three rationals (d, m, s); 0 when absent or malformed. */
static int
exif_coord(ExifData *ed, ExifTag tag, ExifTag ref_tag, char neg_ref, double *out)
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], tag);
    if (e == NULL || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || e->data == NULL ||
        e->size < 24) {
        return 0;
    }
    ExifByteOrder bo = exif_data_get_byte_order(ed);
    double v = 0, scale = 1;
    for (int i = 0; i < 3; i++) {
        ExifRational r = exif_get_rational(e->data + 8 * i, bo);
        if (r.denominator == 0) {
            return 0;
        }
        v += (double)r.numerator / (double)r.denominator / scale;
        scale *= 60;
    }
    char ref[EXIF_STR_MAX];
    if (exif_ascii(ed, EXIF_IFD_GPS, ref_tag, ref) && ref[0] == neg_ref) {
        v = -v;
    }
    *out = v;
    return 1;
}

static void
exif_collect(const unsigned char *p, size_t n, json_t *meta)
{
    char s[EXIF_STR_MAX];
    ExifData *ed = exif_data_new_from_data(p, (unsigned int)(n > 0xffffffffu ? 0xffffffffu : n));
    if (ed == NULL) {
        return;
    }
    if (exif_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, s) ||
        exif_ascii(ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, s)) {
        /* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DDTHH:MM:SS" (local time of the camera) */
        if (strlen(s) == 19 && s[4] == ':' && s[7] == ':' && s[10] == ' ') {
            s[4] = '-';
            s[7] = '-';
            s[10] = 'T';
        }
        json_object_set_new(meta, "taken", json_string(s));
    }
    if (exif_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, s)) {
        json_object_set_new(meta, "camera_make", json_string(s));
    }
    if (exif_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, s)) {
        json_object_set_new(meta, "camera_model", json_string(s));
    }
    double lat, lon;
    if (exif_coord(ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, 'S', &lat) &&
        exif_coord(ed, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, 'W', &lon) &&
        lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%.6f", lat);
        snprintf(b, sizeof b, "%.6f", lon);
        json_t *gps = json_object();
        if (gps != NULL) {
            json_object_set_new(gps, "lat", json_string(a));
            json_object_set_new(gps, "lon", json_string(b));
            json_object_set_new(meta, "gps", gps);
        }
    }
    exif_data_unref(ed);
}

enum dft_err
evd_meta_detect(const unsigned char *p, size_t n, char mime[DFT_MIME_MAX], json_t **meta_out,
                struct dft_error *err)
{
    json_t *meta = json_object();
    if (meta == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    snprintf(mime, DFT_MIME_MAX, "application/octet-stream");
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (m != NULL && magic_load(m, NULL) == 0) {
        const char *t = magic_buffer(m, p, n);
        if (t != NULL && strlen(t) < DFT_MIME_MAX && dft_utf8_valid(t, strlen(t))) {
            snprintf(mime, DFT_MIME_MAX, "%s", t);
        }
    }
    if (m != NULL) {
        magic_close(m);
    }
    if (strcmp(mime, "image/jpeg") == 0) {
        exif_collect(p, n, meta);
    }
    *meta_out = meta;
    return DFT_OK;
}
