/*
 * test_sha256.c - crypto_sha256_parts (OpenSSL's SHA-256 functions for short inputs, else EVP
 * with a context per thread) gives exactly SHA-256:
 * the FIPS 180-2 vectors, every length around the block boundaries and every split against
 * libsodium's SHA-256, the two-piece form used by leaf hashes, and threads hashing at once
 * (each with its own context).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "crypto/sha256.h"

static void
hex_is(const unsigned char h[32], const char *want)
{
    char got[65];
    sodium_bin2hex(got, sizeof got, h, 32);
    assert_string_equal(got, want);
}

static void
test_vectors(void **state)
{
    (void)state;
    unsigned char h[32];
    crypto_sha256_parts(h, "", 0, NULL, 0);
    hex_is(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_parts(h, "abc", 3, NULL, 0);
    hex_is(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256_parts(h, "ab", 2, "c", 1);
    hex_is(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    crypto_sha256_once(h, m, sizeof m - 1);
    hex_is(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    crypto_sha256_pair(h, m, 20, m + 20, sizeof m - 1 - 20);
    hex_is(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_lengths_and_splits(void **state)
{
    (void)state;
    static unsigned char buf[9000];
    unsigned char want[32];
    unsigned char got[32];
    randombytes_buf(buf, sizeof buf);
    for (size_t n = 0; n <= 600; n++) { /* both sides of the direct path's 512 bytes */
        crypto_hash_sha256(want, buf, n);
        for (size_t k = 0; k <= n; k += (n > 140 ? 7 : 1)) {
            crypto_sha256_parts(got, buf, k, buf + k, n - k);
            assert_memory_equal(got, want, 32);
        }
    }
    /* above the old 8 KiB switch between libsodium and OpenSSL */
    crypto_hash_sha256(want, buf, sizeof buf);
    crypto_sha256_once(got, buf, sizeof buf);
    assert_memory_equal(got, want, 32);
}

static void *
hash_many(void *arg)
{
    unsigned char *ok = arg;
    unsigned char buf[200];
    unsigned char a[32];
    unsigned char b[32];
    *ok = 1;
    for (int i = 0; i < 2000; i++) {
        randombytes_buf(buf, sizeof buf);
        size_t n = (size_t)(i % (int)sizeof buf);
        crypto_hash_sha256(a, buf, n);
        crypto_sha256_once(b, buf, n);
        if (memcmp(a, b, 32) != 0) {
            *ok = 0;
        }
    }
    return NULL;
}

static void
test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    unsigned char ok[4] = {0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, hash_many, &ok[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ok[i], 1);
    }
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_lengths_and_splits),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
