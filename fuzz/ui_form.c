/*
 * ui_form.c - libFuzzer harness for the form bodies of the Safety page's API (ui_form_parse,
 * src/server/api_coercion.c), which carry passphrases and recovery shares. Any input must be
 * refused (-1) or split into fields whose names are short printable ASCII and whose values lie
 * inside the body and end with a NUL, without reading or writing past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_coercion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ui_form_field f[UI_FORM_FIELDS_MAX];
    if (size > 65536) {
        return 0;
    }
    char *b = malloc(size + 1);
    if (b == NULL) {
        return 0;
    }
    memcpy(b, data, size);
    b[size] = '\0';
    int n = ui_form_parse(b, size, f, UI_FORM_FIELDS_MAX);
    if (n < -1 || n > UI_FORM_FIELDS_MAX) {
        abort();
    }
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(f[i].name);
        if (nl == 0 || nl > 16 || f[i].name < b || f[i].name + nl > b + size) {
            abort();
        }
        for (size_t j = 0; j < nl; j++) {
            if ((unsigned char)f[i].name[j] < 0x21 || (unsigned char)f[i].name[j] > 0x7e) {
                abort();
            }
        }
        if (f[i].value < b || f[i].value + f[i].len > b + size || f[i].value[f[i].len] != '\0') {
            abort();
        }
    }
    free(b);
    return 0;
}
