/*
 * refs.c - more than one holder of an open vault (the unlock agent and the command it runs,
 * or the UI it serves): each holder closes once; the last close wipes the keys.
 *
 * It must never be used by two threads at once without the agent's gate (src/agent/gate.c).
 */
#include "vault/vault_internal.h"

struct dft_vault *
dft_vault_ref(struct dft_vault *v)
{
    if (v != NULL) {
        v->refs++;
    }
    return v;
}
