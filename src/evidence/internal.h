/*
 * internal.h - shared pieces of src/evidence/: the chunk AEAD, the two-thread ring of chunk
 * buffers, and file-system calls that the fault hook can make fail.
 *
 * Private to src/evidence/; never include it from elsewhere.
 */
#ifndef DEFTER_EVIDENCE_INTERNAL_H
#define DEFTER_EVIDENCE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "core/file.h"
#include "evidence/evidence.h"

#define EVD_MAGIC         "DFTOBJv2" /* v2: padded (Padme), size inside the wrap */
#define EVD_MAGIC_BYTES   8
#define EVD_UID_OFF       56
#define EVD_UID_BYTES     16
#define EVD_AAD_HDR       72 /* header bytes authenticated by the key wrap */
#define EVD_NONCE_OFF     72
#define EVD_WRAPPED_OFF   96
#define EVD_CHUNK_AAD     25 /* uid ‖ index (u64 BE) ‖ final flag */
#define EVD_SECRET_BYTES  72 /* file key ‖ SHA-256 ‖ u64be(size), wrapped */
#define EVD_WRAPPED_BYTES (EVD_SECRET_BYTES + 16)
#define EVD_PAD_STEP_MAX  (1u << 16) /* pad bytes sealed per evd_pad_step call, at most */
#define EVD_SLOTS         8          /* chunk buffers in flight between the two threads */
#define EVD_SYNC_EVERY    8          /* chunks between early writeback requests */
#define EVD_IO_ALIGN      4096 /* chunk buffers' alignment, so extract can write them O_DIRECT */
#define EVD_CHUNK_MIN     (1u << 12)
#define EVD_CHUNK_MAX     (1u << 24)

/* ---- file-system calls with the fault hook: core/file.h (file_pwrite_all...) ---- */

/* ---- chunk AEAD (object.c) ---- */

void evd_chunk_nonce(unsigned char nonce[12], uint64_t index);
void evd_chunk_aad(unsigned char aad[EVD_CHUNK_AAD], const unsigned char uid[EVD_UID_BYTES],
                   uint64_t index, int final);
/* In-place AES-256-GCM of n bytes at p; the tag goes to p + n. ctx has the key set. */
int evd_chunk_seal(EVP_CIPHER_CTX *ctx, unsigned char *p, size_t n, uint64_t index, int final,
                   const unsigned char uid[EVD_UID_BYTES]);
/* In-place decrypt of n plaintext bytes at p with the tag at p + n; 0 ok, -1 forged. */
int evd_chunk_open(EVP_CIPHER_CTX *ctx, unsigned char *p, size_t n, uint64_t index, int final,
                   const unsigned char uid[EVD_UID_BYTES]);
/* The object id of a plaintext SHA-256: HMAC-SHA-256(dedup_key, label ‖ sha256). */
void evd_object_id(unsigned char id[DFT_OBJECT_ID_BYTES],
                   const unsigned char dedup_key[DFT_KEY_BYTES],
                   const unsigned char sha256[DFT_HASH_BYTES]);
/* Build a header; wraps file_key ‖ sha256 under object_key. */
enum dft_err evd_header_build(unsigned char out[DFT_EVIDENCE_HEADER_BYTES], uint64_t size,
                              const unsigned char id[DFT_OBJECT_ID_BYTES],
                              const unsigned char uid[EVD_UID_BYTES],
                              const unsigned char object_key[DFT_KEY_BYTES],
                              const unsigned char file_key[DFT_KEY_BYTES],
                              const unsigned char sha256[DFT_HASH_BYTES]);
/*
 * Open a header's wrap: file key, plaintext SHA-256 and the exact plaintext size (which is
 * never in clear: the file length only gives its padding bucket).
 */
enum dft_err evd_header_open(const unsigned char *p, size_t n,
                             const unsigned char object_key[DFT_KEY_BYTES],
                             unsigned char file_key[DFT_KEY_BYTES],
                             unsigned char sha256[DFT_HASH_BYTES], uint64_t *size,
                             struct dft_error *err);

/* ---- camouflaged vaults (object.c) ---- */

#define EVD_CAMO_BYTES EVD_AAD_HDR /* header bytes 0..71 are encoded in a camouflaged vault */

/* 1 when the header starts with the clear magic "DFTOBJv" (a plain vault's object). */
int evd_header_clear(const unsigned char *p, size_t n);
/*
 * Encode or decode (the same XOR) a camouflaged header in place: bytes 0..71 XOR
 * XChaCha20(CK, nonce = bytes 72..95), CK = crypto_kdf_derive_from_key(object_key, 1,
 * "dftobjcm"). n must be at least the header size. 0, or -1 (out of memory).
 */
int evd_header_camo_xor(unsigned char *p, size_t n, const unsigned char object_key[DFT_KEY_BYTES]);

/* ---- padding (object.c): objects are padded to Padme buckets (docs/evidence-format.md) ---- */

/* The whole object file length of an object of size plaintext bytes (header, chunks, pad). */
uint64_t evd_object_len(uint64_t size);

/*
 * The pad after the last chunk: zeros sealed with AES-256-GCM under the file key (its own
 * nonce and AD), in steps so a writer can spread it over its chunks. begin, any number of
 * steps, then end (writes what is left and the tag); release in every case.
 */
struct evd_pad {
    EVP_CIPHER_CTX *ctx; /* AES-256-GCM under the file key, pad nonce set */
    unsigned char *buf;  /* EVD_PAD_STEP_MAX bytes */
    int fd;              /* the object file */
    uint64_t off;        /* next pad byte's file offset */
    uint64_t left;       /* pad bytes not yet written */
    uint64_t step;       /* bytes per evd_pad_step */
};
int evd_pad_begin(struct evd_pad *p, int fd, const unsigned char file_key[DFT_KEY_BYTES],
                  const unsigned char uid[EVD_UID_BYTES], uint64_t size);
int evd_pad_step(struct evd_pad *p);
int evd_pad_end(struct evd_pad *p);
void evd_pad_release(struct evd_pad *p);
/* The whole pad at once (begin, end, release), for the streaming writer's finish. */
enum dft_err evd_pad_write(int fd, const unsigned char file_key[DFT_KEY_BYTES],
                           const unsigned char uid[EVD_UID_BYTES], uint64_t size,
                           struct dft_error *err);

/* objects_dir/ab/<hex> into out. */
int evd_object_path(char *out, size_t max, const char *objects_dir, const char *hex);
int evd_hex_valid(const char *hex);

/* ---- the shared tail of every import (place.c) ---- */

struct evd_placement {
    char subdir[PATH_MAX];     /* objects_dir/ab */
    char final_path[PATH_MAX]; /* objects_dir/ab/<id> */
    int subdir_created;        /* this call made subdir */
    int placed;                /* this call stored the object at final_path */
};

/*
 * From the plaintext SHA-256 and size of the temporary object *fd (at tmp): compute the object
 * id, write the header (file_key and sha wrapped under keys->object_key), fsync and close *fd
 * (-1 after), and rename tmp to objects_dir/ab/<id> unless that object exists (dedup:
 * info->created 0, tmp stays). Sets info->object, sha256, sha256_hex, size and created. A
 * caller failing later undoes what this call stored with evd_place_undo.
 */
enum dft_err evd_place(int *fd, char *tmp, const char *objects_dir, int objdir_created,
                       const struct dft_keys *keys, uint64_t size,
                       const unsigned char uid[EVD_UID_BYTES],
                       const unsigned char file_key[DFT_KEY_BYTES],
                       const unsigned char sha[DFT_HASH_BYTES], struct dft_evidence_info *info,
                       struct evd_placement *pl, struct dft_error *err) DFT_MUST_CHECK;
void evd_place_undo(struct evd_placement *pl);

/* ---- metadata (meta.c) ---- */

/* MIME type and capture metadata from the first bytes of a file (never reads the file). */
enum dft_err evd_meta_detect(const unsigned char *p, size_t n, char mime[DFT_MIME_MAX],
                             json_t **meta, struct dft_error *err);

/* ---- ring of chunk buffers between a producer and a consumer thread (pipe.c) ---- */

struct evd_slot {
    unsigned char *buf; /* evd_pipe.slot_bytes, EVD_IO_ALIGN-aligned */
    size_t len;         /* plaintext bytes in this chunk */
    uint64_t index;     /* chunk index */
    int final;          /* last chunk of the object */
};

struct evd_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv_full; /* a slot was produced, or done/abort */
    pthread_cond_t cv_free; /* a slot was consumed, or abort */
    struct evd_slot slots[EVD_SLOTS];
    uint64_t head;  /* slots produced */
    uint64_t tail;  /* slots consumed */
    uint64_t tail2; /* slots consumed by the second consumer (evd_pipe_second) */
    int second;     /* a second consumer takes every slot too; a slot is free once both did */
    int done;       /* producer finished */
    int abort;      /* either side failed: stop */

    /* each slot's buffer: init's slot_bytes rounded up to EVD_IO_ALIGN, all wiped on release */
    size_t slot_bytes;
};

int evd_pipe_init(struct evd_pipe *p, size_t slot_bytes);
void evd_pipe_release(struct evd_pipe *p);
/* Producer: next free slot, or NULL after abort. */
struct evd_slot *evd_pipe_acquire(struct evd_pipe *p);
void evd_pipe_submit(struct evd_pipe *p);
void evd_pipe_finish(struct evd_pipe *p);
/* Consumer: next full slot, or NULL when done or aborted. */
struct evd_slot *evd_pipe_take(struct evd_pipe *p);
void evd_pipe_consumed(struct evd_pipe *p);
/* Before any thread starts: every slot also goes to a second consumer (take2, consumed2). */
void evd_pipe_second(struct evd_pipe *p);
struct evd_slot *evd_pipe_take2(struct evd_pipe *p);
void evd_pipe_consumed2(struct evd_pipe *p);
void evd_pipe_abort(struct evd_pipe *p);

/* ---- extract's writing thread (extract_write.c) ---- */

/* Extract's third thread: writes every chunk to the output (evd_out_main). */
struct evd_outw {
    struct evd_pipe *pipe;
    int fd;          /* the output */
    int direct;      /* fd is in direct I/O (evd_out_direct_begin); 0 once out_write fell back */
    uint64_t stride; /* plaintext bytes per chunk (offset of chunk i: i * stride) */
    uint64_t synced; /* buffered: bytes handed to writeback so far */
    int write_errno; /* a write failed */
};

/* Turn O_DIRECT on for fd: 1 when set, 0 when it stays buffered. */
int evd_out_direct_begin(int fd);
/* Thread body (arg: struct evd_outw): write every slot taken with evd_pipe_take2. */
void *evd_out_main(void *arg);

#endif
