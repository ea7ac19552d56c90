/*
 * witness_api.c - the public entry points of the witness server (include/defter/witness.h),
 * over its internal functions (server/witness.h).
 */
#include <stdlib.h>

#include "defter/witness.h"
#include "server/witness.h"

_Static_assert(DFT_WITNESS_VKEY_MAX >= DFT_NOTE_VKEY_MAX, "room for a verifier key");

struct dft_witness_server {
    struct witness_server *s;
};

enum dft_err
dft_witness_init(const char *dir, const char *name, char vkey[DFT_WITNESS_VKEY_MAX],
                 struct dft_error *err)
{
    return witness_init(dir, name, vkey, err);
}

enum dft_err
dft_witness_trust(const char *dir, const char *origin, const char *vkey, struct dft_error *err)
{
    return witness_trust(dir, origin, vkey, err);
}

enum dft_err
dft_witness_logs(const char *dir, json_t **out, struct dft_error *err)
{
    return witness_logs(dir, out, err);
}

enum dft_err
dft_witness_forks(const char *dir, json_t **out, struct dft_error *err)
{
    return witness_forks(dir, out, err);
}

enum dft_err
dft_witness_server_start(struct dft_witness_server **out, const char *dir,
                         const struct dft_witness_opts *o, struct dft_error *err)
{
    struct dft_witness_server *w = calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = witness_server_start(&w->s, dir, o, err);
    if (rc != DFT_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return DFT_OK;
}

const char *
dft_witness_server_url(const struct dft_witness_server *s)
{
    return witness_server_url(s->s);
}

const char *
dft_witness_server_vkey(const struct dft_witness_server *s)
{
    return witness_server_vkey(s->s);
}

void
dft_witness_server_run(struct dft_witness_server *s)
{
    witness_server_run(s->s);
}

void
dft_witness_server_free(struct dft_witness_server *s)
{
    if (s != NULL) {
        witness_server_free(s->s);
        free(s);
    }
}
