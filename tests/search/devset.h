/*
 * devset.h - the search development set (data/search-dev), a generator of plausible filler
 * names (Slavic, Crimean Tatar, Turkish; both scripts; gendered forms) and the scorer's
 * metrics, shared by tests/search/test_rank.c and bench/search_dev.c. Test support only: it
 * must never be linked into libdefter.
 */
#ifndef DEFTER_TESTS_SEARCH_DEVSET_H
#define DEFTER_TESTS_SEARCH_DEVSET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

#define DEV_MAX 1024

struct dev_row {
    char text[160];
    char owner[32]; /* cluster id, or "D.." for distractors */
    char kind[24];  /* queries only */
};

struct devset {
    struct dev_row names[DEV_MAX];
    int nnames;
    struct dev_row queries[DEV_MAX];
    int nqueries;
};

static inline int
dev_load_file(const char *path, struct dev_row *rows, int max, int kind)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[4096];
    int n = 0, first = 1;
    while (fgets(line, sizeof line, f) != NULL && n < max) {
        if (first) {
            first = 0;
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char *cols[5] = {line, NULL, NULL, NULL, NULL};
        for (int i = 1; i < 5; i++) {
            char *t = cols[i - 1] ? strchr(cols[i - 1], '\t') : NULL;
            if (t != NULL) {
                *t = '\0';
                cols[i] = t + 1;
            }
        }
        struct dev_row *r = &rows[n];
        memset(r, 0, sizeof *r);
        if (kind == 0) { /* names: cluster variant ... */
            snprintf(r->text, sizeof r->text, "%.159s", cols[1] ? cols[1] : "");
            snprintf(r->owner, sizeof r->owner, "%.31s", cols[0]);
        } else if (kind == 1) { /* distractors: variant note */
            snprintf(r->text, sizeof r->text, "%.159s", cols[0]);
            snprintf(r->owner, sizeof r->owner, "DISTRACTOR:%.3s", cols[1] ? cols[1] : "");
        } else { /* queries: query cluster kind */
            snprintf(r->text, sizeof r->text, "%.159s", cols[0]);
            snprintf(r->owner, sizeof r->owner, "%.31s", cols[1] ? cols[1] : "");
            snprintf(r->kind, sizeof r->kind, "%.23s", cols[2] ? cols[2] : "");
        }
        n++;
    }
    fclose(f);
    return n;
}

static inline int
dev_load(struct devset *ds, const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/names.tsv", dir);
    int a = dev_load_file(p, ds->names, DEV_MAX, 0);
    snprintf(p, sizeof p, "%s/distractors.tsv", dir);
    int b = a < 0 ? -1 : dev_load_file(p, ds->names + a, DEV_MAX - a, 1);
    snprintf(p, sizeof p, "%s/queries.tsv", dir);
    int c = dev_load_file(p, ds->queries, DEV_MAX, 2);
    if (a < 0 || b < 0 || c < 0) {
        return -1;
    }
    ds->nnames = a + b;
    ds->nqueries = c;
    return 0;
}

/* ---- filler names ---- */

/* Slavic: Russian form | Ukrainian form */
static const char *const sl_male[] = {
    "Александр|Олександр", "Алексей|Олексій",      "Андрей|Андрій",
    "Антон|Антон",         "Артем|Артем",          "Богдан|Богдан",
    "Борис|Борис",         "Вадим|Вадим",          "Валентин|Валентин",
    "Валерий|Валерій",     "Василий|Василь",       "Виктор|Віктор",
    "Виталий|Віталій",     "Владимир|Володимир",   "Вячеслав|В'ячеслав",
    "Георгий|Георгій",     "Григорий|Григорій",    "Денис|Денис",
    "Дмитрий|Дмитро",      "Евгений|Євген",        "Егор|Єгор",
    "Иван|Іван",           "Игорь|Ігор",           "Илья|Ілля",
    "Кирилл|Кирило",       "Константин|Костянтин", "Леонид|Леонід",
    "Максим|Максим",       "Михаил|Михайло",       "Николай|Микола",
    "Олег|Олег",           "Павел|Павло",          "Петр|Петро",
    "Роман|Роман",         "Руслан|Руслан",        "Сергей|Сергій",
    "Станислав|Станіслав", "Степан|Степан",        "Тарас|Тарас",
    "Юрий|Юрій",           "Ярослав|Ярослав",      "Федор|Федір",
    "Глеб|Гліб",           "Семен|Семен"};
static const char *const sl_female[] = {
    "Анна|Ганна",        "Алла|Алла",     "Валентина|Валентина", "Вера|Віра",
    "Виктория|Вікторія", "Галина|Галина", "Дарья|Дарина",        "Екатерина|Катерина",
    "Елена|Олена",       "Ирина|Ірина",   "Юлия|Юлія",           "Людмила|Людмила",
    "Марина|Марина",     "Мария|Марія",   "Надежда|Надія",       "Наталья|Наталія",
    "Оксана|Оксана",     "Ольга|Ольга",   "Светлана|Світлана",   "Софья|Софія",
    "Татьяна|Тетяна",    "Лариса|Лариса", "Любовь|Любов",        "Анастасия|Анастасія",
    "Зоя|Зоя",           "Ксения|Ксенія", "Полина|Поліна",       "Евгения|Євгенія",
    "Раиса|Раїса",       "Тамара|Тамара"};
static const char *const sl_sur[] = {
    "Иванов",     "Петров",     "Сидоров",   "Кузнецов",  "Смирнов",     "Попов",     "Соколов",
    "Лебедев",    "Козлов",     "Новиков",   "Морозов",   "Волков",      "Павлов",    "Семенов",
    "Голубев",    "Виноградов", "Богданов",  "Воробьев",  "Федоров",     "Михайлов",  "Беляев",
    "Тарасов",    "Белов",      "Комаров",   "Орлов",     "Киселев",     "Макаров",   "Андреев",
    "Ковалев",    "Ильин",      "Гусев",     "Титов",     "Кузьмин",     "Кудрявцев", "Баранов",
    "Куликов",    "Степанов",   "Яковлев",   "Сорокин",   "Сергеев",     "Романов",   "Захаров",
    "Борисов",    "Королев",    "Герасимов", "Пономарев", "Григорьев",   "Лазарев",   "Медведев",
    "Ершов",      "Никитин",    "Соболев",   "Рябов",     "Поляков",     "Цветков",   "Данилов",
    "Жуков",      "Фролов",     "Журавлев",  "Николаев",  "Крылов",      "Максимов",  "Сидоренко",
    "Коваленко",  "Бондаренко", "Ткаченко",  "Кравченко", "Шевченко",    "Бойко",     "Ковальчук",
    "Мельник",    "Шевчук",     "Поліщук",   "Лисенко",   "Савченко",    "Руденко",   "Марченко",
    "Мороз",      "Олійник",    "Ткачук",    "Кравчук",   "Клименко",    "Павленко",  "Гончаренко",
    "Литвиненко", "Кириленко",  "Левченко",  "Зінченко",  "Карпенко",    "Яценко",    "Мартинюк",
    "Гнатюк",     "Коваль",     "Кузьменко", "Вакуленко", "Ковальський", "Новицький", "Вишневський",
    "Левицький",  "Заремба",    "Гребенюк",  "Дорошенко", "Захарченко",  "Приходько", "Пархоменко",
    "Чорновол",   "Симоненко",  "Білецький", "Жданов",    "Щербаков",    "Чернов",    "Юдин",
    "Ефимов",     "Горбунов",   "Зайцев",    "Ганущак",   "Єрмоленко",   "Гаврилюк",  "Гриценко",
    "Дьяченко",   "Щукин",      "Муравьев"};
/* Crimean Tatar (1997 Latin) and Turkish */
static const char *const tt_male[] = {
    "Ahmet",   "Ablâziz", "Abduraman", "Ayder",     "Alim",   "Asan",     "Bekir",    "Bilâl",
    "Dilâver", "Edem",    "Emil",      "Enver",     "Ernes",  "Eskender", "Ervin",    "Fevzi",
    "Halil",   "İsmail",  "İbraim",    "Lenur",     "Memet",  "Mustafa",  "Nariman",  "Nuri",
    "Osman",   "Refat",   "Remzi",     "Reşat",     "Rustem", "Seyran",   "Seytumer", "Server",
    "Sinaver", "Şevket",  "Talât",     "Timur",     "Tofik",  "Useyin",   "Zair",     "Zekeriya",
    "Eldar",   "Rıza",    "Ziyaden",   "Yusuf",     "Cemil",  "Ömer",     "Ali",      "Arsen",
    "Mehmet",  "Hüseyin", "Hasan",     "İbrahim",   "Murat",  "Emre",     "Burak",    "Serkan",
    "Kemal",   "Selim",   "Abdulla",   "Seyitveli", "Ruslan", "Nuriddin", "Izzet",    "Ilmi"};
static const char *const tt_female[] = {
    "Ayşe",  "Aliye",  "Asiye",  "Elmaz",  "Emine",  "Esma",    "Fatma",  "Gulnara", "Lenara",
    "Lile",  "Mumine", "Nazife", "Nuriye", "Safiye", "Sevil",   "Şefika", "Zarema",  "Zeynep",
    "Zera",  "Elvira", "Leyla",  "Mavile", "Medine", "Zemfira", "Dilâra", "Meryem",  "Elif",
    "Zühre", "Hatice", "Merve",  "Selin",  "Özlem",  "Alie",    "Ediye",  "Ruziye",  "Lütfiye"};
static const char *const tt_sur[] = {
    "Abduraimov",   "Ablâmitov",  "Asanov",      "Aliyev",     "Ametov",       "Bekirov",
    "Bariyev",      "Cemilev",    "Celâlov",     "Edemov",     "Emirov",       "Fevziyev",
    "Halilov",      "İbraimov",   "İsmailov",    "Kurtumerov", "Kurtseitov",   "Mamutov",
    "Memetov",      "Mustafayev", "Osmanov",     "Refatov",    "Seitov",       "Seytaliyev",
    "Seyitbekirov", "Suleymanov", "Umerov",      "Veliyev",    "Yagyayev",     "Zeytullayev",
    "Ablayev",      "Kurtiyev",   "Abduraşitov", "Mambetov",   "Yakubov",      "Enverov",
    "Muratov",      "Çubarov",    "Kadırov",     "Useinov",    "Abdulgaziyev", "Ahtemov",
    "Seytveliyev",  "Dzhemilev",  "Eminov",      "Nuriyev",    "Kurtbedinov",  "Ramazanov",
    "Sadykov",      "Yılmaz",     "Kaya",        "Demir",      "Şahin",        "Çelik",
    "Yıldız",       "Yıldırım",   "Öztürk",      "Aydın",      "Özdemir",      "Arslan",
    "Doğan",        "Kılıç",      "Aslan",       "Çetin",      "Kara",         "Koç",
    "Kurt",         "Özkan",      "Şimşek",      "Polat",      "Korkmaz",      "Güneş",
    "Aktaş",        "Erdoğan",    "Yavuz",       "Bulut",      "Ünal",         "Tekin"};

#define DEV_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct fill_rng {
    unsigned long long s;
};

static inline unsigned
fill_next(struct fill_rng *r, unsigned n)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((r->s >> 33) % n);
}

struct map2 {
    const char *from, *to, *initial; /* initial: at word start or after a vowel (NULL: to) */
};

/* Romanisation tables for the generator (three systems people meet). */
static const struct map2 rom_bgn[] = {
    {"а", "a", 0},    {"б", "b", 0},    {"в", "v", 0},    {"г", "g", 0},     {"ґ", "g", 0},
    {"д", "d", 0},    {"е", "e", "ye"}, {"ё", "e", "ye"}, {"є", "ie", "ye"}, {"ж", "zh", 0},
    {"з", "z", 0},    {"и", "i", 0},    {"і", "i", 0},    {"ї", "i", "yi"},  {"й", "y", 0},
    {"к", "k", 0},    {"л", "l", 0},    {"м", "m", 0},    {"н", "n", 0},     {"о", "o", 0},
    {"п", "p", 0},    {"р", "r", 0},    {"с", "s", 0},    {"т", "t", 0},     {"у", "u", 0},
    {"ф", "f", 0},    {"х", "kh", 0},   {"ц", "ts", 0},   {"ч", "ch", 0},    {"ш", "sh", 0},
    {"щ", "shch", 0}, {"ъ", "", 0},     {"ы", "y", 0},    {"ь", "", 0},      {"э", "e", 0},
    {"ю", "yu", 0},   {"я", "ya", 0},   {"'", "", 0},     {0, 0, 0}};
static const struct map2 rom_uk[] = {
    {"а", "a", 0},     {"б", "b", 0},     {"в", "v", 0},     {"г", "h", 0},     {"ґ", "g", 0},
    {"д", "d", 0},     {"е", "e", 0},     {"ё", "io", "yo"}, {"є", "ie", "ye"}, {"ж", "zh", 0},
    {"з", "z", 0},     {"и", "y", 0},     {"і", "i", 0},     {"ї", "i", "yi"},  {"й", "i", "y"},
    {"к", "k", 0},     {"л", "l", 0},     {"м", "m", 0},     {"н", "n", 0},     {"о", "o", 0},
    {"п", "p", 0},     {"р", "r", 0},     {"с", "s", 0},     {"т", "t", 0},     {"у", "u", 0},
    {"ф", "f", 0},     {"х", "kh", 0},    {"ц", "ts", 0},    {"ч", "ch", 0},    {"ш", "sh", 0},
    {"щ", "shch", 0},  {"ъ", "", 0},      {"ы", "y", 0},     {"ь", "", 0},      {"э", "e", 0},
    {"ю", "iu", "yu"}, {"я", "ia", "ya"}, {"'", "", 0},      {0, 0, 0}};
static const struct map2 rom_icao[] = {
    {"а", "a", 0},    {"б", "b", 0},  {"в", "v", 0},  {"г", "g", 0},  {"ґ", "g", 0},
    {"д", "d", 0},    {"е", "e", 0},  {"ё", "e", 0},  {"є", "ie", 0}, {"ж", "zh", 0},
    {"з", "z", 0},    {"и", "i", 0},  {"і", "i", 0},  {"ї", "i", 0},  {"й", "i", 0},
    {"к", "k", 0},    {"л", "l", 0},  {"м", "m", 0},  {"н", "n", 0},  {"о", "o", 0},
    {"п", "p", 0},    {"р", "r", 0},  {"с", "s", 0},  {"т", "t", 0},  {"у", "u", 0},
    {"ф", "f", 0},    {"х", "kh", 0}, {"ц", "ts", 0}, {"ч", "ch", 0}, {"ш", "sh", 0},
    {"щ", "shch", 0}, {"ъ", "ie", 0}, {"ы", "y", 0},  {"ь", "", 0},   {"э", "e", 0},
    {"ю", "iu", 0},   {"я", "ia", 0}, {"'", "", 0},   {0, 0, 0}};
/* Crimean Tatar / Turkish Latin to Cyrillic (Russian-style rendering), and to press ASCII */
static const struct map2 tt_cyr[] = {
    {"ya", "я", 0}, {"yu", "ю", 0},  {"ye", "е", "е"}, {"ç", "ч", 0},  {"ş", "ш", 0},
    {"c", "дж", 0}, {"ğ", "гъ", 0},  {"q", "къ", 0},   {"ñ", "нъ", 0}, {"ı", "ы", 0},
    {"ö", "ё", 0},  {"ü", "ю", 0},   {"â", "я", 0},    {"a", "а", 0},  {"b", "б", 0},
    {"d", "д", 0},  {"e", "е", "э"}, {"f", "ф", 0},    {"g", "г", 0},  {"h", "х", 0},
    {"i", "и", 0},  {"İ", "и", 0},   {"j", "ж", 0},    {"k", "к", 0},  {"l", "л", 0},
    {"m", "м", 0},  {"n", "н", 0},   {"o", "о", 0},    {"p", "п", 0},  {"r", "р", 0},
    {"s", "с", 0},  {"t", "т", 0},   {"u", "у", 0},    {"v", "в", 0},  {"y", "й", 0},
    {"z", "з", 0},  {0, 0, 0}};
static const struct map2 tt_ascii[] = {
    {"ç", "ch", 0}, {"ş", "sh", 0}, {"c", "dzh", 0}, {"ğ", "g", 0}, {"q", "k", 0}, {"ñ", "n", 0},
    {"ı", "y", 0},  {"ö", "o", 0},  {"ü", "u", 0},   {"â", "a", 0}, {"İ", "I", 0}, {"Ç", "Ch", 0},
    {"Ş", "Sh", 0}, {"Ö", "O", 0},  {"Ü", "U", 0},   {0, 0, 0}};

static inline int
fill_is_vowel_out(const char *out, size_t n)
{
    if (n == 0) {
        return 1;
    }
    char c = out[n - 1];
    return strchr("aeiouyAEIOUY", c) != NULL || (unsigned char)c >= 0x80;
}

/* Apply a table (longest entries listed first where it matters); unknown bytes are copied. */
static inline void
fill_apply(const struct map2 *m, const char *in, char *out, size_t cap, int lower_in)
{
    size_t o = 0;
    const char *p = in;
    while (*p != '\0' && o + 8 < cap) {
        int done = 0;
        for (const struct map2 *e = m; e->from != NULL; e++) {
            size_t k = strlen(e->from);
            if (strncmp(p, e->from, k) == 0) {
                const char *to = e->to;
                if (e->initial != NULL && (p == in || fill_is_vowel_out(out, o))) {
                    to = e->initial;
                }
                size_t tl = strlen(to);
                memcpy(out + o, to, tl);
                o += tl;
                p += k;
                done = 1;
                break;
            }
        }
        if (!done) {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    (void)lower_in;
}

/* Capitalise the first letter of an ASCII or Cyrillic (2-byte) word in place. */
static inline void
fill_capital(char *s)
{
    unsigned char *u = (unsigned char *)s;
    if (u[0] >= 'a' && u[0] <= 'z') {
        u[0] = (unsigned char)(u[0] - 32);
    } else if (u[0] == 0xD0 && u[1] >= 0xB0 && u[1] <= 0xBF) {
        u[1] = (unsigned char)(u[1] - 0x20); /* а..п -> А..П */
    } else if (u[0] == 0xD1 && u[1] >= 0x80 && u[1] <= 0x8F) {
        u[0] = 0xD0;
        u[1] = (unsigned char)(u[1] + 0x20); /* р..я -> Р..Я */
    } else if (u[0] == 0xD1 && u[1] == 0x94) {
        u[0] = 0xD0; /* є -> Є */
        u[1] = 0x84;
    } else if (u[0] == 0xD1 && u[1] == 0x96) {
        u[0] = 0xD0; /* і -> І */
        u[1] = 0x86;
    }
}

/* Lower-case the first letter of a Cyrillic word (the tables are lower case). */
static inline void
fill_lower_first(char *s)
{
    unsigned char *u = (unsigned char *)s;
    if (u[0] == 0xD0 && u[1] >= 0x90 && u[1] <= 0x9F) {
        u[1] = (unsigned char)(u[1] + 0x20);
    } else if (u[0] == 0xD0 && u[1] >= 0xA0 && u[1] <= 0xAF) {
        u[0] = 0xD1;
        u[1] = (unsigned char)(u[1] - 0x20);
    } else if (u[0] == 0xD0 && u[1] == 0x84) {
        u[0] = 0xD1;
        u[1] = 0x94;
    } else if (u[0] == 0xD0 && u[1] == 0x86) {
        u[0] = 0xD1;
        u[1] = 0x96;
    } else if (u[0] >= 'A' && u[0] <= 'Z') {
        u[0] = (unsigned char)(u[0] + 32);
    }
}

static inline int
fill_ends(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Feminine form of a Slavic (Cyrillic) or Crimean Tatar (Latin) surname, in place. */
static inline void
fill_feminine(char *s, size_t cap)
{
    size_t n = strlen(s);
    if (fill_ends(s, "ов") || fill_ends(s, "ев") || fill_ends(s, "ин") || fill_ends(s, "ёв") ||
        fill_ends(s, "ov") || fill_ends(s, "ev") || fill_ends(s, "in")) {
        const char *add = (unsigned char)s[n - 1] >= 0x80 ? "а" : "a";
        size_t al = strlen(add);
        if (n + al < cap) {
            memcpy(s + n, add, al + 1);
        }
    } else if (fill_ends(s, "ський") || fill_ends(s, "цький")) {
        memcpy(s + n - 4, "а", 3); /* -ський -> -ська */
    }
}

/*
 * One filler person name into out: random first name and surname from one of the three
 * groups, gendered, in Cyrillic or in one of several Latin spellings, sometimes with a
 * patronymic or surname first.
 */
static inline void
fill_name(struct fill_rng *r, char *out, size_t cap)
{
    char first[96], sur[96], a[128], b[128];
    int group = (int)fill_next(r, 2);
    int female = (int)fill_next(r, 2);
    if (group == 0) {
        const char *f = female ? sl_female[fill_next(r, DEV_NELEM(sl_female))]
                               : sl_male[fill_next(r, DEV_NELEM(sl_male))];
        int uk = (int)fill_next(r, 2);
        const char *bar = strchr(f, '|');
        if (uk) {
            snprintf(first, sizeof first, "%s", bar + 1);
        } else {
            snprintf(first, sizeof first, "%.*s", (int)(bar - f), f);
        }
        snprintf(sur, sizeof sur, "%s", sl_sur[fill_next(r, DEV_NELEM(sl_sur))]);
        if (female) {
            fill_feminine(sur, sizeof sur);
        }
        unsigned how = fill_next(r, 5);
        if (how <= 1) {
            snprintf(a, sizeof a, "%s", first);
            snprintf(b, sizeof b, "%s", sur);
        } else {
            const struct map2 *m = how == 2 ? rom_bgn : (how == 3 ? rom_uk : rom_icao);
            fill_lower_first(first);
            fill_lower_first(sur);
            fill_apply(m, first, a, sizeof a, 1);
            fill_apply(m, sur, b, sizeof b, 1);
            fill_capital(a);
            fill_capital(b);
        }
    } else {
        snprintf(first, sizeof first, "%s",
                 female ? tt_female[fill_next(r, DEV_NELEM(tt_female))]
                        : tt_male[fill_next(r, DEV_NELEM(tt_male))]);
        snprintf(sur, sizeof sur, "%s", tt_sur[fill_next(r, DEV_NELEM(tt_sur))]);
        if (female) {
            fill_feminine(sur, sizeof sur);
        }
        unsigned how = fill_next(r, 3);
        if (how == 0) {
            snprintf(a, sizeof a, "%s", first);
            snprintf(b, sizeof b, "%s", sur);
        } else {
            const struct map2 *m = how == 1 ? tt_cyr : tt_ascii;
            if (how == 1) {
                fill_lower_first(first);
                fill_lower_first(sur);
            }
            fill_apply(m, first, a, sizeof a, 0);
            fill_apply(m, sur, b, sizeof b, 0);
            fill_capital(a);
            fill_capital(b);
        }
    }
    if (fill_next(r, 10) == 0) {
        snprintf(out, cap, "%s %s", b, a);
    } else {
        snprintf(out, cap, "%s %s", a, b);
    }
}

/* ---- metrics (as score.py) ---- */

struct dev_metrics {
    double n, hit1, recall, mrr, vrecall, np, rprec, distr;
};

static inline int
dev_owner(const struct devset *ds, const char *title)
{
    for (int i = 0; i < ds->nnames; i++) {
        if (strcmp(ds->names[i].text, title) == 0) {
            return i;
        }
    }
    return -1;
}

/* titles[q][r] is the r-th hit of query q ("" past the end); k hits per query. */
static inline void
dev_score(const struct devset *ds, char (*titles)[10][160], struct dev_metrics *all)
{
    memset(all, 0, sizeof *all);
    for (int q = 0; q < ds->nqueries; q++) {
        const char *exp = ds->queries[q].owner;
        int size = 0;
        for (int i = 0; i < ds->nnames; i++) {
            size += strcmp(ds->names[i].owner, exp) == 0;
        }
        int first = -1, found = 0, inr = 0, dis = 0;
        for (int r = 0; r < 10; r++) {
            int o = titles[q][r][0] ? dev_owner(ds, titles[q][r]) : -1;
            int ok = o >= 0 && strcmp(ds->names[o].owner, exp) == 0;
            if (ok && first < 0) {
                first = r;
            }
            found += ok;
            if (r < size) {
                inr += ok;
                dis |= o >= 0 && strncmp(ds->names[o].owner, "DISTRACTOR", 10) == 0;
            }
        }
        all->n += 1;
        all->hit1 += first == 0;
        all->recall += first >= 0;
        all->mrr += first >= 0 ? 1.0 / (first + 1) : 0.0;
        all->vrecall += (double)found / (size < 10 ? size : 10);
        if (strcmp(ds->queries[q].kind, "surname_only") != 0) {
            all->np += 1;
            all->rprec += (double)inr / size;
            all->distr += dis;
        }
    }
    all->hit1 /= all->n;
    all->recall /= all->n;
    all->mrr /= all->n;
    all->vrecall /= all->n;
    all->rprec /= all->np;
    all->distr /= all->np;
}

#endif
