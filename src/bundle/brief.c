/*
 * brief.c - `defter brief`: a case briefing a diplomat reads, in HTML or PDF/A-3b.
 *
 * Each case is first exported as a bundle in memory (the chosen profile, evidence as hashes
 * only) and checked with dft_bundle_verify_buffer: the briefing shows exactly what that verified
 * bundle shows, and carries the bundle (attached to the PDF, a download link in the HTML). Every
 * name is escaped (markup in names stays text). The PDF is made by WeasyPrint from HTML on its
 * standard input; images are data: URIs, so nothing is fetched.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle/brief.h"
#include "bundle/internal.h"

extern char **environ;

#define HTML_MAX ((size_t)1 << 31)

static const char style[] =
    "@page{size:A4;margin:18mm 16mm 20mm 16mm;@bottom-center{content:counter(page) \" / \" "
    "counter(pages);font-size:9pt;color:#555}}"
    "body{font-family:'DejaVu Sans',sans-serif;font-size:10.5pt;line-height:1.4;color:#111}"
    "h1{font-size:18pt;margin:0 0 4mm}h2{font-size:13pt;margin:6mm 0 2mm;border-bottom:1px solid "
    "#999}section.case{page-break-before:always}section.case.first{page-break-before:auto}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
    "padding:1mm 2mm;border-bottom:0.5pt solid #ccc}th{width:30%;font-weight:bold}"
    ".mono{font-family:'DejaVu Sans Mono',monospace;font-size:8pt;word-break:break-all}"
    ".qr{width:34mm;height:34mm}.note{color:#444;font-size:9pt}.withheld{color:#777;"
    "font-style:italic}";

static enum dft_err
add(struct dft_buf *b, const char *s)
{
    return dft_buf_adds(b, s);
}

/* s as HTML text (quotes escaped too, so it may also stand in attributes). */
static enum dft_err
esc(struct dft_buf *b, const char *s)
{
    enum dft_err rc = DFT_OK;
    for (; rc == DFT_OK && s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            rc = add(b, "&amp;");
            break;
        case '<':
            rc = add(b, "&lt;");
            break;
        case '>':
            rc = add(b, "&gt;");
            break;
        case '"':
            rc = add(b, "&quot;");
            break;
        case '\'':
            rc = add(b, "&#39;");
            break;
        default:
            rc = dft_buf_add(b, s, 1);
        }
    }
    return rc;
}

/* A field value as text: strings as they are, lists joined, anything else as JSON. */
static enum dft_err
esc_value(struct dft_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        return esc(b, json_string_value(v));
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        enum dft_err rc = DFT_OK;
        json_array_foreach((json_t *)(uintptr_t)v, i, x)
        {
            if (rc == DFT_OK && i > 0) {
                rc = add(b, "; ");
            }
            if (rc == DFT_OK) {
                rc = esc_value(b, x);
            }
        }
        return rc;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s == NULL) {
        return DFT_ERR_NOMEM;
    }
    enum dft_err rc = esc(b, s);
    dft_json_string_free(s);
    return rc;
}

static const json_t *
find_record(const json_t *report, const char *id)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(report, "records"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0) {
            return r;
        }
    }
    return NULL;
}

static const char *
fstr(const json_t *rec, const char *field)
{
    return json_string_value(json_object_get(json_object_get(rec, "fields"), field));
}

/* A record's name for the reader: title, name, case number, or "identity withheld". */
static enum dft_err
label(struct dft_buf *b, const json_t *rec, const char *lang)
{
    static const char *const keys[] = {"title", "name", "case_number", "summary"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s = fstr(rec, keys[i]);
        if (s != NULL) {
            return esc(b, s);
        }
    }
    enum dft_err rc = add(b, "<span class=\"withheld\">");
    if (rc == DFT_OK) {
        rc = esc(b, brief_text(lang, "masked"));
    }
    return rc == DFT_OK ? add(b, "</span>") : rc;
}

static enum dft_err
fields_table(struct dft_buf *b, const json_t *rec, const char *lang, const char *skip)
{
    enum dft_err rc = add(b, "<table>");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(rec, "fields"), k, v)
    {
        if (rc != DFT_OK || (skip != NULL && strcmp(k, skip) == 0) || strcmp(k, "public") == 0) {
            continue;
        }
        if ((rc = add(b, "<tr><th>")) == DFT_OK && (rc = esc(b, k)) == DFT_OK &&
            (rc = add(b, "</th><td>")) == DFT_OK && (rc = esc_value(b, v)) == DFT_OK) {
            rc = add(b, "</td></tr>");
        }
    }
    json_int_t w = json_integer_value(json_object_get(rec, "withheld"));
    if (rc == DFT_OK && w > 0) {
        rc = dft_buf_addf(b,
                          "<tr><th class=\"withheld\">%s</th><td class=\"withheld\">%lld</td></tr>",
                          brief_text(lang, "withheld"), (long long)w);
    }
    return rc == DFT_OK ? add(b, "</table>") : rc;
}

/* The links of the case record: [{"other","role"}] from its disclosed link operations. */
static json_t *
links_of(const json_t *rec, const char *id)
{
    json_t *out = json_array();
    size_t i;
    const json_t *op;
    json_array_foreach(json_object_get(rec, "ops"), i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        const char *from = json_string_value(json_object_get(op, "record"));
        const char *to = json_string_value(json_object_get(op, "to"));
        const char *role = json_string_value(json_object_get(op, "fields/role"));
        if (action == NULL || strcmp(action, "link") != 0 || from == NULL || to == NULL) {
            continue;
        }
        const char *other = strcmp(from, id) == 0 ? to : from;
        json_array_append_new(
            out, json_pack("{ss ss}", "other", other, "role", role != NULL ? role : ""));
    }
    return out;
}

static const char *
role_text(const char *lang, const char *role, char *key, size_t max)
{
    snprintf(key, max, "role_%s", role);
    const char *t = brief_text(lang, key);
    return t != NULL ? t : role;
}

static enum dft_err
evidence_section(struct dft_buf *b, const json_t *report, const char *lang, struct dft_error *err)
{
    enum dft_err rc = dft_buf_addf(b, "<h2>%s</h2>", brief_text(lang, "evidence"));
    const json_t *ev = json_object_get(report, "evidence");
    if (rc == DFT_OK && json_array_size(ev) == 0) {
        rc = dft_buf_addf(b, "<p>%s</p>", brief_text(lang, "none"));
    }
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)(uintptr_t)ev, i, e)
    {
        /* the envelope of its signed "evidence" operation and that envelope's proof */
        json_int_t index = -1;
        const char *name = NULL;
        size_t k;
        const json_t *op;
        json_array_foreach(json_object_get(e, "ops"), k, op)
        {
            const char *action = json_string_value(json_object_get(op, "action"));
            if (action != NULL && strcmp(action, "evidence") == 0) {
                index = json_integer_value(json_object_get(op, "index"));
                name = json_string_value(json_object_get(op, "fields/name"));
            }
        }
        const json_t *entry = NULL;
        const json_t *x;
        json_array_foreach(json_object_get(report, "entries"), k, x)
        {
            if (json_integer_value(json_object_get(x, "index")) == index) {
                entry = x;
            }
        }
        if (rc != DFT_OK || entry == NULL) {
            break;
        }
        struct dft_buf qr_text, svg;
        dft_buf_init(&qr_text, 4096, 0);
        dft_buf_init(&svg, 1 << 20, 0);
        rc = dft_buf_addf(
            &qr_text,
            "defter-proof/v1\norigin %s\nindex %lld\nleaf %s\nsize %lld\nroot %s\nsha256 %s\n",
            json_string_value(json_object_get(json_object_get(report, "log"), "origin")),
            (long long)index, json_string_value(json_object_get(entry, "leaf_hash")),
            (long long)json_integer_value(json_object_get(entry, "size")),
            json_string_value(json_object_get(entry, "root")),
            json_string_value(json_object_get(e, "sha256")));
        if (rc == DFT_OK) {
            rc = brief_qr_svg(&svg, (const char *)qr_text.data, err);
        }
        char *b64 = rc == DFT_OK ? malloc(dft_b64_len(svg.len)) : NULL;
        if (rc == DFT_OK && b64 == NULL) {
            rc = DFT_ERR_NOMEM;
        }
        if (rc == DFT_OK) {
            dft_b64_encode(b64, svg.data, svg.len);
            rc = add(b, "<table class=\"evidence\"><tr><td><p>");
        }
        if (rc == DFT_OK && name != NULL) {
            rc = esc(b, name);
        }
        if (rc == DFT_OK) {
            rc = dft_buf_addf(
                b,
                "</p><p class=\"mono\">SHA-256 %s</p><p>%lld bytes</p><p class=\"note\">%s: %s, "
                "index %lld, %s %lld</p><p class=\"mono\">leaf %s<br>root %s</p></td>"
                "<td style=\"width:36mm\"><img class=\"qr\" alt=\"QR\" "
                "src=\"data:image/svg+xml;base64,%s\"></td></tr></table>",
                json_string_value(json_object_get(e, "sha256")),
                (long long)json_integer_value(json_object_get(e, "size")),
                brief_text(lang, "proof"),
                json_string_value(json_object_get(json_object_get(report, "log"), "origin")),
                (long long)index, brief_text(lang, "size"),
                (long long)json_integer_value(json_object_get(entry, "size")),
                json_string_value(json_object_get(entry, "leaf_hash")),
                json_string_value(json_object_get(entry, "root")), b64);
        }
        free(b64);
        dft_buf_release(&qr_text);
        dft_buf_release(&svg);
    }
    return rc;
}

static int
cmp_date(const void *a, const void *b)
{
    const char *x = fstr(*(json_t *const *)a, "date");
    const char *y = fstr(*(json_t *const *)b, "date");
    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

/* One case: summary, timeline, persons by role, proceedings with hearings, evidence, proof. */
static enum dft_err
case_section(struct dft_buf *b, const char *case_id, const json_t *report, const char *bundle_b64,
             const char *lang, int first, struct dft_error *err)
{
    const json_t *c = find_record(report, case_id);
    enum dft_err rc =
        dft_buf_addf(b, "<section class=\"case%s\" id=\"%s\"><h1>", first ? " first" : "", case_id);
    if (rc == DFT_OK) {
        rc = label(b, c, lang);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_addf(b, "</h1><h2>%s</h2>", brief_text(lang, "summary"));
    }
    if (rc == DFT_OK) {
        rc = fields_table(b, c, lang, "title");
    }
    json_t *links = links_of(c, case_id);
    /* timeline: the linked events by date */
    size_t i, n = 0;
    const json_t *l;
    json_t **events = calloc(json_array_size(links) + 1, sizeof *events);
    json_array_foreach(links, i, l)
    {
        const json_t *r = find_record(report, json_string_value(json_object_get(l, "other")));
        const char *t = json_string_value(json_object_get(r, "type"));
        if (events != NULL && t != NULL && strcmp(t, "event") == 0) {
            events[n++] = (json_t *)(uintptr_t)r;
        }
    }
    if (events != NULL) {
        qsort(events, n, sizeof *events, cmp_date);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_addf(b, "<h2>%s</h2><table>", brief_text(lang, "timeline"));
    }
    for (i = 0; rc == DFT_OK && i < n; i++) {
        if ((rc = add(b, "<tr><th>")) == DFT_OK &&
            (rc = esc(b, fstr(events[i], "date"))) == DFT_OK &&
            (rc = add(b, "</th><td>")) == DFT_OK && (rc = label(b, events[i], lang)) == DFT_OK) {
            rc = add(b, "</td></tr>");
        }
    }
    free(events);
    if (rc == DFT_OK) {
        rc = dft_buf_addf(b, "</table><h2>%s</h2><table>", brief_text(lang, "persons"));
    }
    json_array_foreach(links, i, l)
    {
        const json_t *r = find_record(report, json_string_value(json_object_get(l, "other")));
        const char *t = json_string_value(json_object_get(r, "type"));
        char key[80];
        if (rc != DFT_OK || t == NULL || strcmp(t, "person") != 0) {
            continue;
        }
        if ((rc = add(b, "<tr><th>")) == DFT_OK &&
            (rc = esc(b, role_text(lang, json_string_value(json_object_get(l, "role")), key,
                                   sizeof key))) == DFT_OK &&
            (rc = add(b, "</th><td>")) == DFT_OK && (rc = label(b, r, lang)) == DFT_OK) {
            rc = add(b, "</td></tr>");
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_addf(b, "</table><h2>%s</h2>", brief_text(lang, "proceedings"));
    }
    json_array_foreach(links, i, l)
    {
        const json_t *r = find_record(report, json_string_value(json_object_get(l, "other")));
        const char *t = json_string_value(json_object_get(r, "type"));
        if (rc != DFT_OK || t == NULL || strcmp(t, "proceeding") != 0) {
            continue;
        }
        if ((rc = add(b, "<h3>")) == DFT_OK && (rc = label(b, r, lang)) == DFT_OK &&
            (rc = add(b, "</h3>")) == DFT_OK) {
            rc = fields_table(b, r, lang, "title");
        }
        /* hearings: events linked to the proceeding */
        json_t *pl = links_of(r, json_string_value(json_object_get(r, "id")));
        size_t k;
        const json_t *h;
        int any = 0;
        json_array_foreach(pl, k, h)
        {
            const json_t *ev = find_record(report, json_string_value(json_object_get(h, "other")));
            const char *et = json_string_value(json_object_get(ev, "type"));
            if (rc != DFT_OK || et == NULL || strcmp(et, "event") != 0) {
                continue;
            }
            if (!any) {
                rc = dft_buf_addf(b, "<p><b>%s</b></p><ul>", brief_text(lang, "hearings"));
                any = 1;
            }
            if (rc == DFT_OK && (rc = add(b, "<li>")) == DFT_OK &&
                (rc = esc(b, fstr(ev, "date"))) == DFT_OK && (rc = add(b, " ")) == DFT_OK &&
                (rc = label(b, ev, lang)) == DFT_OK) {
                rc = add(b, "</li>");
            }
        }
        if (rc == DFT_OK && any) {
            rc = add(b, "</ul>");
        }
        json_decref(pl);
    }
    json_decref(links);
    if (rc == DFT_OK) {
        rc = evidence_section(b, report, lang, err);
    }
    const json_t *log = json_object_get(report, "log");
    if (rc == DFT_OK) {
        rc = dft_buf_addf(
            b,
            "<h2>%s</h2><p class=\"note\">%s: %s. %s: %s, %s %lld.</p>"
            "<p class=\"mono\">%s</p><p class=\"note\">%s</p>",
            brief_text(lang, "proof"), brief_text(lang, "profile"),
            json_string_value(json_object_get(report, "profile")), brief_text(lang, "log"),
            json_string_value(json_object_get(log, "origin")), brief_text(lang, "size"),
            (long long)json_integer_value(json_object_get(log, "size")),
            json_string_value(json_object_get(log, "vkey")), brief_text(lang, "bundle"));
    }
    if (rc == DFT_OK && bundle_b64 != NULL) {
        rc = dft_buf_addf(b,
                          "<p class=\"note\"><a download=\"%s.zip\" "
                          "href=\"data:application/zip;base64,%s\">%s.zip</a></p>",
                          case_id, bundle_b64, case_id);
    }
    if (rc == DFT_OK) {
        rc = add(b, "</section>");
    }
    return rc;
}

/*
 * WeasyPrint through its Python API (Debian's python3-weasyprint, so /usr/bin/python3): the HTML
 * on standard input, PDF/A-3b to the path in argv[1]. The URL fetcher serves data: URLs only
 * (nothing is fetched from anywhere) and names an attachment after its data URL's name=
 * parameter, which WeasyPrint's command line cannot do.
 */
static const char weasy_script[] =
    "import sys, weasyprint\n"
    "def fetch(url):\n"
    "    if not url.startswith('data:'):\n"
    "        raise ValueError('no fetching')\n"
    "    r = weasyprint.default_url_fetcher(url)\n"
    "    head = url[5:url.index(',')]\n"
    "    for p in head.split(';'):\n"
    "        if p.startswith('name='):\n"
    "            r['redirected_url'] = 'file:///' + p[5:]\n"
    "    return r\n"
    "html = sys.stdin.buffer.read().decode('utf-8')\n"
    "weasyprint.HTML(string=html, url_fetcher=fetch).write_pdf(sys.argv[1], "
    "variant='pdf/a-3b')\n";

static enum dft_err
weasyprint(const struct dft_buf *html, const char *path, struct dft_error *err)
{
    int in[2];
    if (pipe(in) != 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot start weasyprint: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    static char a0[] = "python3", a1[] = "-I", a2[] = "-c";
    char *argv[] = {a0, a1, a2, (char *)(uintptr_t)weasy_script, (char *)(uintptr_t)path, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    if (e != 0) {
        close(in[1]);
        return dft_fail(err, DFT_ERR_NOT_FOUND,
                        "cannot run WeasyPrint (Debian package weasyprint): %s", strerror(e));
    }
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < html->len) {
        ssize_t w = write(in[1], html->data + off, html->len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    close(in[1]);
    signal(SIGPIPE, old);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (off != html->len || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return dft_fail(err, DFT_ERR_IO,
                        "WeasyPrint failed to make the PDF (is the Debian package weasyprint "
                        "installed?)");
    }
    return DFT_OK;
}

static enum dft_err
write_file(const char *path, const struct dft_buf *b, struct dft_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot write '%.200s': %s", path, strerror(errno));
    }
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    int ok = off == b->len && fsync(fd) == 0;
    close(fd);
    return ok ? DFT_OK : dft_fail(err, DFT_ERR_IO, "cannot write '%.200s'", path);
}

enum dft_err
dft_brief_write(struct dft_vault *v, const struct dft_brief_options *o, const char *out_path,
                json_t **summary, struct dft_error *err)
{
    if (o->n_cases == 0 || !brief_lang_valid(o->lang)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown briefing language '%.16s' (crh, uk, en, ru, tr)", o->lang);
    }
    struct dft_buf html, tmp_name;
    dft_buf_init(&html, HTML_MAX, 0);
    dft_buf_init(&tmp_name, 8192, 0);
    json_t **reports = calloc(o->n_cases, sizeof *reports);
    char **bundles = calloc(o->n_cases, sizeof *bundles);
    enum dft_err rc = reports == NULL || bundles == NULL ? DFT_ERR_NOMEM : DFT_OK;
    for (size_t i = 0; rc == DFT_OK && i < o->n_cases; i++) {
        struct dft_bundle_selection sel = {o->cases[i], NULL, o->profile, DFT_BUNDLE_HASHES_ONLY};
        struct dft_buf zip;
        dft_buf_init(&zip, (size_t)1 << 30, 0);
        if ((rc = dft_bundle_export_mem(v, &sel, &zip, NULL, err)) == DFT_OK &&
            (rc = dft_bundle_verify_buffer(zip.data, zip.len, NULL, &reports[i], err)) == DFT_OK) {
            bundles[i] = malloc(dft_b64_len(zip.len));
            if (bundles[i] == NULL) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            } else {
                dft_b64_encode(bundles[i], zip.data, zip.len);
            }
        }
        dft_buf_release(&zip);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_addf(&html,
                          "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                          "<title>%s</title><style>%s</style>",
                          o->lang, brief_text(o->lang, "title"), style);
    }
    /* the bundles, attached to the PDF (WeasyPrint: link rel=attachment) */
    for (size_t i = 0; rc == DFT_OK && o->pdf && i < o->n_cases; i++) {
        rc = dft_buf_addf(&html,
                          "<link rel=\"attachment\" title=\"%s.zip\" "
                          "href=\"data:application/zip;name=%s.zip;base64,%s\">",
                          o->cases[i], o->cases[i], bundles[i]);
    }
    if (rc == DFT_OK) {
        rc = add(&html, "</head><body>");
    }
    if (rc == DFT_OK && o->n_cases > 1) {
        rc = dft_buf_addf(&html, "<section class=\"contents\"><h1>%s</h1><h2>%s</h2><ol>",
                          brief_text(o->lang, "title"), brief_text(o->lang, "contents"));
        for (size_t i = 0; rc == DFT_OK && i < o->n_cases; i++) {
            if ((rc = dft_buf_addf(&html, "<li><a href=\"#%s\">", o->cases[i])) == DFT_OK &&
                (rc = label(&html, find_record(reports[i], o->cases[i]), o->lang)) == DFT_OK) {
                rc = add(&html, "</a></li>");
            }
        }
        if (rc == DFT_OK) {
            rc = add(&html, "</ol></section>");
        }
    }
    for (size_t i = 0; rc == DFT_OK && i < o->n_cases; i++) {
        rc = case_section(&html, o->cases[i], reports[i], o->pdf ? NULL : bundles[i], o->lang,
                          i == 0 && o->n_cases == 1, err);
    }
    if (rc == DFT_OK) {
        rc = add(&html, "</body></html>\n");
    }
    /* OUT appears whole or not at all: a sibling temporary file, then rename */
    if (rc == DFT_OK &&
        (rc = dft_buf_addf(&tmp_name, "%s.tmp-%ld", out_path, (long)getpid())) == DFT_OK) {
        const char *tmp = (const char *)tmp_name.data;
        unlink(tmp);
        rc = o->pdf ? weasyprint(&html, tmp, err) : write_file(tmp, &html, err);
        if (rc == DFT_OK && rename(tmp, out_path) != 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot write '%.200s': %s", out_path, strerror(errno));
        }
        if (rc != DFT_OK) {
            unlink(tmp);
        }
    }
    if (rc == DFT_OK && summary != NULL) {
        *summary =
            json_pack("{ss ss ss sI}", "briefing", out_path, "format", o->pdf ? "pdf" : "html",
                      "lang", o->lang, "cases", (json_int_t)o->n_cases);
    }
    if (rc != DFT_OK && err != NULL && err->code == DFT_OK) {
        dft_fail(err, rc, "cannot build the briefing: %s",
                 rc == DFT_ERR_NOMEM ? "out of memory" : "too large");
    }
    for (size_t i = 0; i < o->n_cases; i++) {
        if (reports != NULL) {
            json_decref(reports[i]);
        }
        if (bundles != NULL) {
            free(bundles[i]);
        }
    }
    free(reports);
    free(bundles);
    dft_buf_release(&html);
    dft_buf_release(&tmp_name);
    return rc;
}
