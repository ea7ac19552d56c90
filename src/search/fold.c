/*
 * fold.c - folding of names and words to layered search keys.
 *
 * A word goes through: NFKC and case folding (utf8proc); script folding to lower-case ASCII
 * (ICU, with our own rule string for Cyrillic of Russian, Ukrainian and Crimean Tatar and for
 * Crimean Tatar / Turkish Latin letters, then ICU's Any-Latin and Latin-ASCII for the rest);
 * a phonetic skeleton that merges the romanisation systems people meet (passport, ICAO,
 * BGN/PCGN, GOST, press forms); a stem that unifies gendered surname endings; and a coarse key
 * used as the index term. This file must never log or keep any text it folds.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <unicode/utf16.h>
#include <unicode/utrans.h>
#include <unicode/ustring.h>
#include <utf8proc.h>

#include "search/search.h"
#include "search/internal.h"

/*
 * Applied after NFKC and case folding. Digraphs come first (ICU takes the first rule that
 * matches at a position). Cyrillic letters map to one canonical romanisation close to the
 * English press / BGN forms, so that folded keys of Cyrillic and Latin spellings often agree;
 * the skeleton merges the remaining differences.
 */
static const char fold_rules[] =
    ":: NFC ;\n"
    /* Crimean Tatar and Turkish Latin */
    "ç > ch ; ş > sh ; ğ > gh ; ı > i ; ñ > n ; â > a ; î > i ; û > u ; ö > o ; ü > u ;\n"
    /* other Latin letters that Latin-ASCII would map less usefully for names */
    "ä > a ; ß > ss ; ł > l ; đ > d ; ø > o ;\n"
    /* Crimean Tatar Cyrillic digraphs */
    "къ > q ; гъ > gh ; нъ > n ; дж > dzh ;\n"
    /* Russian, Ukrainian, Belarusian Cyrillic */
    "а > a ; б > b ; в > v ; г > g ; ґ > g ; д > d ; е > e ; ё > e ; є > ye ; ж > zh ; з > z ;\n"
    "и > i ; і > i ; ї > yi ; й > y ; к > k ; л > l ; м > m ; н > n ; о > o ; п > p ; р > r ;\n"
    "с > s ; т > t ; у > u ; ў > u ; ф > f ; х > kh ; ц > ts ; ч > ch ; ш > sh ; щ > shch ;\n"
    "ъ > ; ы > y ; ь > ; э > e ; ю > yu ; я > ya ; ә > a ; ө > o ; ү > u ; ң > n ; һ > h ;\n"
    ":: Any-Latin ;\n"
    ":: Latin-ASCII ;\n"
    ":: NFD ;\n"
    ":: [:Nonspacing Mark:] Remove ;\n"
    ":: Lower ;\n";

static pthread_once_t trans_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trans_lock = PTHREAD_MUTEX_INITIALIZER;
static UTransliterator *trans;

static void
trans_init(void)
{
    UErrorCode st = U_ZERO_ERROR;
    UChar rules[sizeof fold_rules];
    int32_t n = 0;
    u_strFromUTF8(rules, (int32_t)(sizeof rules / sizeof rules[0]), &n, fold_rules, -1, &st);
    if (U_FAILURE(st)) {
        return;
    }
    UParseError pe;
    UChar id[] = {'d', 'e', 'f', 't', 'e', 'r', '-', 'f', 'o', 'l', 'd', 0};
    trans = utrans_openU(id, -1, UTRANS_FORWARD, rules, n, &pe, &st);
    if (U_FAILURE(st)) {
        trans = NULL;
    }
}

static int
is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* Keep ASCII letters and digits, lower-cased, into out (cap bytes incl. NUL). */
static void
ascii_keep(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = c;
        }
    }
    out[o] = '\0';
}

/*
 * The Cyrillic rules of fold_rules as a table, for the words that ICU would only run through
 * those rules: lower-case letters of the table, ASCII letters and digits, at most
 * CYR_FAST_MAX of them (so ICU's input would not be cut either). On such a word the rest of
 * the chain (Any-Latin, Latin-ASCII, NFD, mark removal, Lower) leaves the ASCII result as it
 * is, so the table gives byte for byte what ICU gives, several times faster. Everything else
 * goes to ICU, longer words too (ICU's output of words past about 30 letters is not
 * reliable, see the report of the perf branch). test_fold compares both on every letter pair.
 */
#define CYR_FAST_MAX 24

static const char *
cyr_latin(uint32_t c)
{
    static const char *const basic[32] = {
        "a", "b", "v", "g", "d", "e",  "zh", "z",  "i",  "y",    "k", "l", "m", "n", "o",  "p",
        "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",  "y", "",  "e", "yu", "ya",
    };
    if (c >= 0x0430 && c <= 0x044F) {
        return basic[c - 0x0430];
    }
    switch (c) {
    case 0x0451: /* ё */
        return "e";
    case 0x0454: /* є */
        return "ye";
    case 0x0456: /* і */
        return "i";
    case 0x0457: /* ї */
        return "yi";
    case 0x045E: /* ў */
        return "u";
    case 0x0491: /* ґ */
        return "g";
    case 0x04D9: /* ә */
        return "a";
    case 0x04E9: /* ө */
        return "o";
    case 0x04AF: /* ү */
        return "u";
    case 0x04A3: /* ң */
        return "n";
    case 0x04BB: /* һ */
        return "h";
    default:
        return NULL;
    }
}

/* Decode the 2-byte UTF-8 sequence at s (n bytes left) into *c; 0 if it is not one. */
static int
utf8_two(const unsigned char *s, size_t n, uint32_t *c)
{
    if (n < 2 || s[0] < 0xC2 || s[0] > 0xDF || (s[1] & 0xC0) != 0x80) {
        return 0;
    }
    *c = (uint32_t)(s[0] & 0x1F) << 6 | (uint32_t)(s[1] & 0x3F);
    return 1;
}

/* 1 and out filled if the word is one the table folds exactly like ICU; else 0. */
static int
fold_cyrillic_fast(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX])
{
    const unsigned char *s = (const unsigned char *)word;
    char tmp[4 * CYR_FAST_MAX + 1];
    size_t o = 0;
    size_t chars = 0;
    size_t i = 0;
    while (i < len) {
        if (++chars > CYR_FAST_MAX) {
            return 0;
        }
        unsigned char b = s[i];
        if (b < 0x80) {
            if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9'))) {
                return 0;
            }
            tmp[o++] = (char)b;
            i++;
            continue;
        }
        uint32_t c = 0;
        uint32_t next = 0;
        if (!utf8_two(s + i, len - i, &c)) {
            return 0;
        }
        const char *to = cyr_latin(c);
        if (to == NULL) {
            return 0;
        }
        i += 2;
        /* digraphs first, as in fold_rules: къ гъ нъ дж */
        if (utf8_two(s + i, len - i, &next) &&
            ((next == 0x044A && (c == 0x043A || c == 0x0433 || c == 0x043D)) ||
             (c == 0x0434 && next == 0x0436))) {
            to = c == 0x043A ? "q" : c == 0x0433 ? "gh" : c == 0x043D ? "n" : "dzh";
            i += 2;
            if (++chars > CYR_FAST_MAX) {
                return 0;
            }
        }
        size_t tl = strlen(to);
        memcpy(tmp + o, to, tl);
        o += tl;
    }
    ascii_keep(tmp, o, out, DFT_SEARCH_TOKEN_MAX);
    return 1;
}

void
search_fold_word(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX])
{
    out[0] = '\0';
    if (is_ascii(word, len)) {
        ascii_keep(word, len, out, DFT_SEARCH_TOKEN_MAX);
        return;
    }
    if (fold_cyrillic_fast(word, len, out)) {
        return;
    }
    search_fold_word_icu(word, len, out);
}

void
search_fold_word_icu(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX])
{
    out[0] = '\0';
    pthread_once(&trans_once, trans_init);
    /* Room for the longest expansion (щ -> shch) of DFT_SEARCH_TOKEN_MAX input units. */
    UChar buf[8 * DFT_SEARCH_TOKEN_MAX];
    int32_t n = 0;
    UErrorCode st = U_ZERO_ERROR;
    /*
     * Cut long words at a character boundary before converting, into a buffer that always has
     * room: an overflowing conversion leaves the buffer partly unwritten, and ICU then read
     * uninitialised memory (seen under valgrind; results differed from call to call).
     */
    if (len > DFT_SEARCH_TOKEN_MAX * 2) {
        len = DFT_SEARCH_TOKEN_MAX * 2;
        while (len > 0 && ((unsigned char)word[len] & 0xc0) == 0x80) {
            len--;
        }
    }
    u_strFromUTF8Lenient(buf, (int32_t)(sizeof buf / sizeof buf[0]), &n, word, (int32_t)len, &st);
    if (U_FAILURE(st)) {
        return;
    }
    st = U_ZERO_ERROR;
    if (n > DFT_SEARCH_TOKEN_MAX) {
        n = DFT_SEARCH_TOKEN_MAX;
        if (U16_IS_LEAD(buf[n - 1])) {
            n--; /* never leave half a surrogate pair */
        }
    }
    if (trans != NULL) {
        int32_t limit = n;
        pthread_mutex_lock(&trans_lock);
        utrans_transUChars(trans, buf, &n, (int32_t)(sizeof buf / sizeof buf[0]), 0, &limit, &st);
        pthread_mutex_unlock(&trans_lock);
        if (U_FAILURE(st)) {
            return;
        }
        n = limit;
    }
    char tmp[8 * DFT_SEARCH_TOKEN_MAX];
    int32_t m = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(tmp, (int32_t)sizeof tmp - 1, &m, buf, n, &st);
    if (U_FAILURE(st)) {
        return;
    }
    ascii_keep(tmp, (size_t)m, out, DFT_SEARCH_TOKEN_MAX);
}

/* ---- skeleton ---- */

static int
is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'o' || c == 'u';
}

static int
starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/*
 * Classes: S = sh/shch/sch/ş, Z = zh, C = ch/ç, J = dzh/dj/j (before a vowel), T = ts/tz/cz,
 * G = g/h/kh/gh/ğ (Ukrainian г is h, Russian г is g, х is kh or h), I = i/y/ı and glide j;
 * c alone stays c (Turkish c = dzh, GOST c = ts). Glides before a vowel drop (ya/ia/a,
 * ye/ie/e, yu/iu/u), runs of one consonant collapse, final -ey becomes -i (Sergey/Serhii).
 */
void
search_skeleton(const char *folded, char skel[DFT_SEARCH_TOKEN_MAX])
{
    char a[2 * DFT_SEARCH_TOKEN_MAX];
    size_t n = 0;
    const size_t cap = sizeof a - 2;
    const char *p = folded;
    while (*p != '\0' && n < cap) {
        char c = *p;
        if (starts(p, "shch")) {
            a[n++] = 'S';
            p += 4;
        } else if (starts(p, "dzh") || starts(p, "sch")) {
            a[n++] = p[0] == 'd' ? 'J' : 'S';
            p += 3;
        } else if (starts(p, "zh") || starts(p, "kh") || starts(p, "ch") || starts(p, "sh") ||
                   starts(p, "ts") || starts(p, "tz") || starts(p, "cz") || starts(p, "gh") ||
                   starts(p, "ph") || starts(p, "dj")) {
            static const char from[] = "zkcsttcgpd";
            static const char to[] = "ZGCSTTTGfJ";
            const char *f = strchr(from, c);
            /* "ts"/"tz" share t; "cz" vs "ch" share c: decide on the second letter */
            char out = to[f - from];
            if (c == 't') {
                out = 'T';
            } else if (c == 'c') {
                out = p[1] == 'h' ? 'C' : 'T';
            }
            a[n++] = out;
            p += 2;
        } else if (c == 'j') {
            int prev_vowel = n > 0 && (is_vowel(a[n - 1]) || a[n - 1] == 'I');
            int next_vowel = is_vowel(p[1]) || p[1] == 'i' || p[1] == 'y';
            a[n++] = prev_vowel && !next_vowel ? 'I' : 'J';
            p++;
        } else if (c == 'x') {
            a[n++] = 'k';
            a[n++] = 's';
            p++;
        } else {
            switch (c) {
            case 'h':
            case 'g':
                c = 'G';
                break;
            case 'q':
                c = 'k';
                break;
            case 'w':
                c = 'v';
                break;
            case 'y':
            case 'i':
                c = 'I';
                break;
            default:
                break;
            }
            a[n++] = c;
            p++;
        }
    }
    a[n] = '\0';
    /* collapse runs of I, then drop glides before vowels, then collapse consonant runs */
    char b[2 * DFT_SEARCH_TOKEN_MAX];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == 'I' && m > 0 && b[m - 1] == 'I') {
            continue;
        }
        b[m++] = a[i];
    }
    n = 0;
    for (size_t i = 0; i < m; i++) {
        if (b[i] == 'I' && i + 1 < m && is_vowel(b[i + 1])) {
            /* aya/aia -> a: the glide and the repeated vowel go */
            if (n > 0 && a[n - 1] == b[i + 1]) {
                i++;
            }
            continue;
        }
        a[n++] = b[i];
    }
    m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && b[m - 1] == a[i] && !is_vowel(a[i])) {
            continue;
        }
        b[m++] = a[i];
    }
    if (m >= 4 && b[m - 2] == 'e' && b[m - 1] == 'I') {
        b[m - 2] = 'I';
        m--;
    }
    if (m > DFT_SEARCH_TOKEN_MAX - 1) {
        m = DFT_SEARCH_TOKEN_MAX - 1;
    }
    memcpy(skel, b, m);
    skel[m] = '\0';
}

static int
ends(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/*
 * Gendered surname forms meet: -ova/-ov, -eva/-ev, -ina/-in (Russian, Ukrainian), and
 * -ska/-skaya/-sky/-skiy/-skyi (and -cka/-tska) all become -skI. Only words of 5 or more
 * letters are touched, so short first names stay as they are.
 */
void
search_stem(const char *skel, char stem[DFT_SEARCH_TOKEN_MAX])
{
    size_t n = strlen(skel);
    if (n > DFT_SEARCH_TOKEN_MAX - 1) {
        n = DFT_SEARCH_TOKEN_MAX - 1;
    }
    memcpy(stem, skel, n);
    stem[n] = '\0';
    if (n < 5) {
        return;
    }
    if (ends(stem, n, "ova") || ends(stem, n, "eva") || ends(stem, n, "Ina")) {
        stem[n - 1] = '\0';
    } else if (ends(stem, n, "ska") || ends(stem, n, "Tka") || ends(stem, n, "cka")) {
        stem[n - 1] = 'I';
    }
}

void
search_key(const char *stem, char key[DFT_SEARCH_TOKEN_MAX])
{
    size_t i = 0;
    for (; stem[i] != '\0' && i < DFT_SEARCH_TOKEN_MAX - 1; i++) {
        char c = stem[i];
        switch (c) {
        case 'S':
            c = 's';
            break;
        case 'Z':
            c = 'z';
            break;
        case 'C':
        case 'J':
        case 'T':
            c = 'c';
            break;
        case 'G':
            c = 'g';
            break;
        case 'I':
            c = 'i';
            break;
        default:
            break;
        }
        key[i] = c;
    }
    key[i] = '\0';
}

/* ---- weighted edit distance ---- */

static double
indel_cost(char c)
{
    if (c == 'I') {
        return 0.5;
    }
    if (is_vowel(c)) {
        return 0.8;
    }
    return 1.0;
}

/* Crimean Tatar drops the initial h of Turkish and Arabic names (Asan / Hasan). */
static double
initial_indel_cost(char c)
{
    return c == 'G' ? 0.5 : indel_cost(c);
}

static double
sub_cost(char x, char y)
{
    if (x == y) {
        return 0.0;
    }
    if (x > y) {
        char t = x;
        x = y;
        y = t;
    }
    /* pairs ordered by ASCII: upper case before lower case */
    static const struct {
        char a, b;
        double cost;
    } pairs[] = {
        {'S', 's', 0.3}, {'Z', 'z', 0.3}, {'C', 'c', 0.3}, {'J', 'c', 0.2},
        {'T', 'c', 0.3}, {'C', 'T', 0.7}, {'J', 'Z', 0.5}, {'G', 'k', 0.5},
        {'I', 'e', 0.6}, {'C', 'J', 0.7}, {'S', 'Z', 0.8}, {'s', 'z', 0.8},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (pairs[i].a == x && pairs[i].b == y) {
            return pairs[i].cost;
        }
    }
    if ((is_vowel(x) || x == 'I') && (is_vowel(y) || y == 'I')) {
        return 0.7;
    }
    return 1.0;
}

double
search_distance(const char *a, const char *b, double cap)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= DFT_SEARCH_TOKEN_MAX || m >= DFT_SEARCH_TOKEN_MAX) {
        return strcmp(a, b) == 0 ? 0.0 : cap + 1.0;
    }
    double d0[DFT_SEARCH_TOKEN_MAX + 1], d1[DFT_SEARCH_TOKEN_MAX + 1], d2[DFT_SEARCH_TOKEN_MAX + 1];
    double *pp = d0, *prev = d1, *cur = d2;
    prev[0] = 0.0;
    for (size_t j = 1; j <= m; j++) {
        prev[j] = prev[j - 1] + (j == 1 ? initial_indel_cost(b[0]) : indel_cost(b[j - 1]));
    }
    for (size_t i = 1; i <= n; i++) {
        cur[0] = prev[0] + (i == 1 ? initial_indel_cost(a[0]) : indel_cost(a[i - 1]));
        double rowmin = cur[0];
        for (size_t j = 1; j <= m; j++) {
            double v = prev[j - 1] + sub_cost(a[i - 1], b[j - 1]);
            double del = prev[j] + indel_cost(a[i - 1]);
            double ins = cur[j - 1] + indel_cost(b[j - 1]);
            if (del < v) {
                v = del;
            }
            if (ins < v) {
                v = ins;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1.0 < v) {
                v = pp[j - 2] + 1.0;
            }
            cur[j] = v;
            if (v < rowmin) {
                rowmin = v;
            }
        }
        if (rowmin > cap) {
            return cap + 1.0;
        }
        double *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

/* ---- tokenizing ---- */

static int
is_apostrophe(utf8proc_int32_t c)
{
    return c == '\'' || c == '`' || c == 0x2019 || c == 0x02BC || c == 0x00B4 || c == 0x02BB ||
           c == 0x2018 || c == 0x02B9 || c == 0x2032 || c == 0x02BE || c == 0x02BF;
}

static int
is_word_char(utf8proc_int32_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    switch (cat) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
        return 1;
    default:
        return 0;
    }
}

/* "son of" / "daughter of" written as a word after the father's name: oğlu, ogly, uly, qızı */
static int
is_patronymic_word(const char *skel)
{
    return strcmp(skel, "oGlu") == 0 || strcmp(skel, "oGlI") == 0 || strcmp(skel, "ulI") == 0 ||
           strcmp(skel, "kIzI") == 0;
}

static int
is_patronymic(const char *skel)
{
    size_t n = strlen(skel);
    if (is_patronymic_word(skel)) {
        return 1;
    }
    if (n < 6) {
        return 0;
    }
    return ends(skel, n, "vIC") || ends(skel, n, "vna") || ends(skel, n, "Ivna") ||
           ends(skel, n, "IcIC") || ends(skel, n, "IlIC");
}

static void
finish_token(struct dft_search_token *t, const char *word, size_t wlen, unsigned flags)
{
    size_t n = wlen < DFT_SEARCH_TOKEN_MAX - 1 ? wlen : DFT_SEARCH_TOKEN_MAX - 1;
    /* never cut inside a UTF-8 sequence */
    while (n > 0 && n < wlen && ((unsigned char)word[n] & 0xC0) == 0x80) {
        n--;
    }
    memcpy(t->exact, word, n);
    t->exact[n] = '\0';
    search_fold_word(word, wlen, t->folded);
    search_skeleton(t->folded, t->skel);
    search_stem(t->skel, t->stem);
    search_key(t->stem, t->key);
    t->flags = flags;
}

/* Characters of norm (nn bytes) into tokens. ascii: norm is ASCII, no utf8proc lookups. */
static int
tokenize_norm(const unsigned char *norm, ptrdiff_t nn, int ascii, struct dft_search_token *toks,
              int max)
{
    int count = 0;
    char word[4 * DFT_SEARCH_TOKEN_MAX];
    size_t wlen = 0;
    unsigned depth = 0;
    unsigned wflags = 0;
    ptrdiff_t i = 0;
    while (i <= nn && count < max) {
        utf8proc_int32_t c = -1;
        ptrdiff_t step = 1;
        if (i < nn) {
            if (ascii) {
                c = norm[i];
            } else {
                step = utf8proc_iterate(norm + i, nn - i, &c);
                if (step <= 0) {
                    break;
                }
            }
        }
        if (c >= 0 && is_apostrophe(c)) {
            i += step;
            continue;
        }
        int wc =
            ascii ? (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') : c >= 0 && is_word_char(c);
        if (wc) {
            if (wlen == 0) {
                wflags = depth > 0 ? DFT_SEARCH_TOK_ALIAS : 0;
            }
            if (wlen + (size_t)step < sizeof word) {
                memcpy(word + wlen, norm + i, (size_t)step);
                wlen += (size_t)step;
            }
        } else {
            if (wlen > 0) {
                finish_token(&toks[count], word, wlen, wflags);
                if (toks[count].folded[0] != '\0') {
                    count++;
                }
                wlen = 0;
            }
            if (c == '(' || c == '[') {
                depth++;
            } else if ((c == ')' || c == ']') && depth > 0) {
                depth--;
            }
        }
        i += step;
    }
    if (count >= 3) {
        for (int k = 0; k < count; k++) {
            if (is_patronymic(toks[k].skel)) {
                toks[k].flags |= DFT_SEARCH_TOK_PATRONYMIC;
                /* "Mustafa oglu": the father's name goes with it */
                if (is_patronymic_word(toks[k].skel) && k > 0) {
                    toks[k - 1].flags |= DFT_SEARCH_TOK_PATRONYMIC;
                }
            }
        }
    }
    return count;
}

int
search_tokenize_unicode(const char *text, size_t len, struct dft_search_token *toks, int max)
{
    if (!dft_utf8_valid(text, len)) {
        return -1;
    }
    if (len == 0 || max <= 0) {
        return 0;
    }
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t nn = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &norm,
                                       UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                           UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (nn < 0 || norm == NULL) {
        free(norm);
        return -1;
    }
    int count = tokenize_norm(norm, (ptrdiff_t)nn, 0, toks, max);
    free(norm);
    return count;
}

/* ASCII text of at most this many bytes takes the fast path (a stack copy, lower-cased). */
#define TOKENIZE_ASCII_MAX 1024

int
search_tokenize(const char *text, size_t len, struct dft_search_token *toks, int max)
{
    /*
     * On ASCII, NFKC with case folding only lower-cases A-Z (no ASCII character decomposes,
     * composes or is default-ignorable), and the word characters are the letters and digits:
     * the same result as search_tokenize_unicode without utf8proc (test_fold compares them).
     */
    if (len > 0 && len <= TOKENIZE_ASCII_MAX && max > 0) {
        unsigned char norm[TOKENIZE_ASCII_MAX];
        size_t i = 0;
        for (; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c == 0 || c >= 0x80) {
                break; /* NUL (refused) or not ASCII: the general path */
            }
            norm[i] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
        }
        if (i == len) {
            return tokenize_norm(norm, (ptrdiff_t)len, 1, toks, max);
        }
    }
    return search_tokenize_unicode(text, len, toks, max);
}
