/*
 * test_camo.c - camouflaged evidence objects (docs/evidence-format.md, "Camouflaged vaults"):
 * no clear magic, id or uid in the file, the same length and chunks as a clear object, every
 * read path (open, range read, extract, verify) decodes them, a wrong key or a flipped header
 * byte is refused, and rewrapping keeps, drops or adds the encoding as asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/evidence.h"
#include "evidence/rekey.h"
#include "evidence/fixture.h"

#define CB DFT_EVIDENCE_CHUNK_BYTES

static void
object_path(const char *objects, const char *hex, char *out, size_t max)
{
    snprintf(out, max, "%s/%.2s/%s", objects, hex, hex);
}

static int
contains(const unsigned char *hay, size_t n, const void *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
import_into(struct fx *f, const char *objects, int camo, const void *data, size_t n,
            struct dft_evidence_info *info)
{
    struct dft_error err = {0};
    fx_write_file(f->in, data, n);
    f->keys->camouflage = (unsigned char)camo;
    enum dft_err rc = evidence_import(objects, f->keys, f->in, NULL, NULL, info, &err);
    f->keys->camouflage = 0;
    if (rc != DFT_OK) {
        fail_msg("import: %s", err.msg);
    }
}

static void
test_camo__no_clear_field_same_layout(void **state)
{
    struct fx *f = *state;
    char plain_dir[400], p1[600], p2[600];
    size_t n = 2 * CB + 777, n1 = 0, n2 = 0;
    unsigned char *data = random_data(n);
    struct dft_evidence_info a, b;
    struct dft_error err = {0};
    snprintf(plain_dir, sizeof plain_dir, "%s/plain", f->root);

    import_into(f, f->objects, 1, data, n, &a);
    import_into(f, plain_dir, 0, data, n, &b);
    assert_string_equal(a.object, b.object); /* same id: the encoding is not in the id */
    object_path(f->objects, a.object, p1, sizeof p1);
    object_path(plain_dir, b.object, p2, sizeof p2);
    unsigned char *camo = slurp(p1, &n1), *clear = slurp(p2, &n2);
    assert_int_equal(n1, n2); /* same length: padding and chunk offsets unchanged */
    assert_memory_equal(clear, "DFTOBJv2", 8);

    /* the clear object shows its magic, id and uid; the camouflaged one none of them */
    unsigned char id[DFT_OBJECT_ID_BYTES];
    assert_int_equal(dft_hex_decode(id, sizeof id, a.object), DFT_OK);
    assert_true(contains(clear, n2, id, sizeof id));
    assert_false(contains(camo, n1, "DFTOBJ", 6));
    assert_false(contains(camo, n1, id, sizeof id));
    assert_false(contains(camo, n1, a.object, 16));
    assert_false(contains(camo, n1, clear + 56, 16)); /* uid */
    assert_true(evidence_header_camouflaged(camo));
    assert_false(evidence_header_camouflaged(clear));

    /* every read path decodes it */
    assert_int_equal(evidence_verify(f->objects, f->keys, a.object, a.sha256, 0, &err), DFT_OK);
    assert_int_equal(evidence_verify(f->objects, f->keys, a.object, a.sha256, EVIDENCE_QUICK, &err),
                     DFT_OK);
    assert_int_equal(
        evidence_extract(f->objects, f->keys, a.object, a.sha256, f->out, NULL, NULL, NULL, &err),
        DFT_OK);
    size_t got_n = 0;
    unsigned char *got = slurp(f->out, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, data, n);
    struct dft_evidence_obj *o = NULL;
    unsigned char piece[100];
    size_t pn = 0;
    assert_int_equal(evidence_open(&o, f->objects, f->keys, a.object, &err), DFT_OK);
    assert_int_equal(dft_evidence_size(o), n);
    assert_int_equal(dft_evidence_read(o, CB + 3, piece, sizeof piece, &pn, &err), DFT_OK);
    assert_int_equal(pn, sizeof piece);
    assert_memory_equal(piece, data + CB + 3, sizeof piece);
    dft_evidence_close(o);

    free(got);
    free(camo);
    free(clear);
    free(data);
    evidence_info_release(&a);
    evidence_info_release(&b);
}

static void
test_camo__wrong_key_and_tamper_refused(void **state)
{
    struct fx *f = *state;
    char path[600];
    struct dft_evidence_info a;
    struct dft_error err = {0};
    unsigned char *data = random_data(5000);
    import_into(f, f->objects, 1, data, 5000, &a);
    object_path(f->objects, a.object, path, sizeof path);

    /* another vault's keys (a decoy compartment's, say) open nothing */
    struct dft_keys *other = keys_new();
    assert_non_null(other);
    randombytes_buf(other->master, sizeof other->master);
    keys_derive(other);
    memcpy(other->dedup_key, f->keys->dedup_key, sizeof other->dedup_key);
    assert_int_equal(evidence_verify(f->objects, other, a.object, NULL, 0, &err),
                     DFT_ERR_INTEGRITY);
    keys_free(other);

    /* a flipped bit in each encoded field: magic, chunk size, id, uid, nonce, wrap */
    static const size_t at[] = {0, 9, 30, 60, 80, 120};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        int fd = open(path, O_RDWR);
        unsigned char c;
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &c, 1, (off_t)at[i]), 1);
        c ^= 0x10;
        assert_int_equal(pwrite(fd, &c, 1, (off_t)at[i]), 1);
        assert_int_not_equal(evidence_verify(f->objects, f->keys, a.object, NULL, 0, &err), DFT_OK);
        assert_int_not_equal(
            evidence_extract(f->objects, f->keys, a.object, NULL, f->out, NULL, NULL, NULL, &err),
            DFT_OK);
        c ^= 0x10;
        assert_int_equal(pwrite(fd, &c, 1, (off_t)at[i]), 1);
        close(fd);
        assert_int_equal(evidence_verify(f->objects, f->keys, a.object, NULL, 0, &err), DFT_OK);
    }
    assert_int_equal(access(f->out, F_OK), -1); /* no failed extract left a file */
    free(data);
    evidence_info_release(&a);
}

static void
test_camo__rewrap_keeps_or_converts(void **state)
{
    struct fx *f = *state;
    char path[600];
    size_t n = 0;
    struct dft_evidence_info a;
    struct dft_error err = {0};
    unsigned char *data = random_data(3000);
    unsigned char k2[DFT_KEY_BYTES], out[DFT_EVIDENCE_HEADER_BYTES],
        back[DFT_EVIDENCE_HEADER_BYTES];
    randombytes_buf(k2, sizeof k2);
    import_into(f, f->objects, 1, data, 3000, &a);
    object_path(f->objects, a.object, path, sizeof path);
    unsigned char *file = slurp(path, &n);

    /* rekey: the encoding stays */
    assert_int_equal(evidence_header_rewrap(file, out, f->keys->object_key, k2, &err), DFT_OK);
    assert_true(evidence_header_camouflaged(out));
    assert_true(evidence_header_opens(out, k2));
    assert_false(evidence_header_opens(out, f->keys->object_key));
    /* leaving the vault (sync chunk): clear, the id in its place */
    assert_int_equal(
        evidence_header_rewrap_as(file, out, f->keys->object_key, k2, EVIDENCE_ENC_CLEAR, &err),
        DFT_OK);
    assert_memory_equal(out, "DFTOBJv2", 8);
    unsigned char id[DFT_OBJECT_ID_BYTES];
    assert_int_equal(dft_hex_decode(id, sizeof id, a.object), DFT_OK);
    assert_memory_equal(out + 24, id, sizeof id);
    assert_true(evidence_header_opens(out, k2));
    /* coming in (a pulled chunk into a camouflaged vault): encoded again */
    assert_int_equal(evidence_header_rewrap_as(out, back, k2, f->keys->object_key,
                                               EVIDENCE_ENC_CAMOUFLAGED, &err),
                     DFT_OK);
    assert_true(evidence_header_camouflaged(back));
    memcpy(file, back, sizeof back);
    fx_write_file(path, file, n);
    assert_int_equal(evidence_verify(f->objects, f->keys, a.object, a.sha256, 0, &err), DFT_OK);
    /* a clear header stays clear through a rekey (plain vaults are unchanged) */
    assert_int_equal(evidence_header_rewrap(out, back, k2, k2, &err), DFT_OK);
    assert_memory_equal(back, "DFTOBJv2", 8);
    /* garbage is refused, not decoded into something */
    memset(out, 0x5a, sizeof out);
    assert_int_equal(evidence_header_rewrap(out, back, k2, k2, &err), DFT_ERR_INTEGRITY);
    free(file);
    free(data);
    evidence_info_release(&a);
}

static void
test_camo__streaming_writer(void **state)
{
    struct fx *f = *state;
    char path[600];
    size_t n = CB + 10, fn = 0;
    unsigned char *data = random_data(n);
    struct dft_evidence_writer *w = NULL;
    struct dft_evidence_info info;
    struct dft_error err = {0};
    assert_int_equal(evidence_writer_open(&w, f->objects, n, &err), DFT_OK);
    assert_int_equal(dft_evidence_writer_write(w, data, n, &err), DFT_OK);
    f->keys->camouflage = 1;
    assert_int_equal(evidence_writer_finish(w, f->keys, &info, &err), DFT_OK);
    f->keys->camouflage = 0;
    object_path(f->objects, info.object, path, sizeof path);
    unsigned char *file = slurp(path, &fn);
    assert_false(contains(file, fn, "DFTOBJ", 6));
    assert_int_equal(evidence_verify(f->objects, f->keys, info.object, info.sha256, 0, &err),
                     DFT_OK);
    free(file);
    free(data);
    evidence_info_release(&info);
}

/* The stored header decodes with the formula of docs/evidence-format.md, written out here. */
static void
test_camo__documented_formula(void **state)
{
    struct fx *f = *state;
    char path[600];
    size_t n = 0;
    struct dft_evidence_info a;
    unsigned char *data = random_data(1000);
    import_into(f, f->objects, 1, data, 1000, &a);
    object_path(f->objects, a.object, path, sizeof path);
    unsigned char *file = slurp(path, &n);

    /* CK = crypto_kdf_derive_from_key(32, 1, "dftobjcm", object_key), spelt out as BLAKE2b */
    unsigned char ck[32], ck2[32], salt[16] = {1}, personal[16] = "dftobjcm";
    assert_int_equal(crypto_kdf_derive_from_key(ck, sizeof ck, 1, "dftobjcm", f->keys->object_key),
                     0);
    assert_int_equal(crypto_generichash_blake2b_salt_personal(
                         ck2, sizeof ck2, NULL, 0, f->keys->object_key, 32, salt, personal),
                     0);
    assert_memory_equal(ck, ck2, sizeof ck);
    /* clear[0..71] = stored[0..71] XOR XChaCha20(CK, nonce = stored[72..95]) */
    unsigned char clear[72];
    assert_int_equal(crypto_stream_xchacha20_xor(clear, file, sizeof clear, file + 72, ck), 0);
    unsigned char id[DFT_OBJECT_ID_BYTES];
    assert_int_equal(dft_hex_decode(id, sizeof id, a.object), DFT_OK);
    assert_memory_equal(clear, "DFTOBJv2", 8);
    assert_int_equal(clear[8] << 24 | clear[9] << 16 | clear[10] << 8 | clear[11],
                     DFT_EVIDENCE_CHUNK_BYTES);
    assert_true(sodium_is_zero(clear + 12, 12));
    assert_memory_equal(clear + 24, id, sizeof id);
    /* and the wrap opens with those 72 bytes as its additional data, under object_key */
    unsigned char secret[72];
    unsigned long long mlen = 0;
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL, file + 96, 88,
                                                                clear, 72, file + 72,
                                                                f->keys->object_key),
                     0);
    assert_memory_equal(secret + 32, a.sha256, 32);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(ck2, sizeof ck2);
    free(file);
    free(data);
    evidence_info_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_camo__no_clear_field_same_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camo__wrong_key_and_tamper_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camo__rewrap_keeps_or_converts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camo__streaming_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camo__documented_formula, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
