/*
 * json_arena.c - per-envelope bump arenas for jansson during verify (json_arena.h).
 *
 * One mapping of ARENA_SLOTS slots is reserved at the first install (MAP_NORESERVE: pages are
 * only backed once written) and kept until the last uninstall; a released slot keeps its pages
 * (wiped), so the next envelope does not fault them in again. An allocation is a pointer bump in
 * the thread's arena; a free of a pointer inside the mapping is a no-op. Only one thread uses an
 * arena at a time (the thread that parses, then the caller, after a join).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>

#include "crypto/json_arena.h"

#define ARENA_SLOTS 4
#define SLOT_BYTES  ((size_t)4 << 30) /* reserved per arena; used pages only are backed */
#define LOCK_STEP   ((size_t)8 << 20) /* mlock the used part in steps of this */

struct crypto_json_arena {
    unsigned char *base;
    size_t used;   /* bytes handed out */
    size_t locked; /* bytes locked so far (best effort), then kept locked */
    size_t dirty;  /* bytes written since the last wipe: wiped at release */
    int busy;
    int spilled;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned installs;
static json_malloc_t prev_malloc;
static json_free_t prev_free;
static unsigned char *region; /* ARENA_SLOTS * SLOT_BYTES, or NULL */
static struct crypto_json_arena slots[ARENA_SLOTS];
static _Thread_local struct crypto_json_arena *current;

static int
in_region(const void *p)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)region;
    return region != NULL && a >= b && a - b < (uintptr_t)ARENA_SLOTS * SLOT_BYTES;
}

static void *
arena_malloc(size_t n)
{
    struct crypto_json_arena *a = current;
    if (a != NULL) {
        size_t need = (n + 15) & ~(size_t)15;
        if (need >= n && need <= SLOT_BYTES - a->used) {
            void *p = a->base + a->used;
            a->used += need > 0 ? need : 16;
            if (a->used > a->locked) {
                size_t to = (a->used + LOCK_STEP - 1) & ~(LOCK_STEP - 1);
                if (to > SLOT_BYTES) {
                    to = SLOT_BYTES;
                }
                (void)mlock(a->base + a->locked, to - a->locked); /* best effort */
                a->locked = to;
            }
            if (a->used > a->dirty) {
                a->dirty = a->used;
            }
            return p;
        }
        a->spilled = 1;
    }
    return prev_malloc(n);
}

static void
arena_free(void *p)
{
    if (p != NULL && !in_region(p)) {
        prev_free(p);
    }
}

int
crypto_json_arena_install(void)
{
    pthread_mutex_lock(&mu);
    if (installs == 0) {
        void *r = mmap(NULL, ARENA_SLOTS * SLOT_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED) {
            pthread_mutex_unlock(&mu);
            return 0;
        }
        (void)madvise(r, ARENA_SLOTS * SLOT_BYTES, MADV_DONTDUMP);
        region = r;
        for (size_t i = 0; i < ARENA_SLOTS; i++) {
            slots[i] = (struct crypto_json_arena){.base = region + i * SLOT_BYTES};
        }
        json_get_alloc_funcs(&prev_malloc, &prev_free);
        json_set_alloc_funcs(arena_malloc, arena_free);
    }
    installs++;
    pthread_mutex_unlock(&mu);
    return 1;
}

void
crypto_json_arena_uninstall(void)
{
    pthread_mutex_lock(&mu);
    if (installs > 0 && --installs == 0) {
        json_set_alloc_funcs(prev_malloc, prev_free);
        for (size_t i = 0; i < ARENA_SLOTS; i++) {
            if (slots[i].dirty > 0) {
                sodium_memzero(slots[i].base, slots[i].dirty);
            }
        }
        munmap(region, ARENA_SLOTS * SLOT_BYTES);
        region = NULL;
    }
    pthread_mutex_unlock(&mu);
}

struct crypto_json_arena *
crypto_json_arena_take(void)
{
    struct crypto_json_arena *a = NULL;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; region != NULL && i < ARENA_SLOTS && a == NULL; i++) {
        if (!slots[i].busy) {
            a = &slots[i];
            a->busy = 1;
            a->used = 0;
            a->spilled = 0;
        }
    }
    pthread_mutex_unlock(&mu);
    return a;
}

void
crypto_json_arena_enter(struct crypto_json_arena *a)
{
    current = a;
}

void
crypto_json_arena_leave(void)
{
    current = NULL;
}

int
crypto_json_arena_spilled(const struct crypto_json_arena *a)
{
    return a != NULL && a->spilled;
}

void
crypto_json_arena_release(struct crypto_json_arena *a)
{
    if (a == NULL) {
        return;
    }
    if (a->dirty > 0) {
        sodium_memzero(a->base, a->dirty);
        a->dirty = 0;
    }
    pthread_mutex_lock(&mu);
    a->used = 0;
    a->busy = 0;
    pthread_mutex_unlock(&mu);
}
