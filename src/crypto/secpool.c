/*
 * secpool.c - wiped, locked, non-dumpable memory for plaintext (see secpool.h).
 *
 * Each block starts with a 16-byte header holding its size class (or, for a large block, its
 * mapping length), so free knows how much to wipe. Small blocks are carved from 4 MiB arenas and
 * kept on one free list per class after a wipe; arenas are never unmapped. Must never hand out a
 * block that still holds another block's bytes without the caller knowing (alloc does not zero,
 * but every freed block was wiped), and never leave a freed block unwiped.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>

#include "crypto/secpool.h"

#define HDR        16u
#define ARENA      (4u << 20)
#define SMALL_MAX  (256u << 10) /* largest small block, header included */
#define NCLASS     64
#define LARGE_MARK UINT64_C(0x4c41524745424c4b) /* "LARGEBLK" */

struct block_hdr {
    uint64_t size;  /* class size (whole block) or mapping length of a large block */
    uint64_t large; /* LARGE_MARK for a large block, else the class index */
};

struct free_block {
    struct free_block *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct free_block *free_list[NCLASS];
static unsigned char *arena_cur; /* bump pointer in the current arena */
static size_t arena_left;
static size_t mapped_bytes;
static size_t live_blocks;

/* Class sizes: 16, 32, 48, 64, then four steps per power of two (80, 96, 112, 128, 160, ...). */
static size_t
class_size(unsigned c)
{
    if (c < 4) {
        return (size_t)(c + 1) * 16;
    }
    unsigned k = (c - 4) / 4; /* power: 64 << k */
    unsigned q = (c - 4) % 4;
    size_t base = (size_t)64 << k;
    return base + (base / 4) * (q + 1);
}

static unsigned
class_of(size_t total)
{
    if (total <= 64) {
        return (unsigned)((total + 15) / 16) - 1;
    }
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)(total - 1));
    size_t base = (size_t)1 << b;
    size_t step = base / 4;
    unsigned q = (unsigned)((total - base + step - 1) / step) - 1;
    return 4 + 4 * (b - 6) + q;
}

/* Anonymous mapping, out of core dumps, locked if the limit allows. NULL on failure. */
static void *
map_secret(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    (void)madvise(p, len, MADV_DONTDUMP);
    (void)mlock(p, len); /* best effort: RLIMIT_MEMLOCK may be small for a user */
    return p;
}

void *
crypto_secpool_alloc(size_t n)
{
    struct block_hdr *h;
    if (n == 0 || n > SIZE_MAX / 2) {
        return NULL;
    }
    size_t total = (n + HDR + 15) & ~(size_t)15;
    if (total > SMALL_MAX) {
        size_t page = 4096;
        size_t len = (total + page - 1) & ~(page - 1);
        h = map_secret(len);
        if (h == NULL) {
            return NULL;
        }
        h->size = len;
        h->large = LARGE_MARK;
        pthread_mutex_lock(&mu);
        mapped_bytes += len;
        live_blocks++;
        pthread_mutex_unlock(&mu);
        return (unsigned char *)h + HDR;
    }
    unsigned c = class_of(total);
    size_t cs = class_size(c);
    pthread_mutex_lock(&mu);
    if (free_list[c] != NULL) {
        h = (struct block_hdr *)(void *)free_list[c];
        free_list[c] = free_list[c]->next;
    } else {
        if (arena_left < cs) {
            /* the tail of the old arena is dropped (at most one block's worth) */
            unsigned char *a = map_secret(ARENA);
            if (a == NULL) {
                pthread_mutex_unlock(&mu);
                return NULL;
            }
            mapped_bytes += ARENA;
            arena_cur = a;
            arena_left = ARENA;
        }
        h = (struct block_hdr *)(void *)arena_cur;
        arena_cur += cs;
        arena_left -= cs;
    }
    live_blocks++;
    pthread_mutex_unlock(&mu);
    h->size = cs;
    h->large = c;
    return (unsigned char *)h + HDR;
}

static struct block_hdr *
hdr_of(const void *p)
{
    return (struct block_hdr *)(void *)((unsigned char *)(uintptr_t)p - HDR);
}

size_t
crypto_secpool_size(const void *p)
{
    return p == NULL ? 0 : (size_t)hdr_of(p)->size - HDR;
}

size_t
crypto_secpool_roundup(size_t n)
{
    size_t total = (n + HDR + 15) & ~(size_t)15;
    if (total > SMALL_MAX) {
        return ((total + 4095) & ~(size_t)4095) - HDR;
    }
    return class_size(class_of(total)) - HDR;
}

void
crypto_secpool_free(void *p)
{
    if (p == NULL) {
        return;
    }
    struct block_hdr *h = hdr_of(p);
    size_t size = (size_t)h->size;
    if (h->large == LARGE_MARK) {
        sodium_memzero(h, size);
        (void)munlock(h, size);
        munmap(h, size);
        pthread_mutex_lock(&mu);
        mapped_bytes -= size;
        live_blocks--;
        pthread_mutex_unlock(&mu);
        return;
    }
    unsigned c = (unsigned)h->large;
    sodium_memzero(p, size - HDR);
    pthread_mutex_lock(&mu);
    struct free_block *f = (struct free_block *)(void *)h;
    f->next = free_list[c];
    free_list[c] = f;
    live_blocks--;
    pthread_mutex_unlock(&mu);
}

void *
crypto_secpool_realloc(void *p, size_t n)
{
    if (p == NULL) {
        return crypto_secpool_alloc(n);
    }
    size_t have = crypto_secpool_size(p);
    if (n <= have && n > have / 2) {
        return p; /* fits, and not so much smaller that memory is wasted */
    }
    void *q = crypto_secpool_alloc(n);
    if (q == NULL) {
        return NULL;
    }
    memcpy(q, p, have < n ? have : n);
    crypto_secpool_free(p);
    return q;
}

void
crypto_secpool_stats(size_t *mapped, size_t *live)
{
    pthread_mutex_lock(&mu);
    *mapped = mapped_bytes;
    *live = live_blocks;
    pthread_mutex_unlock(&mu);
}
