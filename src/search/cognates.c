/*
 * cognates.c - given names that are one name in Ukrainian and Russian (and their usual Latin
 * renderings): Mykola and Nikolai, Oleksandr and Aleksandr, Serhiy and Sergei.
 *
 * These differ by more than a romanisation or a typo (Микола / Николай differ in the first
 * letter), so no folding rule can join them; a lawyer's file holds the Ukrainian form and a
 * Russian court's papers the Russian one. The table lists each name's forms as folded Latin;
 * they are compared by phonetic skeleton, so every romanisation of a listed form matches too.
 * It is linguistic data about names in general, not about any person. Read-only after init.
 */
#include <pthread.h>
#include <string.h>

#include "search/internal.h"

/* One group per name; forms separated by spaces, in folded Latin (script folding applied). */
static const char *const groups[] = {
    "nikolai mykola mikola",
    "aleksandr oleksandr",
    "aleksandra oleksandra",
    "sergei serhii serhiy",
    "vladimir volodymyr",
    "dmitrii dmytro",
    "aleksei oleksii oleksiy",
    "andrei andrii andriy",
    "mikhail mykhailo",
    "petr pyotr petro",
    "pavel pavlo",
    "vasilii vasyl",
    "grigorii hryhorii",
    "fedor fyodor fedir",
    "oleg oleh",
    "igor ihor",
    "olga olha",
    "elena yelena olena",
    "natalya natalia nataliia",
    "ekaterina yekaterina kateryna",
    "irina iryna",
    "tatyana tatiana tetiana tetyana",
    "lyudmila liudmila liudmyla",
    "galina halyna",
    "evgenii yevgenii yevhen yevhenii",
    "evgeniya yevheniia",
    "anatolii anatoliy",
    "vitalii vitaliy",
    "valentin valentyn",
    "konstantin kostiantyn kostyantyn",
    "kirill kyrylo",
    "ilya illia",
    "nadezhda nadiia nadiya",
    "svetlana svitlana",
    "anna hanna",
    "mariya mariia",
    "yulia yuliia",
    "oksana aksana",
    "stepan stefan",
    "timofei tymofii",
    "leonid leonyd",
    "arkadii arkadiy",
    "boris borys",
    "semen semyon",
    "yakov yakiv",
    "zinaida zinaida",
};

#define FORMS_MAX 256

struct form {
    char skel[DFT_SEARCH_TOKEN_MAX];
    int group;
};

static struct form forms[FORMS_MAX];
static size_t nforms;
static pthread_once_t forms_once = PTHREAD_ONCE_INIT;

static void
forms_init(void)
{
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        const char *p = groups[g];
        while (*p != '\0' && nforms < FORMS_MAX) {
            size_t n = strcspn(p, " ");
            char word[DFT_SEARCH_TOKEN_MAX];
            if (n > 0 && n < sizeof word) {
                memcpy(word, p, n);
                word[n] = '\0';
                search_skeleton(word, forms[nforms].skel);
                forms[nforms].group = (int)g;
                nforms++;
            }
            p += n;
            while (*p == ' ') {
                p++;
            }
        }
    }
}

static int
group_of(const char *skel)
{
    for (size_t i = 0; i < nforms; i++) {
        if (strcmp(forms[i].skel, skel) == 0) {
            return forms[i].group;
        }
    }
    return -1;
}

int
search_cognate_names(const char *skel_a, const char *skel_b)
{
    pthread_once(&forms_once, forms_init);
    int a = group_of(skel_a);
    return a >= 0 && a == group_of(skel_b);
}

int
search_cognate_group(const char *skel)
{
    pthread_once(&forms_once, forms_init);
    return group_of(skel);
}
