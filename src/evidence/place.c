/*
 * place.c - the tail every import shares (a file read by import.c, an upload written by
 * stream.c): wrap the file key, write the header, make the object durable and place it under
 * its content id, unless that content is stored already (dedup).
 *
 * Never replaces an existing object. On failure the caller still owns the temporary file (tmp
 * is "" once renamed) and removes, through pl, what this call created.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/internal.h"

enum dft_err
evd_place(int *fd, char *tmp, const char *objects_dir, int objdir_created,
          const struct dft_keys *keys, uint64_t size, const unsigned char uid[EVD_UID_BYTES],
          const unsigned char file_key[DFT_KEY_BYTES], const unsigned char sha[DFT_HASH_BYTES],
          struct dft_evidence_info *info, struct evd_placement *pl, struct dft_error *err)
{
    unsigned char id[DFT_OBJECT_ID_BYTES];
    unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES];
    char hex[DFT_OBJECT_HEX_BYTES];
    enum dft_err rc = DFT_OK;

    memset(pl, 0, sizeof *pl);
    evd_object_id(id, keys->dedup_key, sha);
    dft_hex_encode(hex, id, sizeof id);
    rc = evd_header_build(hdr, size, id, uid, keys->object_key, file_key, sha);
    if (rc != DFT_OK) {
        rc = dft_fail(err, rc, "cannot wrap the file key");
        goto out;
    }
    if (keys->camouflage && evd_header_camo_xor(hdr, sizeof hdr, keys->object_key) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (file_pwrite_all(*fd, hdr, sizeof hdr, 0) != 0 || file_fsync(*fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write an object file: %s", file_errstr(errno));
        goto out;
    }
    close(*fd);
    *fd = -1;
    int n = snprintf(pl->subdir, sizeof pl->subdir, "%s/%.2s", objects_dir, hex);
    if (n < 0 || (size_t)n >= sizeof pl->subdir ||
        evd_object_path(pl->final_path, sizeof pl->final_path, objects_dir, hex) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "objects directory path is too long");
        goto out;
    }
    if (mkdir(pl->subdir, 0700) == 0) {
        pl->subdir_created = 1;
    } else if (errno != EEXIST) {
        rc =
            dft_fail(err, DFT_ERR_IO, "cannot create an objects directory: %s", file_errstr(errno));
        goto out;
    }
    if (file_rename_noreplace(tmp, pl->final_path) == 0) {
        tmp[0] = '\0';
        pl->placed = 1;
        info->created = 1;
        if (file_fsync_dir(pl->subdir) != 0 ||
            ((pl->subdir_created || objdir_created) && file_fsync_dir(objects_dir) != 0)) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot sync the objects directory: %s",
                          file_errstr(errno));
            goto out;
        }
    } else if (errno == EEXIST) {
        info->created = 0; /* same content stored before: keep that object */
    } else {
        rc = dft_fail(err, DFT_ERR_IO, "cannot store an object file: %s", file_errstr(errno));
        goto out;
    }
    memcpy(info->object, hex, sizeof hex);
    memcpy(info->sha256, sha, DFT_HASH_BYTES);
    dft_hex_encode(info->sha256_hex, sha, DFT_HASH_BYTES);
    info->size = size;
out:
    sodium_memzero(hdr, sizeof hdr);
    return rc;
}

void
evd_place_undo(struct evd_placement *pl)
{
    if (pl->placed) {
        (void)unlink(pl->final_path);
        pl->placed = 0;
    }
    if (pl->subdir_created) {
        (void)rmdir(pl->subdir);
        pl->subdir_created = 0;
    }
}
