/*
 * api_coercion.h - the Safety page's API (POST /api/safety/...): duress passphrase, wipe after
 * N wrong passphrases, and m-of-n recovery, through the library functions the CLI calls
 * (defter/coercion.h, defter/safety.h).
 */
#ifndef DEFTER_SERVER_API_COERCION_H
#define DEFTER_SERVER_API_COERCION_H

#include <stddef.h>

#include "server/ui_internal.h"

/*
 * POST /api/safety/ACTION, reached only through the checks of every state-changing request
 * (session, Sec-Fetch-Site, Origin, X-CSRF-Token). The body is a form
 * (application/x-www-form-urlencoded), decoded in place in the request's secure buffer, so no
 * passphrase or share is copied into the heap; it is wiped before the answer. Every action
 * needs the current passphrase in the field "pass", checked before anything changes:
 *   duress      action=decoy|shred|shred+decoy, duress=PASS[, decoy=PASS]  (duress set)
 *   wipe-after  n=10..100|off                                              (duress wipe-after)
 *   split       m=M, n=N -> {"threshold","count","shares":[{"index","words","svg"}]}
 *   rotate      (voids every share given out so far)                       (recovery rotate)
 *   combine     share=WORDS (one field per share), new=PASS                (recovery combine)
 * combine also works locked (the shares are the credential, as for the CLI); unlocked, it
 * needs "pass" too, and leaves the page locked: the vault opens with the new passphrase.
 */
enum MHD_Result ui_api_safety(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                              const char *action);

/* One field of a form body: name and value point into the decoded body (NUL-terminated). */
struct ui_form_field {
    const char *name;
    const char *value;
    size_t len; /* bytes of value */
};

#define UI_FORM_FIELDS_MAX 24

/*
 * Decode an application/x-www-form-urlencoded body (body[len] must be NUL) in place: fields
 * split at '&', name and value at the first '=', '+' is a space, %XX a byte. Returns the number
 * of fields (at most max), or -1 when malformed: an empty name, a bad or NUL escape, a NUL
 * byte, more than max fields, a name that is not short printable ASCII. Fuzzed by
 * fuzz/ui_form.c.
 */
int ui_form_parse(char *body, size_t len, struct ui_form_field *f, int max);

#endif
