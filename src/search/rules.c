/*
 * rules.c - correspondences between the forms one name takes in Crimean Tatar, Turkish,
 * Russian and Ukrainian sources, derived by rule from a word's skeleton or stem (never listed
 * per name):
 *
 *   root   the stem without a Russified or Turkish "son of" suffix: Kurt, Kurtov, Kurtova,
 *          Kurtovich, Kurtoğlu, Kurtogly and Kurtuly share the root kurt. A bare Crimean
 *          Tatar or Turkish surname in one source is the -ov/-ev form of another.
 *   given  the East Slavic given-name form: Ukrainian and Russian forms of one name meet
 *          (Volodymyr / Vladimir by pleophony olo = la, Olena / Elena by the initial o = e
 *          before l, Petro / Petr by the Ukrainian final -o, Dmytro / Dmitriy by the -iy /
 *          -ii / -yi endings, Fedir / Fedor and Yakiv / Yakov by the Ukrainian i of a closed
 *          final syllable, Pavlo / Pavel by the fleeting vowel, Pylyp / Filipp by the Greek f
 *          as p, Mykyta / Nikita by Greek Nik- as Myk-); h = g, y = i and x = ks are already
 *          one letter class in the skeleton.
 *   slavic the given form after the Ukrainian v of a closed first syllable read as Russian l
 *          (Vovk / Volk) and the adjective ending -yi read as -oy (Lisovyi / Lesovoy); the
 *          scorer's only, never an index term.
 *
 * Pure functions on ASCII skeletons; nothing here reads or keeps any other state.
 */
#include <string.h>

#include "search/internal.h"

#define ROOT_MIN 3 /* shorter roots meet too many other words */

static int
vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'o' || c == 'u' || c == 'I' || c == 'i';
}

static int
ends(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Suffixes in skeleton letters, longest first within each kind. */
static const struct {
    const char *suffix;
    enum search_suffix kind;
} suffixes[] = {
    {"ovIC", SEARCH_SUF_PATRONYMIC}, {"evIC", SEARCH_SUF_PATRONYMIC},
    {"ovna", SEARCH_SUF_PATRONYMIC}, {"evna", SEARCH_SUF_PATRONYMIC},
    {"oGlu", SEARCH_SUF_TURKIC},     {"oGlI", SEARCH_SUF_TURKIC},
    {"uGlu", SEARCH_SUF_TURKIC},     {"ulI", SEARCH_SUF_TURKIC},
    {"ov", SEARCH_SUF_RUSSIAN},      {"ev", SEARCH_SUF_RUSSIAN},
};

enum search_suffix
search_root(const char *stem, char root[DFT_SEARCH_TOKEN_MAX])
{
    size_t n = strlen(stem);
    enum search_suffix kind = SEARCH_SUF_NONE;
    root[0] = '\0';
    if (n >= DFT_SEARCH_TOKEN_MAX) {
        return SEARCH_SUF_NONE;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (ends(stem, n, suffixes[i].suffix) && n - strlen(suffixes[i].suffix) >= ROOT_MIN) {
            kind = suffixes[i].kind;
            n -= strlen(suffixes[i].suffix);
            break;
        }
    }
    /* a final i/y of the bare form is the glide the Russian ending swallows (Çelebi-ev) */
    if (n > ROOT_MIN && stem[n - 1] == 'I') {
        n--;
    }
    if (n < ROOT_MIN) {
        return SEARCH_SUF_NONE;
    }
    memcpy(root, stem, n);
    root[n] = '\0';
    return kind;
}

void
search_given_form(const char *skel, char out[DFT_SEARCH_TOKEN_MAX])
{
    size_t n = strlen(skel);
    if (n >= DFT_SEARCH_TOKEN_MAX) {
        n = DFT_SEARCH_TOKEN_MAX - 1;
    }
    memcpy(out, skel, n);
    out[n] = '\0';
    if (n < 4) {
        return;
    }
    /* Greek f as Ukrainian p (Pylyp / Filipp, Yosyp / Iosif), Greek Nik- as Myk- (Mykyta) */
    for (size_t i = 0; i < n; i++) {
        if (out[i] == 'f') {
            out[i] = 'p';
        }
    }
    if (out[0] == 'm' && out[1] == 'I' && out[2] == 'k') {
        out[0] = 'n';
    }
    /* Olena / Elena / Alena, Oleksandr / Aleksandr: the initial vowel before l */
    if ((out[0] == 'o' || out[0] == 'e' || out[0] == 'a') && out[1] == 'l') {
        out[0] = 'a';
    }
    /* pleophony: Volodymyr / Vladimir (olo = la after a consonant) */
    for (size_t i = 1; i + 2 < n; i++) {
        if (!vowel(out[i - 1]) && out[i] == 'o' && out[i + 1] == 'l' && out[i + 2] == 'o') {
            out[i] = 'l';
            out[i + 1] = 'a';
            memmove(out + i + 2, out + i + 3, n - i - 2); /* with the NUL */
            n--;
        }
    }
    /* endings: -iy / -ii / -yi (one I in the skeleton), the Ukrainian final -o */
    if (n >= 4 && out[n - 1] == 'I') {
        out[--n] = '\0';
    } else if (n >= 4 && out[n - 1] == 'o' && !vowel(out[n - 2])) {
        out[--n] = '\0';
    }
    /* the vowel of a closed final syllable: Fedir / Fedor, Yakiv / Yakov, Pavel / Pavl-o */
    if (n >= 4 && !vowel(out[n - 1]) &&
        (out[n - 2] == 'e' || out[n - 2] == 'o' || out[n - 2] == 'I') && !vowel(out[n - 3])) {
        out[n - 2] = out[n - 1];
        out[--n] = '\0';
    }
}

/*
 * Ukrainian against Russian beyond given names, applied before the given-name form:
 *   - the Ukrainian v of a closed first syllable where Russian keeps l (Vovk / Volk, Dovhal /
 *     Dolgal, Zhovtyi / Zholtyi): o + v before a consonant reads o + l;
 *   - the adjective ending -yi / -iy (-ий) against Russian -oy / -oi (-ой): Lisovyi /
 *     Lesovoy, Zhovtyi / Zholtoy (the stressed Russian ending; -ый is the same I already).
 */
void
search_slavic_form(const char *skel, char out[DFT_SEARCH_TOKEN_MAX])
{
    char w[DFT_SEARCH_TOKEN_MAX];
    size_t n = strlen(skel);
    if (n >= DFT_SEARCH_TOKEN_MAX) {
        n = DFT_SEARCH_TOKEN_MAX - 1;
    }
    memcpy(w, skel, n);
    w[n] = '\0';
    if (n >= 5 && w[n - 1] == 'I' && w[n - 2] == 'o' && !vowel(w[n - 3])) {
        w[n - 2] = 'I';
        w[--n] = '\0';
    }
    size_t first = strcspn(w, "aeouIi"); /* the first syllable's vowel */
    if (first > 0 && first + 2 < n && w[first] == 'o' && w[first + 1] == 'v' &&
        !vowel(w[first + 2]) && w[first + 2] != 'v') {
        w[first + 1] = 'l';
    }
    search_given_form(w, out);
}

int
search_vowel_shifts(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b)) {
        return -1;
    }
    int shifts = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i]) {
            continue;
        }
        if (!vowel(a[i]) || !vowel(b[i])) {
            return -1;
        }
        shifts++;
    }
    return shifts;
}

/* 1 when s is t with one letter deleted (s is then already in t's neighbourhood). */
static int
one_deletion(const char *s, const char *t)
{
    size_t n = strlen(s), m = strlen(t);
    if (m != n + 1) {
        return 0;
    }
    size_t i = 0;
    while (i < n && s[i] == t[i]) {
        i++;
    }
    return strcmp(s + i, t + i + 1) == 0;
}

int
search_extra_keys(const struct dft_search_token *t, char keys[2][DFT_SEARCH_TOKEN_MAX])
{
    char form[DFT_SEARCH_TOKEN_MAX];
    int n = 0;
    if (search_root(t->stem, form) != SEARCH_SUF_NONE) {
        search_key(form, keys[n]);
        n++;
    }
    search_given_form(t->skel, form);
    char k[DFT_SEARCH_TOKEN_MAX];
    search_key(form, k);
    if (strlen(k) >= ROOT_MIN && strcmp(k, t->key) != 0 && !one_deletion(k, t->key) &&
        (n == 0 || strcmp(k, keys[0]) != 0)) {
        memcpy(keys[n], k, sizeof k);
        n++;
    }
    return n;
}

void
search_ntok_set(struct search_ntok *t, unsigned flags, const char *exact, const char *folded,
                const char *skel, const char *stem)
{
    t->flags = flags;
    t->folded = folded;
    t->exact = exact[0] != '\0' ? exact : folded;
    if (skel == NULL || stem == NULL) {
        search_skeleton(folded, t->skelbuf);
        search_stem(t->skelbuf, t->stembuf);
        skel = t->skelbuf;
        stem = t->stembuf;
    }
    t->skel = skel;
    t->stem = stem;
    t->derived = 0;
}

void
search_ntok_derive(struct search_ntok *t)
{
    if (t->derived) {
        return;
    }
    t->derived = 1;
    t->cognate = search_cognate_group(t->skel);
    t->suffix = (int)search_root(t->stem, t->root);
    search_key(t->root, t->rootkey);
    search_given_form(t->skel, t->given);
    search_slavic_form(t->skel, t->slavic);
}

void
search_shifted_roots(const struct dft_search_token *t,
                     void (*fn)(void *ctx, const char *k, size_t n), void *ctx)
{
    char root[DFT_SEARCH_TOKEN_MAX], key[DFT_SEARCH_TOKEN_MAX];
    if (search_root(t->stem, root) == SEARCH_SUF_NONE) {
        memcpy(key, t->key, sizeof key); /* a bare word is its own root */
    } else {
        search_key(root, key);
    }
    size_t n = strlen(key);
    if (n < 4) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (key[i] == 'a' || key[i] == 'e') {
            char c = key[i];
            key[i] = c == 'a' ? 'e' : 'a';
            fn(ctx, key, n);
            key[i] = c;
        }
    }
}

void
search_root_neighbours(const struct dft_search_token *t,
                       void (*fn)(void *ctx, const char *k, size_t n), void *ctx)
{
    char root[DFT_SEARCH_TOKEN_MAX], key[DFT_SEARCH_TOKEN_MAX];
    enum search_suffix kind = search_root(t->stem, root); /* a bare word: itself, no glide */
    if (root[0] == '\0') {
        return;
    }
    search_key(root, key);
    size_t n = strlen(key);
    if (n < ROOT_FUZZY_MIN || n + 5 > DFT_SEARCH_TOKEN_MAX) {
        return;
    }
    if (kind == SEARCH_SUF_PATRONYMIC) {
        return; /* optional in a name: its own neighbourhood is enough */
    }
    if (kind != SEARCH_SUF_NONE) {
        search_deletions(key, fn, ctx); /* the bare form written with one letter changed */
    }
    if (kind != SEARCH_SUF_TURKIC) {
        memcpy(key + n, "oglu", 5); /* a Turkish -oğlu form with one letter changed */
        search_deletions(key, fn, ctx);
        key[n] = '\0';
    }
    if (kind == SEARCH_SUF_RUSSIAN) {
        return; /* its own deletions meet the other Russian forms */
    }
    /*
     * The Russian ending the root takes: -ev after a vowel or a glide the ending swallowed
     * (Çelebi / Челебиев), either after a hushing consonant or ts (Демирташев, Ершов), -ov
     * after any other consonant.
     */
    size_t rn = strlen(root);
    char last = root[rn - 1], next = t->stem[rn];
    int ev = vowel(last) || next == 'I', ov = !ev;
    if (last == 'C' || last == 'S' || last == 'Z' || last == 'J' || last == 'T') {
        ev = ov = 1;
    }
    if (ov) {
        memcpy(key + n, "ov", 3);
        search_deletions(key, fn, ctx); /* a Russian form with one letter changed */
    }
    if (ev) {
        memcpy(key + n, "ev", 3);
        search_deletions(key, fn, ctx);
    }
}

void
search_adjective_neighbours(const struct dft_search_token *t,
                            void (*fn)(void *ctx, const char *k, size_t n), void *ctx)
{
    char stem[DFT_SEARCH_TOKEN_MAX], key[DFT_SEARCH_TOKEN_MAX];
    size_t n = strlen(t->stem);
    if (n < 5 || n + 2 > DFT_SEARCH_TOKEN_MAX || t->stem[n - 1] != 'I') {
        return;
    }
    memcpy(stem, t->stem, n + 1);
    if (stem[n - 2] == 'o' && !vowel(stem[n - 3])) { /* -oy: the Ukrainian -yi */
        stem[n - 2] = 'I';
        stem[n - 1] = '\0';
    } else if (!vowel(stem[n - 2])) { /* -yi: the Russian -oy */
        memcpy(stem + n - 1, "oI", 3);
    } else {
        return;
    }
    search_key(stem, key);
    search_deletions(key, fn, ctx);
}
