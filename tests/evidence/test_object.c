/*
 * test_object.c - evidence objects: byte-exact round trips, range reads, dedup, no plaintext
 * on disk, tamper detection (reorder, truncation, extension, flips), bad inputs, files that
 * change during import, injected write faults, and photo metadata.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libexif/exif-data.h>
#include <sodium.h>

#include "evidence/evidence.h"
#include "evidence/fixture.h"

#define CB DFT_EVIDENCE_CHUNK_BYTES

static void
object_path(const struct fx *f, const char *hex, char *out, size_t max)
{
    snprintf(out, max, "%s/%.2s/%s", f->objects, hex, hex);
}

static void
import_ok(struct fx *f, const void *data, size_t n, struct dft_evidence_info *info)
{
    struct dft_error err = {0};
    fx_write_file(f->in, data, n);
    enum dft_err rc = evidence_import(f->objects, f->keys, f->in, NULL, NULL, info, &err);
    if (rc != DFT_OK) {
        fail_msg("import: %s", err.msg);
    }
}

static void
test_import__round_trip_sizes(void **state)
{
    struct fx *f = *state;
    /* around 4096: extract writes whole 4 KiB blocks directly and a final tail buffered */
    static const size_t sizes[] = {0,  1,      4095,      4096,      4097,      CB - 1,
                                   CB, CB + 1, CB + 4095, CB + 4096, 3 * CB + 5};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        unsigned char *data = random_data(n);
        struct dft_evidence_info info;
        struct dft_error err = {0};
        unsigned char want[32], got[32];
        import_ok(f, data, n, &info);
        assert_int_equal(info.size, n);
        assert_int_equal(info.created, 1);
        crypto_sha256_once(want, data, n);
        assert_memory_equal(info.sha256, want, 32);

        assert_int_equal(evidence_extract(f->objects, f->keys, info.object, info.sha256, f->out,
                                          NULL, NULL, got, &err),
                         DFT_OK);
        assert_memory_equal(got, want, 32);
        size_t m = 0;
        unsigned char *back = slurp(f->out, &m);
        assert_non_null(back);
        assert_int_equal(m, n);
        if (n > 0) {
            assert_memory_equal(back, data, n);
        }
        assert_int_equal(count_files(f->outdir), 1); /* no temporary left beside OUT */
        struct stat st;
        assert_int_equal(stat(f->out, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        assert_int_equal(evidence_verify(f->objects, f->keys, info.object, info.sha256, 0, &err),
                         DFT_OK);
        assert_int_equal(
            evidence_verify(f->objects, f->keys, info.object, NULL, EVIDENCE_QUICK, &err), DFT_OK);

        /* byte ranges, across chunk boundaries and past the end */
        struct dft_evidence_obj *o = NULL;
        assert_int_equal(evidence_open(&o, f->objects, f->keys, info.object, &err), DFT_OK);
        assert_int_equal(dft_evidence_size(o), n);
        static const size_t offs[] = {0, 1, CB - 3, CB, 2 * CB + 7};
        unsigned char buf[64];
        for (size_t j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            size_t got_n = 99;
            assert_int_equal(dft_evidence_read(o, offs[j], buf, sizeof buf, &got_n, &err), DFT_OK);
            size_t expect = offs[j] >= n ? 0 : (n - offs[j] < 64 ? n - offs[j] : 64);
            assert_int_equal(got_n, expect);
            if (expect > 0) {
                assert_memory_equal(buf, data + offs[j], expect);
            }
        }
        dft_evidence_close(o);

        unlink(f->out);
        free(back);
        free(data);
        evidence_info_release(&info);
    }
}

static void
test_import__sha256_matches_sha256sum(void **state)
{
    struct fx *f = *state;
    size_t n = CB + 12345;
    unsigned char *data = random_data(n);
    struct dft_evidence_info info;
    import_ok(f, data, n, &info);
    char cmd[400], line[200] = {0};
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", f->in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    assert_true(strncmp(line, info.sha256_hex, 64) == 0);
    free(data);
    evidence_info_release(&info);
}

static void
test_import__no_plaintext_window_on_disk(void **state)
{
    struct fx *f = *state;
    size_t n = 3 * CB;
    unsigned char *data = random_data(n);
    unsigned char marker[64];
    memset(marker, 'M', sizeof marker);
    memcpy(marker, "DEFTER-PLAINTEXT-MARKER", 23);
    static const size_t at[] = {0, 4096, CB - 32, 2 * CB + 100, 3 * CB - 64};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        memcpy(data + at[i], marker, sizeof marker);
    }
    struct dft_evidence_info info;
    import_ok(f, data, n, &info);
    assert_int_equal(count_files(f->objects), 1);
    char path[600];
    object_path(f, info.object, path, sizeof path);
    size_t m = 0;
    unsigned char *obj = slurp(path, &m);
    assert_non_null(obj);
    assert_null(memmem(obj, m, marker, sizeof marker));
    assert_null(memmem(obj, m, data + 1000, 64)); /* nor any other window */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(obj);
    free(data);
    evidence_info_release(&info);
}

static void
test_import__dedup_stores_nothing_new(void **state)
{
    struct fx *f = *state;
    size_t n = CB + 10;
    unsigned char *data = random_data(n);
    struct dft_evidence_info a, b, c;
    import_ok(f, data, n, &a);
    assert_int_equal(a.created, 1);
    char path[600];
    object_path(f, a.object, path, sizeof path);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    import_ok(f, data, n, &b);
    assert_int_equal(b.created, 0);
    assert_string_equal(a.object, b.object);
    assert_int_equal(count_files(f->objects), 1);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino); /* the first object was kept */
    data[5] ^= 1;
    import_ok(f, data, n, &c);
    assert_int_equal(c.created, 1);
    assert_string_not_equal(a.object, c.object);
    assert_int_equal(count_files(f->objects), 2);
    /* the id is keyed: another vault's keys give another id for the same content */
    struct dft_keys *k2 = keys_new();
    randombytes_buf(k2->master, sizeof k2->master);
    keys_derive(k2);
    struct dft_evidence_info d;
    struct dft_error err = {0};
    assert_int_equal(evidence_import(f->objects, k2, f->in, NULL, NULL, &d, &err), DFT_OK);
    assert_string_not_equal(d.object, c.object);
    /* and that vault's objects do not open under these keys */
    assert_int_equal(evidence_verify(f->objects, f->keys, d.object, NULL, 0, &err),
                     DFT_ERR_INTEGRITY);
    keys_free(k2);
    free(data);
    evidence_info_release(&a);
    evidence_info_release(&b);
    evidence_info_release(&c);
    evidence_info_release(&d);
}

enum tamper {
    T_SWAP_CHUNKS,
    T_TRUNCATE_BYTE,
    T_TRUNCATE_CHUNK,
    T_EXTEND_BYTE,
    T_EXTEND_CHUNK,
    T_FLIP_FIRST_CHUNK,
    T_FLIP_MIDDLE_CHUNK,
    T_FLIP_TAG,
    T_FLIP_PAD,
    T_FLIP_SIZE,
    T_FLIP_UID,
    T_FLIP_WRAPPED,
    T_DROP_MIDDLE_CHUNK,
    T_COUNT
};

static void
apply_tamper(unsigned char *p, size_t *n, enum tamper t)
{
    size_t c = CB + DFT_EVIDENCE_TAG_BYTES;
    size_t h = DFT_EVIDENCE_HEADER_BYTES;
    unsigned char *tmp;
    switch (t) {
    case T_SWAP_CHUNKS:
        tmp = malloc(c);
        memcpy(tmp, p + h, c);
        memmove(p + h, p + h + c, c);
        memcpy(p + h + c, tmp, c);
        free(tmp);
        break;
    case T_TRUNCATE_BYTE:
        *n -= 1;
        break;
    case T_TRUNCATE_CHUNK:
        *n -= 5 + DFT_EVIDENCE_TAG_BYTES; /* the last chunk holds 5 bytes */
        break;
    case T_EXTEND_BYTE:
        p[(*n)++] = 0;
        break;
    case T_EXTEND_CHUNK:
        memcpy(p + *n, p + h + c, c);
        *n += c;
        break;
    case T_FLIP_FIRST_CHUNK:
        p[h + 17] ^= 0x01;
        break;
    case T_FLIP_MIDDLE_CHUNK:
        p[h + c + 1000] ^= 0x80;
        break;
    case T_FLIP_TAG: /* the last chunk's tag (5 bytes of data) */
        p[h + 3 * c + 5 + DFT_EVIDENCE_TAG_BYTES - 1] ^= 0x01;
        break;
    case T_FLIP_PAD: /* the pad's tag, the object's last byte */
        p[*n - 1] ^= 0x01;
        break;
    case T_FLIP_SIZE:
        p[23] ^= 0x01;
        break;
    case T_FLIP_UID:
        p[60] ^= 0x01;
        break;
    case T_FLIP_WRAPPED:
        p[120] ^= 0x01;
        break;
    case T_DROP_MIDDLE_CHUNK:
        memmove(p + h + c, p + h + 2 * c, *n - (h + 2 * c));
        *n -= c;
        break;
    case T_COUNT:
        break;
    }
}

static void
test_extract__detects_every_tamper(void **state)
{
    struct fx *f = *state;
    size_t n = 3 * CB + 5;
    unsigned char *data = random_data(n);
    struct dft_evidence_info info;
    import_ok(f, data, n, &info);
    char path[600];
    object_path(f, info.object, path, sizeof path);
    size_t m = 0;
    unsigned char *orig = slurp(path, &m);
    unsigned char *work = malloc(m + CB + 64);
    for (int t = 0; t < T_COUNT; t++) {
        size_t wn = m;
        struct dft_error err = {0};
        memcpy(work, orig, m);
        apply_tamper(work, &wn, (enum tamper)t);
        chmod(path, 0600);
        fx_write_file(path, work, wn);
        if (t == T_FLIP_PAD) {
            /* the pad carries nothing: extract and quick pass, the full check does not */
            assert_int_equal(evidence_extract(f->objects, f->keys, info.object, NULL, f->out, NULL,
                                              NULL, NULL, &err),
                             DFT_OK);
            unlink(f->out);
            assert_int_equal(
                evidence_verify(f->objects, f->keys, info.object, NULL, EVIDENCE_QUICK, NULL),
                DFT_OK);
            assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, &err),
                             DFT_ERR_INTEGRITY);
            assert_non_null(strstr(err.msg, "padding"));
            continue;
        }
        assert_int_equal(evidence_extract(f->objects, f->keys, info.object, NULL, f->out, NULL,
                                          NULL, NULL, &err),
                         DFT_ERR_INTEGRITY);
        assert_true(err.msg[0] != '\0');
        assert_int_equal(count_files(f->outdir), 0); /* nothing at OUT nor beside it */
        dft_error_clear(&err);
        assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, &err),
                         DFT_ERR_INTEGRITY);
        /* quick: header, length and final chunk; middle-chunk flips need the full check */
        enum dft_err q =
            evidence_verify(f->objects, f->keys, info.object, NULL, EVIDENCE_QUICK, NULL);
        if (t != T_SWAP_CHUNKS && t != T_FLIP_FIRST_CHUNK && t != T_FLIP_MIDDLE_CHUNK) {
            assert_int_equal(q, DFT_ERR_INTEGRITY);
        }
        /* range reads of the damaged part fail too, never returning wrong bytes */
        struct dft_evidence_obj *o = NULL;
        if (evidence_open(&o, f->objects, f->keys, info.object, NULL) == DFT_OK) {
            unsigned char buf[16];
            size_t got = 0;
            enum dft_err r1 = dft_evidence_read(o, 0, buf, sizeof buf, &got, NULL);
            enum dft_err r2 = dft_evidence_read(o, CB + 1000, buf, sizeof buf, &got, NULL);
            enum dft_err r3 = dft_evidence_read(o, 3 * CB, buf, sizeof buf, &got, NULL);
            assert_true(r1 == DFT_ERR_INTEGRITY || r2 == DFT_ERR_INTEGRITY ||
                        r3 == DFT_ERR_INTEGRITY);
            dft_evidence_close(o);
        }
    }
    /* an expected SHA-256 that differs from the recorded one is an integrity failure too */
    fx_write_file(path, orig, m);
    unsigned char other[32] = {1};
    assert_int_equal(
        evidence_extract(f->objects, f->keys, info.object, other, f->out, NULL, NULL, NULL, NULL),
        DFT_ERR_INTEGRITY);
    assert_int_equal(count_files(f->outdir), 0);
    assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, NULL), DFT_OK);
    /* a missing object */
    unlink(path);
    assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, NULL),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(evidence_verify(f->objects, f->keys, "zz", NULL, 0, NULL), DFT_ERR_INPUT);
    free(work);
    free(orig);
    free(data);
    evidence_info_release(&info);
}

/*
 * The object length gives only a Padme bucket of the size (overhead at most 12 %): files of
 * 100,000, 100,001 and 100,700 bytes make objects of one length, and still round-trip exactly.
 */
static void
test_import__padded_to_one_bucket(void **state)
{
    struct fx *f = *state;
    static const size_t sizes[] = {100000, 100001, 100700};
    long len[3];
    for (size_t k = 0; k < 3; k++) {
        size_t n = sizes[k];
        unsigned char *data = random_data(n);
        struct dft_evidence_info info;
        struct dft_error err = {0};
        char path[600];
        struct stat st;
        size_t m = 0;
        import_ok(f, data, n, &info);
        object_path(f, info.object, path, sizeof path);
        assert_int_equal(stat(path, &st), 0);
        len[k] = (long)st.st_size;
        assert_true((double)st.st_size <= 1.12 * (double)n);
        assert_int_equal(evidence_extract(f->objects, f->keys, info.object, info.sha256, f->out,
                                          NULL, NULL, NULL, &err),
                         DFT_OK);
        unsigned char *back = slurp(f->out, &m);
        assert_int_equal(m, n);
        assert_memory_equal(back, data, n);
        assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, &err), DFT_OK);
        struct dft_evidence_obj *o = NULL;
        assert_int_equal(evidence_open(&o, f->objects, f->keys, info.object, &err), DFT_OK);
        assert_int_equal(dft_evidence_size(o), n);
        dft_evidence_close(o);
        unlink(f->out);
        free(back);
        free(data);
        evidence_info_release(&info);
    }
    assert_int_equal(len[0], len[1]);
    assert_int_equal(len[0], len[2]);
    /* the streaming writer (uploads) pads the same way */
    struct dft_evidence_writer *w = NULL;
    struct dft_evidence_info info;
    unsigned char *data = random_data(100350);
    char path[600];
    struct stat st;
    assert_int_equal(evidence_writer_open(&w, f->objects, 1 << 20, NULL), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, data, 100350, NULL), DFT_OK);
    assert_int_equal(evidence_writer_finish(w, f->keys, &info, NULL), DFT_OK);
    object_path(f, info.object, path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((long)st.st_size, len[0]);
    assert_int_equal(evidence_verify(f->objects, f->keys, info.object, NULL, 0, NULL), DFT_OK);
    evidence_info_release(&info);
    free(data);
}

static void
test_import__bad_inputs(void **state)
{
    struct fx *f = *state;
    struct dft_evidence_info info;
    struct dft_error err = {0};
    char p[400];
    snprintf(p, sizeof p, "%s/missing", f->root);
    assert_int_equal(evidence_import(f->objects, f->keys, p, NULL, NULL, &info, &err),
                     DFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no such file"));
    dft_error_clear(&err);
    assert_int_equal(evidence_import(f->objects, f->keys, f->outdir, NULL, NULL, &info, &err),
                     DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "is a directory"));
    snprintf(p, sizeof p, "%s/fifo", f->root);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(evidence_import(f->objects, f->keys, p, NULL, NULL, &info, NULL),
                     DFT_ERR_INPUT);
    assert_int_equal(evidence_import(f->objects, f->keys, "/dev/null", NULL, NULL, &info, NULL),
                     DFT_ERR_INPUT);
    if (geteuid() != 0) {
        fx_write_file(f->in, "secret", 6);
        chmod(f->in, 0);
        assert_int_not_equal(evidence_import(f->objects, f->keys, f->in, NULL, NULL, &info, NULL),
                             DFT_OK);
        chmod(f->in, 0600);
    }
    assert_int_equal(count_files(f->objects), 0);
    /* extract of an unknown object or into a missing directory */
    unsigned char z[32] = {0};
    char hex[65];
    dft_hex_encode(hex, z, 32);
    assert_int_equal(
        evidence_extract(f->objects, f->keys, hex, NULL, f->out, NULL, NULL, NULL, NULL),
        DFT_ERR_INTEGRITY);
}

/* Progress callbacks that change the file under the import. */
static void
grow_file(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    if (done == CB) {
        FILE *fp = fopen(ctx, "ab");
        fputs("more", fp);
        fclose(fp);
    }
}

static void
shrink_file(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    if (done == CB) {
        assert_int_equal(truncate(ctx, CB + 10), 0);
    }
}

static void
rewrite_file(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    if (done == CB) {
        /* same size, new content and mtime */
        int fd = open(ctx, O_WRONLY);
        struct timespec ts[2] = {{0, UTIME_NOW}, {12345, 0}};
        assert_int_equal(pwrite(fd, "x", 1, 5), 1);
        futimens(fd, ts);
        close(fd);
    }
}

static void
test_import__file_changing_during_import(void **state)
{
    struct fx *f = *state;
    dft_progress_fn fns[] = {grow_file, shrink_file, rewrite_file};
    for (size_t i = 0; i < 3; i++) {
        unsigned char *data = random_data(3 * CB);
        fx_write_file(f->in, data, 3 * CB);
        struct dft_evidence_info info;
        struct dft_error err = {0};
        assert_int_equal(evidence_import(f->objects, f->keys, f->in, fns[i], f->in, &info, &err),
                         DFT_ERR_INPUT);
        assert_non_null(strstr(err.msg, "changed"));
        assert_int_equal(count_files(f->objects), 0);
        free(data);
    }
}

static void
test_import__write_faults_leave_nothing(void **state)
{
    struct fx *f = *state;
    static const int errs[] = {ENOSPC, EIO};
    unsigned char *data = random_data(2 * CB + 3);
    fx_write_file(f->in, data, 2 * CB + 3);
    for (size_t e = 0; e < 2; e++) {
        int ok = 0, failures = 0;
        for (unsigned nth = 1; nth < 64 && !ok; nth++) {
            struct dft_evidence_info info;
            struct dft_error err = {0};
            evidence_fault_set(nth, errs[e]);
            enum dft_err rc = evidence_import(f->objects, f->keys, f->in, NULL, NULL, &info, &err);
            evidence_fault_set(0, 0);
            if (rc == DFT_OK) {
                ok = 1;
                assert_int_equal(count_files(f->objects), 1);
                /* faults while extracting: nothing at OUT or beside it */
                int ok2 = 0;
                for (unsigned k = 1; k < 64 && !ok2; k++) {
                    evidence_fault_set(k, errs[e]);
                    enum dft_err r2 = evidence_extract(f->objects, f->keys, info.object, NULL,
                                                       f->out, NULL, NULL, NULL, NULL);
                    evidence_fault_set(0, 0);
                    if (r2 == DFT_OK) {
                        ok2 = 1;
                        assert_int_equal(count_files(f->outdir), 1);
                    } else {
                        assert_int_equal(r2, DFT_ERR_IO);
                        assert_int_equal(count_files(f->outdir), 0);
                    }
                }
                assert_true(ok2);
                unlink(f->out);
                char path[600];
                object_path(f, info.object, path, sizeof path);
                unlink(path);
                evidence_info_release(&info);
            } else {
                failures++;
                assert_int_equal(rc, DFT_ERR_IO);
                assert_true(strstr(err.msg, errs[e] == ENOSPC ? "no space" : "input/output") !=
                            NULL);
                assert_int_equal(count_files(f->objects), 0);
            }
        }
        assert_true(ok);
        assert_true(failures >= 6); /* temp create, 3 chunk writes, header, fsync, rename... */
    }
    free(data);
}

/* A file system refusing a direct write (EINVAL) at any write: extract falls back to buffered
 * writes for that chunk and every later one and still writes the exact bytes, or fails leaving
 * nothing. */
static void
test_extract__direct_write_refused_falls_back(void **state)
{
    struct fx *f = *state;
    size_t n = 9 * CB + 4097; /* more than EVD_SYNC_EVERY chunks, and a tail */
    unsigned char *data = random_data(n);
    struct dft_evidence_info info;
    import_ok(f, data, n, &info);
    int ok = 0;
    for (unsigned k = 1; k < 40; k++) { /* past the last file call: the fault never hits */
        struct dft_error err = {0};
        evidence_fault_set(k, EINVAL);
        enum dft_err rc = evidence_extract(f->objects, f->keys, info.object, info.sha256, f->out,
                                           NULL, NULL, NULL, &err);
        evidence_fault_set(0, 0);
        if (rc == DFT_OK) {
            size_t m = 0;
            unsigned char *back = slurp(f->out, &m);
            assert_non_null(back);
            assert_int_equal(m, n);
            assert_memory_equal(back, data, n);
            free(back);
            assert_int_equal(count_files(f->outdir), 1);
            unlink(f->out);
            ok++;
        } else {
            assert_int_equal(rc, DFT_ERR_IO);
            assert_int_equal(count_files(f->outdir), 0);
        }
    }
    assert_true(ok > 0);
    evidence_info_release(&info);
    free(data);
}

static void
add_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s)
{
    ExifEntry *e = exif_entry_new();
    size_t n = strlen(s) + 1;
    e->tag = tag;
    e->format = EXIF_FORMAT_ASCII;
    e->components = n;
    e->size = (unsigned int)n;
    e->data = malloc(n);
    memcpy(e->data, s, n);
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
}

static void
add_coord(ExifData *ed, ExifTag tag, unsigned d, unsigned m, unsigned s100)
{
    ExifEntry *e = exif_entry_new();
    ExifRational r[3] = {{d, 1}, {m, 1}, {s100, 100}};
    e->tag = tag;
    e->format = EXIF_FORMAT_RATIONAL;
    e->components = 3;
    e->size = 24;
    e->data = malloc(24);
    for (int i = 0; i < 3; i++) {
        exif_set_rational(e->data + 8 * i, exif_data_get_byte_order(ed), r[i]);
    }
    exif_content_add_entry(ed->ifd[EXIF_IFD_GPS], e);
    exif_entry_unref(e);
}

static void
test_meta__jpeg_exif_and_mime(void **state)
{
    struct fx *f = *state;
    ExifData *ed = exif_data_new();
    assert_non_null(ed);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Canon");
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, "EOS 5D");
    add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2021:08:14 06:30:05");
    add_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, "N");
    add_coord(ed, EXIF_TAG_GPS_LATITUDE, 44, 57, 3000);
    add_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE_REF, "E");
    add_coord(ed, EXIF_TAG_GPS_LONGITUDE, 34, 6, 0);
    unsigned char *ex = NULL;
    unsigned int exn = 0;
    exif_data_save_data(ed, &ex, &exn);
    exif_data_unref(ed);
    assert_non_null(ex);

    size_t n = 4 + exn + 2 + 2;
    unsigned char *jpg = malloc(n);
    size_t k = 0;
    jpg[k++] = 0xff;
    jpg[k++] = 0xd8;
    jpg[k++] = 0xff;
    jpg[k++] = 0xe1;
    jpg[k++] = (unsigned char)((exn + 2) >> 8);
    jpg[k++] = (unsigned char)((exn + 2) & 0xff);
    memcpy(jpg + k, ex, exn);
    k += exn;
    jpg[k++] = 0xff;
    jpg[k++] = 0xd9;
    free(ex);

    struct dft_evidence_info info;
    import_ok(f, jpg, k, &info);
    assert_string_equal(info.mime, "image/jpeg");
    assert_string_equal(json_string_value(json_object_get(info.meta, "camera_make")), "Canon");
    assert_string_equal(json_string_value(json_object_get(info.meta, "camera_model")), "EOS 5D");
    assert_string_equal(json_string_value(json_object_get(info.meta, "taken")),
                        "2021-08-14T06:30:05");
    json_t *gps = json_object_get(info.meta, "gps");
    assert_non_null(gps);
    assert_string_equal(json_string_value(json_object_get(gps, "lat")), "44.958333");
    assert_string_equal(json_string_value(json_object_get(gps, "lon")), "34.100000");
    evidence_info_release(&info);
    free(jpg);

    /* plain text: a MIME type, no capture metadata */
    import_ok(f, "hello, court\n", 13, &info);
    assert_string_equal(info.mime, "text/plain");
    assert_int_equal(json_object_size(info.meta), 0);
    evidence_info_release(&info);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import__round_trip_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__sha256_matches_sha256sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__no_plaintext_window_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__dedup_stores_nothing_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract__detects_every_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract__direct_write_refused_falls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_import__padded_to_one_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__bad_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__file_changing_during_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import__write_faults_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta__jpeg_exif_and_mime, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
