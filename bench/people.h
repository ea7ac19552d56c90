/*
 * people.h - the synthetic persons the vault benches add (vault_bench, verify_bench): the same
 * names and summary as bench/cli_add.sh, so figures from the three compare.
 *
 * Header-only (each bench is one program); never used by the library or the tests.
 */
#ifndef DEFTER_BENCH_PEOPLE_H
#define DEFTER_BENCH_PEOPLE_H

#include <stdio.h>

#include <jansson.h>

/* A JSON array of n person items, numbered from `from` (each name is unique). */
static inline json_t *
bench_people(size_t from, size_t n)
{
    static const char *const first[] = {"Ahtem", "Ilmi",   "Refat",     "Nariman", "Server",
                                        "Emil",  "Mykola", "Oleksandr", "Lilia",   "Zarema"};
    static const char *const last[] = {"Chiygoz",    "Umerov",     "Chubarov", "Dzhelyal",
                                       "Mustafayev", "Kurbedinov", "Polozov",  "Sentsov",
                                       "Budzhurova", "Asanova"};
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++) {
        size_t i = from + k;
        char name[96], alt[96];
        snprintf(name, sizeof name, "%s %s %zu", first[i % 10], last[(i / 10) % 10], i);
        snprintf(alt, sizeof alt, "Вариант %zu", i);
        json_array_append_new(
            arr, json_pack("{ss ss s[s] ss}", "type", "person", "name", name, "name_variants", alt,
                           "summary", "Detained after a search of his home in Bakhchysaray"));
    }
    return arr;
}

#endif
