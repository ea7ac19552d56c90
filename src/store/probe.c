/*
 * probe.c - store_probe: authenticate page 1 of a database file without SQLite. Reads only;
 * the plaintext page is wiped before returning.
 */
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "store/page.h"
#include "store/probe.h"

int
store_probe(const char *path, const unsigned char page_key[DFT_KEY_BYTES],
            const unsigned char vault_id[DFT_VAULT_ID_BYTES])
{
    unsigned char page[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    int ok = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (pread(fd, page, sizeof page, 0) == (ssize_t)sizeof page) {
        EVP_CIPHER_CTX *ctx = page_cipher_new(page_key);
        page_ad_main(&ad, vault_id, 1);
        ok = ctx != NULL && page_decrypt(ctx, page, page, &ad) == 0;
        page_cipher_free(ctx);
    }
    sodium_memzero(page, sizeof page);
    close(fd);
    return ok;
}
