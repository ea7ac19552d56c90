/*
 * secpool.c - wiped, locked, non-dumpable memory for plaintext (see secpool.h).
 *
 * Each block starts with a 16-byte header holding its size class (or, for a large block, its
 * mapping length), so free knows how much to wipe. Small blocks are carved from 4 MiB arenas and
 * kept on one free list per class after a wipe; arenas are never unmapped. Must never hand out a
 * block that still holds another block's bytes without the caller knowing (alloc does not zero,
 * but every freed block was wiped), and never leave a freed block unwiped.
 *
 * Each thread keeps a small cache of freed small blocks per class (wiped like any freed block,
 * still in the pool's locked, non-dumpable arenas): most allocations and frees then take no lock,
 * and the rest move blocks between the thread's cache and the shared free lists in batches, so
 * SQLite, jansson and OpenSSL on several threads no longer contend on one mutex for every call.
 * A thread's cache goes back to the shared lists when the thread exits.
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
static size_t live_blocks; /* updated atomically (the thread caches take no lock) */

/* Per-thread cache of wiped free blocks, per class; at most tc_cap(class) blocks each. */
struct thread_cache {
    struct free_block *head[NCLASS];
    unsigned count[NCLASS];
    int registered; /* the exit destructor is set for this thread */
};

static _Thread_local struct thread_cache tc;
static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;
static int tc_key_ok;

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

/* Blocks of a class a thread may keep: many small ones, a few up to 16 KiB, none larger. */
static unsigned
tc_cap(size_t cs)
{
    return cs <= 1024 ? 32 : cs <= 16384 ? 4 : 0;
}

/* At thread exit: hand the thread's cached blocks (already wiped) back to the shared lists. */
static void
tc_release(void *arg)
{
    struct thread_cache *t = arg;
    pthread_mutex_lock(&mu);
    for (unsigned c = 0; c < NCLASS; c++) {
        while (t->head[c] != NULL) {
            struct free_block *f = t->head[c];
            t->head[c] = f->next;
            f->next = free_list[c];
            free_list[c] = f;
        }
        t->count[c] = 0;
    }
    pthread_mutex_unlock(&mu);
    t->registered = 0; /* a later free (another key's destructor) registers again */
}

static void
tc_key_init(void)
{
    tc_key_ok = pthread_key_create(&tc_key, tc_release) == 0;
}

/* 1 when this thread may cache blocks (its exit destructor is set). */
static int
tc_ready(void)
{
    if (!tc.registered) {
        pthread_once(&tc_once, tc_key_init);
        if (!tc_key_ok || pthread_setspecific(tc_key, &tc) != 0) {
            return 0;
        }
        tc.registered = 1;
    }
    return 1;
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
        pthread_mutex_unlock(&mu);
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
        return (unsigned char *)h + HDR;
    }
    unsigned c = class_of(total);
    size_t cs = class_size(c);
    unsigned cap = tc_cap(cs);
    if (cap > 0 && tc.head[c] != NULL) {
        h = (struct block_hdr *)(void *)tc.head[c];
        tc.head[c] = tc.head[c]->next;
        tc.count[c]--;
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
        h->size = cs;
        h->large = c;
        return (unsigned char *)h + HDR;
    }
    pthread_mutex_lock(&mu);
    if (free_list[c] != NULL) {
        h = (struct block_hdr *)(void *)free_list[c];
        free_list[c] = free_list[c]->next;
        /* Take up to half a cache's worth more for the next allocations of this thread. */
        if (cap > 0 && tc_ready()) {
            while (tc.count[c] < cap / 2 && free_list[c] != NULL) {
                struct free_block *f = free_list[c];
                free_list[c] = f->next;
                f->next = tc.head[c];
                tc.head[c] = f;
                tc.count[c]++;
            }
        }
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
    pthread_mutex_unlock(&mu);
    __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
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
        pthread_mutex_unlock(&mu);
        __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
        return;
    }
    unsigned c = (unsigned)h->large;
    unsigned cap = tc_cap(size);
    sodium_memzero(p, size - HDR);
    __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    struct free_block *f = (struct free_block *)(void *)h;
    if (cap > 0 && tc.count[c] < cap && tc_ready()) {
        f->next = tc.head[c];
        tc.head[c] = f;
        tc.count[c]++;
        return;
    }
    pthread_mutex_lock(&mu);
    f->next = free_list[c];
    free_list[c] = f;
    /* A full cache gives half its blocks back, so the next frees take no lock either. */
    while (cap > 0 && tc.count[c] > cap / 2) {
        struct free_block *g = tc.head[c];
        tc.head[c] = g->next;
        tc.count[c]--;
        g->next = free_list[c];
        free_list[c] = g;
    }
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
    pthread_mutex_unlock(&mu);
    *live = __atomic_load_n(&live_blocks, __ATOMIC_RELAXED);
}
