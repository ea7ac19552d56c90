/*
 * json_arena.h - jansson memory for verify's decrypted envelopes, one arena per envelope (and per
 * batch of records folded by the search check). Internal to the library (vault/verify.c,
 * vault/verify_pipe.c, search/rebuild.c).
 *
 * verify parses a whole envelope (up to hundreds of thousands of operations) into jansson trees,
 * reads them, and drops them: a malloc and a free per node, and a walk of the whole tree to free
 * it, cost about as much as the parse. While verify runs, jansson's allocator is wrapped
 * (crypto_json_arena_install): a thread that entered an arena takes its jansson memory from it by
 * bumping a pointer, and a free of arena memory does nothing; every other allocation goes to the
 * allocator that was set before (malloc or the wiped pool, json_pool.c), unchanged. A tree
 * in an arena is dropped with the arena (crypto_json_arena_release): no walk, the used bytes wiped
 * once. Arenas live in one reserved mapping, out of core dumps and locked in RAM when the limit
 * allows, like the wiped pool. Memory an arena cannot hold comes from the previous allocator and
 * the arena notes it: such a tree must be freed with json_decref before the release.
 */
#ifndef DEFTER_CRYPTO_JSON_ARENA_H
#define DEFTER_CRYPTO_JSON_ARENA_H

#include <stddef.h>

struct crypto_json_arena;

/* Wrap jansson's allocator (counted: the last _uninstall restores it). 0: not available. */
int crypto_json_arena_install(void);
void crypto_json_arena_uninstall(void);

/* A free arena, or NULL (none free, or not installed): then jansson allocates as before. */
struct crypto_json_arena *crypto_json_arena_take(void);
/* This thread's jansson allocations come from a (NULL: from the previous allocator). */
void crypto_json_arena_enter(struct crypto_json_arena *a);
void crypto_json_arena_leave(void);
/* 1 when an allocation did not fit: trees in a must be freed with json_decref first. */
int crypto_json_arena_spilled(const struct crypto_json_arena *a);
/* Wipe what a held and make it free for reuse; NULL allowed. Nothing in it may be used after. */
void crypto_json_arena_release(struct crypto_json_arena *a);

#endif
