/*
 * profile.c - export profiles: the built-in court, diplomatic and public ones, and profile files
 * of the same JSON shape (docs/bundle-format.md "Profiles").
 */
#include <stdio.h>
#include <string.h>

#include "bundle/internal.h"

#define PROFILE_FILE_MAX (64 * 1024)

static const char court_json[] =
    "{\"name\":\"court\",\"evidence_files\":true,\"public_only\":false,\"mask_roles\":[],"
    "\"mask_fields\":[],\"withhold_fields\":[\"privileged\"],"
    "\"evidence_fields\":[\"sha256\",\"size\",\"name\",\"mime\",\"meta\"]}";

static const char diplomatic_json[] =
    "{\"name\":\"diplomatic\",\"evidence_files\":true,\"public_only\":false,"
    "\"mask_roles\":[\"witness\"],"
    "\"mask_fields\":[\"name\",\"name_variants\",\"birth_date\",\"birth_place\",\"address\","
    "\"phone\",\"email\",\"passport\",\"document\",\"contact\",\"photo\",\"summary\",\"text\"],"
    "\"withhold_fields\":[\"privileged\"],"
    "\"evidence_fields\":[\"sha256\",\"size\",\"name\",\"mime\"]}";

static const char public_json[] =
    "{\"name\":\"public\",\"evidence_files\":false,\"public_only\":true,\"mask_roles\":[],"
    "\"mask_fields\":[],\"withhold_fields\":[\"privileged\"],"
    "\"evidence_fields\":[\"sha256\",\"size\",\"mime\"]}";

int
bundle_list_has(const json_t *a, const char *s)
{
    size_t i;
    const json_t *x;
    json_array_foreach((json_t *)(uintptr_t)a, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
string_list(const json_t *a)
{
    size_t i;
    const json_t *x;
    if (!json_is_array(a)) {
        return 0;
    }
    json_array_foreach((json_t *)(uintptr_t)a, i, x)
    {
        if (!json_is_string(x) || json_string_length(x) == 0 || json_string_length(x) > 200) {
            return 0;
        }
    }
    return 1;
}

static enum dft_err
check(struct bundle_profile *p, const char *what, struct dft_error *err)
{
    static const char *const keys[] = {
        "name",        "evidence_files",  "public_only",     "mask_roles",
        "mask_fields", "withhold_fields", "evidence_fields", "privileged"};
    json_t *d = p->doc;
    if (!json_is_object(d)) {
        return dft_fail(err, DFT_ERR_INPUT, "profile %s: not a JSON object", what);
    }
    const char *k;
    json_t *val;
    json_object_foreach(d, k, val)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            known |= strcmp(k, keys[i]) == 0;
        }
        if (!known) {
            return dft_fail(err, DFT_ERR_INPUT, "profile %s: unknown key '%.40s'", what, k);
        }
    }
    const json_t *name = json_object_get(d, "name");
    const json_t *ef = json_object_get(d, "evidence_files");
    const json_t *po = json_object_get(d, "public_only");
    const json_t *pv = json_object_get(d, "privileged");
    p->mask_roles = json_object_get(d, "mask_roles");
    p->mask_fields = json_object_get(d, "mask_fields");
    p->withhold_fields = json_object_get(d, "withhold_fields");
    p->evidence_fields = json_object_get(d, "evidence_fields");
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "profile %s: \"name\" must be a short string", what);
    }
    if (!json_is_boolean(ef) || !json_is_boolean(po) || (pv != NULL && !json_is_boolean(pv))) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "profile %s: \"evidence_files\" and \"public_only\" must be true or false",
                        what);
    }
    if (!string_list(p->mask_roles) || !string_list(p->mask_fields) ||
        !string_list(p->withhold_fields) || !string_list(p->evidence_fields)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "profile %s: \"mask_roles\", \"mask_fields\", \"withhold_fields\" and "
                        "\"evidence_fields\" must be lists of field names",
                        what);
    }
    if (pv != NULL && json_is_true(pv)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "profile %s: privileged notes never leave the vault in a bundle", what);
    }
    p->name = json_string_value(name);
    p->evidence_files = json_is_true(ef);
    p->public_only = json_is_true(po);
    p->privileged = 0;
    return DFT_OK;
}

enum dft_err
bundle_profile_load(struct bundle_profile *p, const char *name_or_path, struct dft_error *err)
{
    memset(p, 0, sizeof *p);
    json_error_t jerr;
    const char *builtin = NULL;
    if (strcmp(name_or_path, "court") == 0) {
        builtin = court_json;
    } else if (strcmp(name_or_path, "diplomatic") == 0) {
        builtin = diplomatic_json;
    } else if (strcmp(name_or_path, "public") == 0) {
        builtin = public_json;
    }
    if (builtin != NULL) {
        p->doc = json_loads(builtin, JSON_REJECT_DUPLICATES, &jerr);
    } else if (strchr(name_or_path, '/') == NULL && strchr(name_or_path, '.') == NULL) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown profile '%.64s' (court, diplomatic, public, or a profile file)",
                        name_or_path);
    } else {
        FILE *f = fopen(name_or_path, "rb");
        if (f == NULL) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "cannot open profile '%.200s'", name_or_path);
        }
        p->doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
        long end = ftell(f);
        fclose(f);
        if (p->doc == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "profile '%.200s' is not valid JSON: %.80s",
                            name_or_path, jerr.text);
        }
        if (end > PROFILE_FILE_MAX) {
            bundle_profile_release(p);
            return dft_fail(err, DFT_ERR_TOO_LARGE, "profile '%.200s' is too large", name_or_path);
        }
    }
    if (p->doc == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = check(p, builtin != NULL ? name_or_path : "file", err);
    if (rc != DFT_OK) {
        bundle_profile_release(p);
    }
    return rc;
}

void
bundle_profile_release(struct bundle_profile *p)
{
    json_decref(p->doc);
    memset(p, 0, sizeof *p);
}
