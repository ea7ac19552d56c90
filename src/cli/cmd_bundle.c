/*
 * cmd_bundle.c - `defter export --bundle OUT.zip --case ID|--records IDS --profile P [--dry-run]`.
 *
 * Hook for the other `export` forms (--csv, --json): dft_cmd_export dispatches on the option;
 * a command without --bundle goes to dft_cmd_export_table when it exists (see the report of
 * branch bundle). The bundle part is dft_cmd_export_bundle alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "defter/bundle.h"

/* Split "a,b,c" into a JSON array of non-empty strings. */
static json_t *
split_ids(const char *s)
{
    json_t *a = json_array();
    while (a != NULL && *s != '\0') {
        const char *e = strchr(s, ',');
        size_t n = e != NULL ? (size_t)(e - s) : strlen(s);
        if (n > 0) {
            json_array_append_new(a, json_stringn(s, n));
        }
        s += n + (e != NULL);
    }
    return a;
}

static void
print_list(const char *label, const json_t *a)
{
    size_t i;
    json_t *x;
    printf("  %s:", label);
    if (json_array_size(a) == 0) {
        printf(" (none)");
    }
    json_array_foreach(a, i, x)
    {
        printf("%s %s", i == 0 ? "" : ",", json_string_value(x));
    }
    printf("\n");
}

static void
print_plan(const json_t *plan)
{
    size_t i;
    json_t *r;
    printf("profile %s\n", json_string_value(json_object_get(plan, "profile")));
    json_array_foreach(json_object_get(plan, "records"), i, r)
    {
        printf("%s (%s%s), %lld operations\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "type")),
               json_is_true(json_object_get(r, "masked")) ? ", masked" : "",
               (long long)json_integer_value(json_object_get(r, "operations")));
        print_list("shows", json_object_get(r, "shows"));
        print_list("withholds (digest only)", json_object_get(r, "withholds"));
    }
    json_array_foreach(json_object_get(plan, "evidence"), i, r)
    {
        printf("%s evidence sha256 %s, %lld bytes, %s\n",
               json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "sha256")),
               (long long)json_integer_value(json_object_get(r, "size")),
               json_is_true(json_object_get(r, "file")) ? "file included" : "hash only");
    }
    json_array_foreach(json_object_get(plan, "dropped"), i, r)
    {
        printf("%s left out: %s\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "reason")));
    }
}

int
dft_cmd_export_bundle(struct dft_cli *cli)
{
    const char *out_path = NULL, *case_id = NULL, *records = NULL, *profile = NULL;
    int dry_run = 0;
    unsigned flags = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--bundle") == 0) {
            slot = &out_path;
        } else if (strcmp(a, "--case") == 0) {
            slot = &case_id;
        } else if (strcmp(a, "--records") == 0) {
            slot = &records;
        } else if (strcmp(a, "--profile") == 0) {
            slot = &profile;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry_run = 1;
            continue;
        } else if (strcmp(a, "--include-privileged") == 0) {
            flags |= DFT_BUNDLE_INCLUDE_PRIVILEGED;
            continue;
        } else {
            return cli_usage(cli, "unknown argument '%.80s'", a);
        }
        if (i + 1 >= cli->argc) {
            return cli_usage(cli, "%s needs a value", a);
        }
        if (*slot != NULL) {
            return cli_usage(cli, "%s given twice", a);
        }
        *slot = cli->argv[++i];
    }
    if (out_path == NULL && !dry_run) {
        return cli_usage(cli, "missing --bundle OUT.zip");
    }
    if ((case_id == NULL) == (records == NULL)) {
        return cli_usage(cli, "give either --case ID or --records IDS");
    }
    if (profile == NULL) {
        return cli_usage(cli, "missing --profile court|diplomatic|public|FILE");
    }
    json_t *ids = records != NULL ? split_ids(records) : NULL;
    if (records != NULL && json_array_size(ids) == 0) {
        json_decref(ids);
        return cli_usage(cli, "--records needs at least one id");
    }
    /* DOS times in the ZIP are local times: fix the zone so every exporter writes the same bytes */
    setenv("TZ", "UTC", 1);
    tzset();
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        json_decref(ids);
        return st;
    }
    struct dft_bundle_selection sel = {case_id, ids, profile, flags};
    struct dft_error err = {0};
    json_t *out = NULL;
    enum dft_err rc = dry_run ? dft_bundle_plan(v, &sel, &out, &err)
                              : dft_bundle_export(v, &sel, out_path, &out, &err);
    dft_vault_close(v);
    json_decref(ids);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(out);
    } else if (dry_run) {
        print_plan(out);
    } else {
        printf("wrote %s: %lld records, %lld operations, %lld envelopes, %lld evidence files "
               "(%s profile)\n",
               out_path, (long long)json_integer_value(json_object_get(out, "records")),
               (long long)json_integer_value(json_object_get(out, "operations")),
               (long long)json_integer_value(json_object_get(out, "envelopes")),
               (long long)json_integer_value(json_object_get(out, "evidence")),
               json_string_value(json_object_get(out, "profile")));
    }
    json_decref(out);
    return 0;
}

int
dft_cmd_export(struct dft_cli *cli)
{
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--bundle") == 0 || strcmp(cli->argv[i], "--dry-run") == 0) {
            return dft_cmd_export_bundle(cli);
        }
    }
    return dft_cmd_export_table(cli); /* --csv | --json */
}
