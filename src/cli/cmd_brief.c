/*
 * cmd_brief.c - `defter brief --case ID|--cases IDS --lang L --profile P --format html|pdf OUT`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "defter/bundle.h"

int
dft_cmd_brief(struct dft_cli *cli)
{
    const char *case_id = NULL, *cases = NULL, *lang = NULL, *profile = NULL, *format = NULL;
    const char *out_path = NULL;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--case") == 0) {
            slot = &case_id;
        } else if (strcmp(a, "--cases") == 0) {
            slot = &cases;
        } else if (strcmp(a, "--lang") == 0) {
            slot = &lang;
        } else if (strcmp(a, "--profile") == 0) {
            slot = &profile;
        } else if (strcmp(a, "--format") == 0) {
            slot = &format;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage(cli, "unknown option '%.80s'", a);
        } else if (out_path == NULL) {
            out_path = a;
            continue;
        } else {
            return cli_usage(cli, "more than one OUT");
        }
        if (i + 1 >= cli->argc) {
            return cli_usage(cli, "%s needs a value", a);
        }
        if (*slot != NULL) {
            return cli_usage(cli, "%s given twice", a);
        }
        *slot = cli->argv[++i];
    }
    if ((case_id == NULL) == (cases == NULL)) {
        return cli_usage(cli, "give either --case ID or --cases ID,ID,...");
    }
    if (lang == NULL || profile == NULL || format == NULL || out_path == NULL) {
        return cli_usage(cli, "missing %s",
                         lang == NULL      ? "--lang"
                         : profile == NULL ? "--profile"
                         : format == NULL  ? "--format"
                                           : "OUT");
    }
    if (strcmp(format, "html") != 0 && strcmp(format, "pdf") != 0) {
        return cli_usage(cli, "--format is html or pdf");
    }
    const char *list[256];
    size_t n = 0;
    char *copy = strdup(cases != NULL ? cases : case_id);
    if (copy == NULL) {
        return cli_fail(1, "out of memory");
    }
    for (char *p = copy; *p != '\0' && n < 256;) {
        char *comma = strchr(p, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (*p != '\0') {
            list[n++] = p;
        }
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    if (n == 0) {
        free(copy);
        return cli_usage(cli, "no case id given");
    }
    setenv("TZ", "UTC", 1);
    tzset();
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        free(copy);
        return st;
    }
    struct dft_brief_options o = {list, n, lang, profile, strcmp(format, "pdf") == 0};
    struct dft_error err = {0};
    json_t *out = NULL;
    enum dft_err rc = dft_brief_write(v, &o, out_path, &out, &err);
    dft_vault_close(v);
    free(copy);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(out);
    } else {
        printf("wrote %s (%s, %s, %lld cases)\n", out_path, format, lang,
               (long long)json_integer_value(json_object_get(out, "cases")));
    }
    json_decref(out);
    return 0;
}
