/*
 * extract_write.c - extract's writing thread: each authenticated chunk goes to the output at its
 * offset, with O_DIRECT where the file system takes it (moved from object.c, which runs it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "evidence/internal.h"

/*
 * Extract writes its output with direct I/O when the file system takes it: the chunk buffers go
 * to the disk without a copy into the page cache and without the kernel's writeback work, which
 * on a disk cost more than decrypting (measured: a 1 GiB buffered copy with fsync took 2.1-2.5 s
 * of system CPU, the same copy O_DIRECT 0.25-0.48 s). The data is the same and still fsynced
 * before the rename (the disk's cache). Direct blocks leave no plaintext in the page cache; the
 * buffered tail, and every chunk after a fallback (out_write), do.
 * Returns 1 when O_DIRECT is now set on fd, 0 when it stays buffered.
 */
int
evd_out_direct_begin(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

/* Back to buffered writes (an unaligned tail, or a file system refusing a direct write). */
static int
out_direct_end(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_DIRECT);
}

/*
 * Write n plaintext bytes of a chunk at off of the output. With direct set, the whole
 * EVD_IO_ALIGN blocks go out directly (chunks are whole blocks at block offsets, from an aligned
 * buffer); the tail of the last chunk, or everything when the file system says EINVAL, goes
 * through the page cache after O_DIRECT is turned off (only the final chunk has a tail, and a
 * buffered write is correct anywhere), and *direct is cleared: every later write is buffered.
 * 0, or -1 with errno.
 */
static int
out_write(int fd, int *direct, const unsigned char *p, size_t n, uint64_t off)
{
    if (*direct) {
        size_t head = n / EVD_IO_ALIGN * EVD_IO_ALIGN;
        if (head > 0 && file_pwrite_all(fd, p, head, off) != 0) {
            if (errno != EINVAL) {
                return -1;
            }
            head = 0; /* rewritten below through the page cache */
        }
        if (head == n) {
            return 0;
        }
        if (out_direct_end(fd) != 0) {
            return -1;
        }
        *direct = 0;
        p += head;
        n -= head;
        off += head;
    }
    return file_pwrite_all(fd, p, n, off);
}

/*
 * When extracting, a third thread writes every chunk (already authenticated) as the hashing
 * thread hashes it: direct writes wait for the disk, and here they wait on neither the
 * decryption nor the hash. Buffered, it asks every EVD_SYNC_EVERY chunks for writeback to start
 * (sync_file_range) so the final fsync is short.
 */
void *
evd_out_main(void *arg)
{
    struct evd_outw *w = arg;
    struct evd_slot *s;
    while ((s = evd_pipe_take2(w->pipe)) != NULL) {
        uint64_t off = s->index * w->stride;
        if (out_write(w->fd, &w->direct, s->buf, s->len, off) != 0) {
            w->write_errno = errno ? errno : EIO;
            evd_pipe_abort(w->pipe);
            break;
        }
        if (!w->direct && (s->index + 1) % EVD_SYNC_EVERY == 0) {
            (void)sync_file_range(w->fd, (off_t)w->synced, (off_t)(off + s->len - w->synced),
                                  SYNC_FILE_RANGE_WRITE);
            w->synced = off + s->len;
        }
        evd_pipe_consumed2(w->pipe);
    }
    return NULL;
}
