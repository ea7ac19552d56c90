/*
 * internal.h - shared by the files of src/bundle.
 */
#ifndef DEFTER_BUNDLE_INTERNAL_H
#define DEFTER_BUNDLE_INTERNAL_H

#include <jansson.h>

#include "defter/bundle.h"

/* A profile (docs/bundle-format.md "Profiles"): which fields of which records a bundle shows. */
struct bundle_profile {
    json_t *doc; /* the profile object; every member below is borrowed from it */
    const char *name;
    int evidence_files;            /* evidence content travels in the bundle */
    int public_only;               /* a record shows only the fields its "public" field lists */
    int privileged;                /* privileged notes stay in (never for the built-in ones) */
    const json_t *mask_roles;      /* persons linked with one of these roles are masked */
    const json_t *mask_fields;     /* ... and these fields of theirs are withheld */
    const json_t *withhold_fields; /* fields withheld from every record */
    const json_t *evidence_fields; /* fields of an "evidence" operation that are shown */
};

/* A built-in name or a path to a profile file. DFT_ERR_INPUT names what is wrong. */
enum dft_err bundle_profile_load(struct bundle_profile *p, const char *name_or_path,
                                 struct dft_error *err) DFT_MUST_CHECK;
void bundle_profile_release(struct bundle_profile *p);
/* 1 when s is one of the strings of array a. */
int bundle_list_has(const json_t *a, const char *s);

#endif
