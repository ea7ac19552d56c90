/*
 * catalog.c - the text of briefings in Crimean Tatar (Latin), Ukrainian, English, Russian and
 * Turkish. One row per message; a missing translation falls back to English.
 */
#include <string.h>

#include "bundle/brief.h"

enum { L_CRH, L_UK, L_EN, L_RU, L_TR, L_COUNT };

struct row {
    const char *key;
    const char *text[L_COUNT];
};

static const struct row rows[] = {
    {"title",
     {"Dava boyunca malümat", "Довідка у справі", "Case briefing", "Справка по делу",
      "Dava bilgi notu"}},
    {"contents", {"Mündericat", "Зміст", "Contents", "Содержание", "İçindekiler"}},
    {"summary", {"Qısqa mündericesi", "Короткий виклад", "Summary", "Краткое изложение", "Özet"}},
    {"timeline", {"Vaqialar sırası", "Хронологія", "Timeline", "Хронология", "Zaman çizelgesi"}},
    {"persons",
     {"Roller boyunca şahıslar", "Особи за ролями", "Persons by role", "Лица по ролям",
      "Rollerine göre kişiler"}},
    {"proceedings",
     {"Mahkeme işleri", "Провадження", "Proceedings", "Производства", "Yargılama süreçleri"}},
    {"hearings",
     {"Mahkeme oturımları", "Судові засідання", "Hearings", "Судебные заседания", "Duruşmalar"}},
    {"evidence", {"Deliller", "Докази", "Evidence", "Доказательства", "Deliller"}},
    {"withheld", {"gizlengen", "приховано", "withheld", "скрыто", "gizlendi"}},
    {"masked",
     {"şahıs malümatı gizlengen", "дані особи приховано", "identity withheld", "данные лица скрыты",
      "kimlik bilgisi gizlendi"}},
    {"proof",
     {"Defterge kirsetilgeni isbatı", "Доказ внесення до журналу", "Proof of inclusion in the log",
      "Доказательство включения в журнал", "Kayda eklendiğinin kanıtı"}},
    {"bundle",
     {"Bu metinge tasdiqlenip olğan paket qoşulğan: onı defter-verify ile teşkeriñiz.",
      "До цього документа додано пакет, який можна перевірити: перевірте його за "
      "допомогою defter-verify.",
      "A verifiable bundle is attached to this document: check it with defter-verify.",
      "К этому документу приложен проверяемый пакет: проверьте его с помощью "
      "defter-verify.",
      "Bu belgeye doğrulanabilir bir paket eklidir: defter-verify ile doğrulayın."}},
    {"profile", {"Profil", "Профіль", "Profile", "Профиль", "Profil"}},
    {"log", {"Jurnal", "Журнал", "Log", "Журнал", "Kayıt"}},
    {"size", {"büyüklik", "розмір", "size", "размер", "boyut"}},
    {"none", {"yoq", "немає", "none", "нет", "yok"}},
    {"role_victim", {"zarar körgen", "потерпілий", "victim", "потерпевший", "mağdur"}},
    {"role_witness", {"şaat", "свідок", "witness", "свидетель", "tanık"}},
    {"role_lawyer", {"advokat", "адвокат", "lawyer", "адвокат", "avukat"}},
    {"role_defendant", {"qabaatlanğan", "обвинувачений", "defendant", "обвиняемый", "sanık"}},
    {"role_judge", {"hakim", "суддя", "judge", "судья", "hâkim"}},
    {"role_prosecutor", {"prokuror", "прокурор", "prosecutor", "прокурор", "savcı"}},
    {"role_investigator", {"tergevci", "слідчий", "investigator", "следователь", "müfettiş"}},
};

int
brief_lang_valid(const char *lang)
{
    return strcmp(lang, "crh") == 0 || strcmp(lang, "uk") == 0 || strcmp(lang, "en") == 0 ||
           strcmp(lang, "ru") == 0 || strcmp(lang, "tr") == 0;
}

static int
lang_index(const char *lang)
{
    static const char *const names[L_COUNT] = {"crh", "uk", "en", "ru", "tr"};
    for (int i = 0; i < L_COUNT; i++) {
        if (strcmp(lang, names[i]) == 0) {
            return i;
        }
    }
    return L_EN;
}

const char *
brief_text(const char *lang, const char *key)
{
    int l = lang_index(lang);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].key, key) == 0) {
            return rows[i].text[l] != NULL ? rows[i].text[l] : rows[i].text[L_EN];
        }
    }
    return NULL;
}
