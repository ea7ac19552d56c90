/*
 * score.c - the name-aware scorer: query words are matched to name words one to one in any
 * order; each pair is graded exact > script-folded > same skeleton > cognate given name >
 * gendered form > Russified or Turkic form of one root > weighted edit distance on the
 * skeleton. Query coverage weighs more than name coverage, so a fuzzy match of one word cannot
 * outrank a match of the whole name. Patronymics and bracketed aliases are optional; two
 * different patronymics count against a match (a father's name tells relatives apart).
 * Nothing here touches the database or logs a name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/internal.h"

#define DOC_NAMES_MAX     32   /* name variants of one record that are scored */
#define FOLDED_EDIT_SCORE 0.77 /* one edit of the folded forms: as one edit of the skeleton */
#define NEAR_SCORE        0.25 /* two edits of a long word: ranks, never matches alone */

enum level { LV_NONE, LV_FUZZY, LV_ROOT, LV_GENDER, LV_COGNATE, LV_SKELETON, LV_FOLDED, LV_EXACT };
static const char *const level_names[] = {
    "none", "fuzzy", "suffixed form", "gender form", "cognate name", "skeleton", "folded", "exact"};

/*
 * 1 when two roots differ only in the voicing of their last consonant, t / d or k / g: a
 * Turkish final consonant is written voiceless, the Russian form before its suffix often
 * voiced (Memet / Memedov, Ahmet / Ahmedoğlu).
 */
static int
final_voicing(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b) || n < ROOT_FUZZY_MIN || memcmp(a, b, n - 1) != 0) {
        return 0;
    }
    char x = a[n - 1], y = b[n - 1];
    return (x == 't' && y == 'd') || (x == 'd' && y == 't') || (x == 'k' && y == 'G') ||
           (x == 'G' && y == 'k');
}

/*
 * One root with and without a "son of" suffix (Kurt / Kurtov / Kurtoğlu), up to one vowel
 * shift of the stem in roots of four or more letters (Memet / Mametov). A patronymic and a
 * Russian surname of one root are different words (Seitovich is not Seitov).
 */
static double
root_sim(struct search_ntok *q, struct search_ntok *d)
{
    search_ntok_derive(q);
    search_ntok_derive(d);
    if (q->suffix == d->suffix || q->root[0] == '\0' || d->root[0] == '\0') {
        return 0.0;
    }
    int a = q->suffix, b = d->suffix;
    if ((a == SEARCH_SUF_RUSSIAN && b == SEARCH_SUF_PATRONYMIC) ||
        (b == SEARCH_SUF_RUSSIAN && a == SEARCH_SUF_PATRONYMIC)) {
        return 0.0;
    }
    int shifts = search_vowel_shifts(q->rootkey, d->rootkey);
    if (shifts == 0) {
        return 0.80;
    }
    if (shifts == 1 && strlen(q->rootkey) >= 4) {
        return 0.76;
    }
    /* one edit of a root of ROOT_FUZZY_MIN or more letters besides the suffix (Akhtem / Aktemov) */
    size_t lq = strlen(q->root), ld = strlen(d->root);
    if ((lq < ld ? lq : ld) < ROOT_FUZZY_MIN) {
        return 0.0;
    }
    if (final_voicing(q->root, d->root)) {
        return 0.74;
    }
    /* a changed or added consonant only in roots of six or more letters (Aktam is not Aktaş) */
    double cap = (lq < ld ? lq : ld) >= ROOT_FUZZY_MIN + 1 ? 1.0 : 0.8;
    double dist = search_distance(q->root, d->root, cap);
    return dist <= cap ? 0.78 - 0.16 * dist : 0.0;
}

/* Two East Slavic forms: the same, or one vowel apart in the first syllable (a bit less). */
static double
form_sim(const char *a, const char *b, double same)
{
    size_t n = strlen(a);
    if (n < 3) {
        return 0.0;
    }
    int shifts = search_vowel_shifts(a, b);
    if (shifts == 0) {
        return same;
    }
    /* one vowel apart, in the first syllable only: Svitlana / Svetlana, Pyotr / Petro */
    size_t first = strcspn(a, "aeouIi");
    return shifts == 1 && n >= 4 && first > 0 && a[first] != b[first] &&
                   strcmp(a + first + 1, b + first + 1) == 0
               ? same - 0.04
               : 0.0;
}

/* Ukrainian and Russian forms of one given name, by rule (rules.c) or by the table. */
static double
cognate_sim(struct search_ntok *q, struct search_ntok *d)
{
    search_ntok_derive(q);
    search_ntok_derive(d);
    if (q->cognate >= 0 && q->cognate == d->cognate) {
        return 0.90;
    }
    double s = form_sim(q->given, d->given, 0.90);
    if (s == 0.0 && (strcmp(q->slavic, q->given) != 0 || strcmp(d->slavic, d->given) != 0)) {
        s = form_sim(q->slavic, d->slavic, 0.84); /* Vovk / Volk, Lisovyi / Lesovoy */
    }
    return s;
}

/*
 * One Cyrillic letter for the letters Ukrainian and Russian spell one sound with: і ы = и,
 * є э ё = е, ї = и, ґ = г; the soft and hard signs are left out (0). Other code points stay.
 */
static unsigned
cyrillic_common(unsigned c)
{
    switch (c) {
    case 0x456: /* і */
    case 0x457: /* ї */
    case 0x44B: /* ы */
        return 0x438;
    case 0x454: /* є */
    case 0x44D: /* э */
    case 0x451: /* ё */
        return 0x435;
    case 0x491: /* ґ */
        return 0x433;
    case 0x44C: /* ь */
    case 0x44A: /* ъ */
        return 0;
    default:
        return c;
    }
}

/*
 * Code points of a UTF-8 string (at most max; -1 if longer), Cyrillic letters as
 * cyrillic_common writes them; *wide: any beyond ASCII.
 */
static int
code_points(const char *s, unsigned *out, int max, int *wide)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        if (n == max) {
            return -1;
        }
        unsigned c = *p++;
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        *wide |= more > 0;
        c &= more == 3 ? 0x07u : more == 2 ? 0x0Fu : more == 1 ? 0x1Fu : 0xFFu;
        for (; more > 0 && (*p & 0xC0) == 0x80; more--) {
            c = (c << 6) | (*p++ & 0x3F);
        }
        c = cyrillic_common(c);
        if (c != 0) {
            out[n++] = c;
        }
    }
    return n;
}

/*
 * 1 when two exact forms outside ASCII (a Cyrillic surname in both) of six or more letters are
 * one letter apart: substituted, added or dropped; the Ukrainian and Russian letters of one
 * sound count as one (Цигіпа / Цыоипа, Барієв / Барикв). Romanised, one Cyrillic letter can be two
 * or three (ш = sh, and т + ш reads as ts + h), so the folded forms may differ by more.
 */
static int
one_letter_apart(const char *a, const char *b)
{
    unsigned x[DFT_SEARCH_TOKEN_MAX], y[DFT_SEARCH_TOKEN_MAX];
    int wa = 0, wb = 0;
    int n = code_points(a, x, DFT_SEARCH_TOKEN_MAX, &wa);
    int m = code_points(b, y, DFT_SEARCH_TOKEN_MAX, &wb);
    if (!wa || !wb || n < 6 || m < 6 || n - m > 1 || m - n > 1) {
        return 0;
    }
    int i = 0;
    while (i < n && i < m && x[i] == y[i]) {
        i++;
    }
    int j = 0; /* common tail, not overlapping the common head */
    while (j < n - i && j < m - i && x[n - 1 - j] == y[m - 1 - j]) {
        j++;
    }
    return (n > m ? n : m) - i - j <= 1;
}

/*
 * 1 when a's folded form with yo after a consonant written e (the Russian ё, printed е or
 * romanised yo: Korolyov / Korolev, Aksyonov / Аксенов) has b's skeleton.
 */
static int
yo_as_e(const struct search_ntok *a, const struct search_ntok *b)
{
    const char *f = a->folded;
    if (strstr(f + (f[0] != '\0'), "yo") == NULL) {
        return 0;
    }
    char e[DFT_SEARCH_TOKEN_MAX], skel[DFT_SEARCH_TOKEN_MAX];
    size_t n = 0;
    for (size_t i = 0; f[i] != '\0' && n + 1 < sizeof e; i++) {
        if (i > 0 && f[i] == 'y' && f[i + 1] == 'o' && strchr("aeiouy", f[i - 1]) == NULL) {
            e[n++] = 'e';
            i++;
        } else {
            e[n++] = f[i];
        }
    }
    e[n] = '\0';
    search_skeleton(e, skel);
    return strcmp(skel, b->skel) == 0;
}

static double
token_sim(struct search_ntok *q, struct search_ntok *d, enum level *lv)
{
    if (strcmp(q->exact, d->exact) == 0) {
        *lv = LV_EXACT;
        return 1.0;
    }
    if (strcmp(q->folded, d->folded) == 0) {
        *lv = LV_FOLDED;
        return 0.97;
    }
    if (strcmp(q->skel, d->skel) == 0) {
        *lv = LV_SKELETON;
        return 0.93;
    }
    if (yo_as_e(q, d) || yo_as_e(d, q)) {
        *lv = LV_SKELETON;
        return 0.92;
    }
    size_t lq = strlen(q->skel), ld = strlen(d->skel);
    size_t l = lq < ld ? lq : ld;
    double best = 0.0;
    *lv = LV_NONE;
    double c = cognate_sim(q, d);
    if (c > best) {
        best = c;
        *lv = LV_COGNATE;
    }
    if (l >= 4 && strcmp(q->stem, d->stem) == 0 && 0.80 > best) {
        best = 0.80;
        *lv = LV_GENDER;
    }
    double r = root_sim(q, d);
    if (r > best) {
        best = r;
        *lv = LV_ROOT;
    }
    /* a short word (four letters) may lose a vowel or a diacritic, not change a consonant */
    double cap = l < 4 ? 0.35 : ((lq > ld ? lq : ld) < 5 ? 0.8 : (l < 8 ? 1.0 : 1.6));
    double dist = search_distance(q->skel, d->skel, cap);
    if (dist <= cap) {
        double s = 0.93 - 0.16 * dist;
        if (s > best) {
            best = s;
            *lv = LV_FUZZY;
        }
    }
    /*
     * One letter substituted in a word of six or more letters counts as one edit even when the
     * skeleton makes it two (a Cyrillic и typed for л next to a glide the skeleton drops:
     * Адиоов / Адилов): the edit distance of the folded forms, each edit at full cost.
     */
    if (best < FOLDED_EDIT_SCORE && l >= 5) {
        size_t fq = strlen(q->folded), fd = strlen(d->folded);
        if (((fq < fd ? fq : fd) >= 6 && search_distance(q->folded, d->folded, 1.0) <= 1.0) ||
            one_letter_apart(q->exact, d->exact)) {
            best = FOLDED_EDIT_SCORE;
            *lv = LV_FUZZY;
        }
    }
    /*
     * Two edits of a long word (a substituted letter besides a second romanisation): too far
     * to count as the same word, near enough to rank above a word that shares nothing.
     */
    if (best == 0.0 && l >= 5 && search_distance(q->skel, d->skel, 2.0) <= 2.0) {
        best = NEAR_SCORE;
        *lv = LV_FUZZY;
    }
    return best;
}

double
search_score_name(struct search_ntok *q, int nq, struct search_ntok *d, int nd, char *why,
                  size_t why_len)
{
    double sim[SEARCH_NAME_TOKENS][SEARCH_NAME_TOKENS];
    enum level lv[SEARCH_NAME_TOKENS][SEARCH_NAME_TOKENS];
    int qm[SEARCH_NAME_TOKENS], dm[SEARCH_NAME_TOKENS];
    if (nq <= 0 || nd <= 0) {
        return 0.0;
    }
    nq = nq > SEARCH_NAME_TOKENS ? SEARCH_NAME_TOKENS : nq;
    nd = nd > SEARCH_NAME_TOKENS ? SEARCH_NAME_TOKENS : nd;
    for (int i = 0; i < nq; i++) {
        qm[i] = -1;
        for (int j = 0; j < nd; j++) {
            sim[i][j] = token_sim(&q[i], &d[j], &lv[i][j]);
        }
    }
    for (int j = 0; j < nd; j++) {
        dm[j] = -1;
    }
    /*
     * Greedy one-to-one assignment, best pairs first. One name has one surname: a second
     * suffixed-form pair outside the patronymics is refused (Suleyman Asanov is not Asan
     * Suleymanov, Ivan Petrov not Petr Ivanov).
     */
    int root_used = 0;
    for (;;) {
        double best = 0.0;
        int bi = -1, bj = -1;
        for (int i = 0; i < nq; i++) {
            if (qm[i] >= 0) {
                continue;
            }
            for (int j = 0; j < nd; j++) {
                if (root_used && lv[i][j] == LV_ROOT &&
                    ((q[i].flags | d[j].flags) & DFT_SEARCH_TOK_PATRONYMIC) == 0) {
                    continue;
                }
                if (dm[j] < 0 && sim[i][j] > best) {
                    best = sim[i][j];
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi < 0) {
            break;
        }
        qm[bi] = bj;
        dm[bj] = bi;
        if (lv[bi][bj] == LV_ROOT &&
            ((q[bi].flags | d[bj].flags) & DFT_SEARCH_TOK_PATRONYMIC) == 0) {
            root_used = 1;
        }
    }
    const unsigned opt = DFT_SEARCH_TOK_PATRONYMIC | DFT_SEARCH_TOK_ALIAS;
    double qsum = 0.0, dsum = 0.0;
    int qn = 0, dn = 0;
    int qpat = 0, dpat = 0, patmatch = 0, allexact = nq == nd;
    for (int i = 0; i < nq; i++) {
        if ((q[i].flags & DFT_SEARCH_TOK_PATRONYMIC) != 0) {
            qpat = 1;
        }
        double s = qm[i] >= 0 ? sim[i][qm[i]] : 0.0;
        if (qm[i] < 0 || lv[i][qm[i]] != LV_EXACT) {
            allexact = 0;
        }
        if ((q[i].flags & opt) == 0) {
            qsum += s;
            qn++;
        }
        if ((q[i].flags & DFT_SEARCH_TOK_PATRONYMIC) != 0 && qm[i] >= 0 &&
            (d[qm[i]].flags & DFT_SEARCH_TOK_PATRONYMIC) != 0 && s >= 0.7) {
            patmatch = 1;
        }
    }
    if (qn == 0) {
        for (int i = 0; i < nq; i++) {
            qsum += qm[i] >= 0 ? sim[i][qm[i]] : 0.0;
        }
        qn = nq;
    }
    for (int j = 0; j < nd; j++) {
        if ((d[j].flags & DFT_SEARCH_TOK_PATRONYMIC) != 0) {
            dpat = 1;
            continue;
        }
        dsum += dm[j] >= 0 ? sim[dm[j]][j] : 0.0;
        dn++;
    }
    if (dn == 0) {
        dn = 1;
    }
    double score = 0.6 * qsum / qn + 0.4 * dsum / dn;
    if (qpat && dpat) {
        score += patmatch ? 0.03 : -0.05;
    }
    /* same word order */
    int inorder = 1, last = -1, pairs = 0;
    for (int i = 0; i < nq; i++) {
        if (qm[i] >= 0) {
            pairs++;
            if (qm[i] < last) {
                inorder = 0;
            }
            last = qm[i];
        }
    }
    if (pairs >= 2 && inorder) {
        score += 0.01;
    }
    if (allexact) {
        score += 0.02;
    }
    score /= 1.06;
    score = score < 0.0 ? 0.0 : (score > 1.0 ? 1.0 : score);
    if (why != NULL && why_len > 0) {
        size_t o = 0;
        why[0] = '\0';
        for (int i = 0; i < nq && o + 1 < why_len; i++) {
            enum level l = qm[i] >= 0 ? lv[i][qm[i]] : LV_NONE;
            int w =
                snprintf(why + o, why_len - o, "%s%s=%s%s%s", i ? ", " : "", q[i].exact,
                         level_names[l], qm[i] >= 0 ? ":" : "", qm[i] >= 0 ? d[qm[i]].exact : "");
            if (w < 0 || (size_t)w >= why_len - o) {
                break;
            }
            o += (size_t)w;
        }
    }
    return score;
}

double
search_name_similarity(const char *a, const char *b, char *why, size_t why_len)
{
    struct dft_search_token ta[SEARCH_NAME_TOKENS], tb[SEARCH_NAME_TOKENS];
    struct search_ntok qa[SEARCH_NAME_TOKENS], qb[SEARCH_NAME_TOKENS];
    int na = search_tokenize(a, strlen(a), ta, SEARCH_NAME_TOKENS);
    int nb = search_tokenize(b, strlen(b), tb, SEARCH_NAME_TOKENS);
    if (na <= 0 || nb <= 0) {
        return 0.0;
    }
    for (int i = 0; i < na; i++) {
        search_ntok_set(&qa[i], ta[i].flags, ta[i].exact, ta[i].folded, ta[i].skel, ta[i].stem);
    }
    for (int i = 0; i < nb; i++) {
        search_ntok_set(&qb[i], tb[i].flags, tb[i].exact, tb[i].folded, tb[i].skel, tb[i].stem);
    }
    return search_score_name(qa, na, qb, nb, why, why_len);
}

/* Parse a serialised name list and score the query against each name; best wins. */
double
search_score_doc(struct search_ntok *q, int nq, char *toks, char *why, size_t why_len)
{
    double best = 0.0;
    char *p = toks;
    int nname = 0;
    char tmpwhy[256];
    while (p != NULL && *p != '\0' && nname < DOC_NAMES_MAX) {
        char *nend = strchr(p, SEARCH_SEP_NAME);
        if (nend != NULL) {
            *nend = '\0';
        }
        struct search_ntok d[SEARCH_NAME_TOKENS];
        int nd = 0;
        char *t = p;
        while (t != NULL && nd < SEARCH_NAME_TOKENS) {
            char *tend = strchr(t, SEARCH_SEP_TOKEN);
            if (tend != NULL) {
                *tend = '\0';
            }
            /* flags, exact, folded[, skel, stem]: older indexes kept all five */
            char *f[5] = {t, NULL, NULL, NULL, NULL};
            int k = 1;
            for (; k < 5; k++) {
                char *s = strchr(f[k - 1], SEARCH_SEP_FIELD);
                if (s == NULL) {
                    break;
                }
                *s = '\0';
                f[k] = s + 1;
            }
            if (k == 3 || k == 5) {
                search_ntok_set(&d[nd++], (unsigned)(f[0][0] - '0'), f[1], f[2], f[3], f[4]);
            }
            t = tend != NULL ? tend + 1 : NULL;
        }
        double s = search_score_name(q, nq, d, nd, tmpwhy, sizeof tmpwhy);
        if (s > best) {
            best = s;
            size_t o = 0;
            if (nname > 0 && why_len > 9) {
                memcpy(why, "variant: ", 9);
                o = 9;
            }
            size_t tl = strlen(tmpwhy);
            if (o + tl >= why_len) {
                tl = why_len - o - 1;
            }
            memcpy(why + o, tmpwhy, tl);
            why[o + tl] = '\0';
        }
        nname++;
        p = nend != NULL ? nend + 1 : NULL;
    }
    return best;
}
