/*
 * test_stream.c - the streaming evidence writer (src/evidence/stream.c): objects written in
 * pieces of any size equal those of evidence_import (same id, dedup, byte-exact extract),
 * the size cap, abort and write faults leave nothing, no plaintext reaches the temporary file,
 * and an upload through the vault (dft_vault_upload_open/_finish) records on a record or leaves
 * nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/evidence.h"
#include "defter/vault.h"
#include "evidence/fixture.h"

#define CB DFT_EVIDENCE_CHUNK_BYTES

/* Write data in pieces of piece bytes (the last shorter). */
static enum dft_err
stream(struct fx *f, const unsigned char *data, size_t n, size_t piece, uint64_t max,
       struct dft_evidence_info *info, struct dft_error *err)
{
    struct dft_evidence_writer *w = NULL;
    enum dft_err rc = evidence_writer_open(&w, f->objects, max, err);
    if (rc != DFT_OK) {
        return rc;
    }
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        rc = dft_evidence_writer_write(w, data + off, k, err);
        if (rc != DFT_OK) {
            dft_evidence_writer_abort(w);
            return rc;
        }
    }
    assert_int_equal(dft_evidence_writer_size(w), n);
    return evidence_writer_finish(w, f->keys, info, err);
}

static void
test_writer__same_object_as_import(void **state)
{
    struct fx *f = *state;
    static const size_t sizes[] = {0, 1, 4095, CB - 1, CB, CB + 1, 2 * CB + 5};
    static const size_t pieces[] = {1u << 20, 7, 65536, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        size_t piece = n < 5000 ? 7 : pieces[i % 4];
        unsigned char *data = random_data(n);
        unsigned char want[DFT_HASH_BYTES], got[DFT_HASH_BYTES];
        struct dft_evidence_info a, b;
        struct dft_error err = {0};
        crypto_hash_sha256(want, data, n);
        if (stream(f, data, n, piece, UINT64_MAX, &a, &err) != DFT_OK) {
            fail_msg("stream %zu: %s", n, err.msg);
        }
        assert_int_equal(a.created, 1);
        assert_int_equal(a.size, n);
        assert_memory_equal(a.sha256, want, sizeof want);
        assert_int_equal(count_files(f->objects), 1);
        /* a file import of the same content finds the same object */
        FILE *fp = fopen(f->in, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(data, 1, n, fp), n);
        fclose(fp);
        assert_int_equal(evidence_import(f->objects, f->keys, f->in, NULL, NULL, &b, &err), DFT_OK);
        assert_int_equal(b.created, 0);
        assert_string_equal(a.object, b.object);
        assert_string_equal(a.mime, b.mime);
        /* full check and byte-exact extract */
        assert_int_equal(evidence_verify(f->objects, f->keys, a.object, want, 0, &err), DFT_OK);
        assert_int_equal(
            evidence_extract(f->objects, f->keys, a.object, want, f->out, NULL, NULL, got, &err),
            DFT_OK);
        assert_memory_equal(got, want, sizeof want);
        fp = fopen(f->out, "rb");
        assert_non_null(fp);
        unsigned char *back = malloc(n + 1);
        assert_int_equal(fread(back, 1, n + 1, fp), n);
        fclose(fp);
        assert_memory_equal(back, data, n);
        /* streaming the same content again stores nothing new */
        struct dft_evidence_info c;
        assert_int_equal(stream(f, data, n, 4096, UINT64_MAX, &c, &err), DFT_OK);
        assert_int_equal(c.created, 0);
        assert_string_equal(c.object, a.object);
        assert_int_equal(count_files(f->objects), 1);
        char p[700];
        snprintf(p, sizeof p, "%s/%.2s/%s", f->objects, a.object, a.object);
        assert_int_equal(unlink(p), 0);
        unlink(f->in);
        unlink(f->out);
        evidence_info_release(&a);
        evidence_info_release(&b);
        evidence_info_release(&c);
        free(back);
        free(data);
    }
}

static void
test_writer__cap_and_abort_leave_nothing(void **state)
{
    struct fx *f = *state;
    unsigned char *data = random_data(CB + 100);
    struct dft_evidence_info info;
    struct dft_error err = {0};
    /* one byte over the cap */
    assert_int_equal(stream(f, data, CB + 100, 4096, CB + 99, &info, &err), DFT_ERR_TOO_LARGE);
    assert_int_equal(count_files(f->objects), 0);
    struct stat st;
    assert_int_equal(stat(f->objects, &st), -1); /* the directory it created is gone too */
    /* exactly the cap is fine */
    assert_int_equal(stream(f, data, CB + 99, 4096, CB + 99, &info, &err), DFT_OK);
    evidence_info_release(&info);
    assert_int_equal(count_files(f->objects), 1);
    /* abort after a full chunk reached the temporary file */
    struct dft_evidence_writer *w = NULL;
    assert_int_equal(evidence_writer_open(&w, f->objects, UINT64_MAX, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, data, CB + 50, &err), DFT_OK);
    assert_int_equal(count_files(f->objects), 2);
    dft_evidence_writer_abort(w);
    assert_int_equal(count_files(f->objects), 1);
    /* a failed writer refuses more and its finish fails, leaving nothing */
    assert_int_equal(evidence_writer_open(&w, f->objects, 10, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, data, 11, &err), DFT_ERR_TOO_LARGE);
    assert_int_equal(dft_evidence_writer_write(w, data, 1, &err), DFT_ERR_INPUT);
    assert_int_equal(evidence_writer_finish(w, f->keys, &info, &err), DFT_ERR_INPUT);
    assert_int_equal(count_files(f->objects), 1);
    dft_evidence_writer_abort(NULL);
    free(data);
}

static void
test_writer__no_plaintext_in_temporary_file(void **state)
{
    struct fx *f = *state;
    size_t n = 3 * CB;
    unsigned char *data = malloc(n);
    struct dft_evidence_writer *w = NULL;
    struct dft_error err = {0};
    for (size_t i = 0; i < n; i++) {
        data[i] = (unsigned char)"PLAINTEXT-MARKER"[i % 16];
    }
    assert_int_equal(evidence_writer_open(&w, f->objects, UINT64_MAX, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, data, n, &err), DFT_OK);
    /* two chunks are on disk now (the third waits for the end) */
    DIR *d = opendir(f->objects);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0) {
            continue;
        }
        char p[600];
        snprintf(p, sizeof p, "%s/%s", f->objects, e->d_name);
        FILE *fp = fopen(p, "rb");
        unsigned char *disk = malloc(n + 4096);
        size_t got = fread(disk, 1, n + 4096, fp);
        fclose(fp);
        assert_true(got >= 2 * CB);
        assert_null(memmem(disk, got, "PLAINTEXT-MARKER", 16));
        free(disk);
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, 1);
    dft_evidence_writer_abort(w);
    assert_int_equal(count_files(f->objects), 0);
    free(data);
}

static void
test_writer__write_faults_leave_nothing(void **state)
{
    struct fx *f = *state;
    unsigned char *data = random_data(2 * CB + 3);
    int ok = 0, failures = 0;
    for (unsigned nth = 1; nth < 64 && !ok; nth++) {
        struct dft_evidence_info info;
        struct dft_error err = {0};
        evidence_fault_set(nth, ENOSPC);
        enum dft_err rc = stream(f, data, 2 * CB + 3, 65536, UINT64_MAX, &info, &err);
        evidence_fault_set(0, 0);
        if (rc == DFT_OK) {
            ok = 1;
            assert_int_equal(count_files(f->objects), 1);
            evidence_info_release(&info);
        } else {
            failures++;
            assert_int_equal(rc, DFT_ERR_IO);
            assert_non_null(strstr(err.msg, "no space"));
            assert_int_equal(count_files(f->objects), 0);
        }
    }
    assert_true(ok);
    assert_true(failures >= 5); /* temp create, 3 chunk writes, header, fsync, rename... */
    free(data);
}

static void
test_vault_upload__records_or_leaves_nothing(void **state)
{
    struct fx *f = *state;
    char vdir[320];
    struct dft_vault *v = NULL;
    struct dft_error err = {0};
    json_t *ids = NULL, *row = NULL, *items;
    snprintf(vdir, sizeof vdir, "%s/vault", f->root);
    assert_int_equal(dft_vault_create(vdir, "pw", 2, DFT_KDF_INTERACTIVE, &err), DFT_OK);
    assert_int_equal(dft_vault_open(&v, vdir, "pw", 2, &err), DFT_OK);
    items = json_pack("[{ss ss}]", "type", "case", "title", "Case");
    assert_int_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
    const char *rec = json_string_value(json_array_get(ids, 0));
    char objdir[400];
    snprintf(objdir, sizeof objdir, "%s/%s", vdir, DFT_VAULT_OBJECTS_DIR);
    struct dft_evidence_writer *w = NULL;

    /* no such record: no operation, and no object is left */
    assert_int_equal(dft_vault_upload_open(v, UINT64_MAX, &w, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, "hello", 5, &err), DFT_OK);
    assert_int_equal(dft_vault_upload_finish(v, w, "cas_nothing", "a.txt", &row, &err),
                     DFT_ERR_NOT_FOUND);
    assert_null(row);
    assert_int_equal(count_files(objdir), 0);

    /* on a record: one evidence operation with the name, SHA-256 and size */
    assert_int_equal(dft_vault_upload_open(v, UINT64_MAX, &w, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, "hello", 5, &err), DFT_OK);
    assert_int_equal(dft_vault_upload_finish(v, w, rec, "hello.txt", &row, &err), DFT_OK);
    assert_int_equal(count_files(objdir), 1);
    assert_string_equal(json_string_value(json_object_get(row, "sha256")),
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_string_equal(json_string_value(json_object_get(row, "mime")), "text/plain");
    json_t *ev = NULL;
    assert_int_equal(dft_vault_show(v, json_string_value(json_object_get(row, "id")), 0, &ev, &err),
                     DFT_OK);
    assert_string_equal(json_string_value(json_object_get(ev, "name")), "hello.txt");
    assert_string_equal(json_string_value(json_object_get(ev, "mime")), "text/plain");
    assert_int_equal(json_integer_value(json_object_get(ev, "size")), 5);
    json_decref(ev);
    json_decref(row);
    json_decref(ids);
    json_decref(items);
    dft_vault_close(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer__same_object_as_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer__cap_and_abort_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer__no_plaintext_in_temporary_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer__write_faults_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_upload__records_or_leaves_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
