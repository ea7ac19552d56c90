/*
 * policy.c - the C2SP tlog-policy format: parsing, quorum evaluation and printing.
 *
 * Whitespace is ASCII space and tab only; blank lines and lines starting with '#' are ignored;
 * control characters other than tab and newline are refused. This file must never accept a
 * quorum that refers to something undefined or a group that could count a witness twice.
 */
#include <string.h>

#include "log/policy.h"

#define TOKENS_MAX (3 + POLICY_MEMBERS_MAX + 1)

struct tok {
    const char *s;
    size_t n;
};

static int
is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static size_t
split(const char *line, size_t len, struct tok *t, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && is_ws(line[i])) {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && !is_ws(line[i])) {
            i++;
        }
        if (n == max) {
            return max + 1;
        }
        t[n].s = line + start;
        t[n].n = i - start;
        n++;
    }
    return n;
}

static int
tok_is(const struct tok *t, const char *s)
{
    return t->n == strlen(s) && memcmp(t->s, s, t->n) == 0;
}

/* Find a name: >= 0 witness, < 0 group ref, or 1 << 30 when undefined. */
static int
lookup(const struct policy *p, const struct tok *t)
{
    for (size_t i = 0; i < p->nwitnesses; i++) {
        if (tok_is(t, p->witnesses[i].name)) {
            return (int)i;
        }
    }
    for (size_t i = 0; i < p->ngroups; i++) {
        if (tok_is(t, p->groups[i].name)) {
            return -(int)i - 1;
        }
    }
    return 1 << 30;
}

static enum dft_err
parse_vkey(struct dft_note_verifier *v, const struct tok *t, unsigned char alg, size_t lineno,
           struct dft_error *err)
{
    if (note_verifier_parse(v, t->s, t->n, NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: bad vkey", lineno);
    }
    if (v->alg != alg) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: a %s key must have type 0x%02x",
                        lineno, alg == DFT_NOTE_ALG_ED25519 ? "log" : "witness", alg);
    }
    return DFT_OK;
}

static enum dft_err
copy_url(char out[POLICY_URL_MAX], const struct tok *t, size_t lineno, struct dft_error *err)
{
    if (t->n >= POLICY_URL_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: URL is too long", lineno);
    }
    memcpy(out, t->s, t->n);
    out[t->n] = '\0';
    return DFT_OK;
}

static enum dft_err
check_name(const struct policy *p, const struct tok *t, size_t lineno, struct dft_error *err)
{
    if (t->n >= POLICY_NAME_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: name is too long", lineno);
    }
    if (tok_is(t, "none")) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: 'none' is a reserved name", lineno);
    }
    if (lookup(p, t) != 1 << 30) {
        return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: '%.*s' is defined twice", lineno,
                        (int)(t->n > 64 ? 64 : t->n), t->s);
    }
    return DFT_OK;
}

static enum dft_err
parse_line(struct policy *p, const struct tok *t, size_t nt, size_t lineno, int *have_quorum,
           struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (tok_is(&t[0], "log")) {
        if (nt < 2 || nt > 3) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: log needs VKEY [URL]", lineno);
        }
        if (p->nlogs == POLICY_LOGS_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: more than %d logs", lineno,
                            POLICY_LOGS_MAX);
        }
        struct policy_log *l = &p->logs[p->nlogs];
        if ((rc = parse_vkey(&l->key, &t[1], DFT_NOTE_ALG_ED25519, lineno, err)) != DFT_OK ||
            (nt == 3 && (rc = copy_url(l->url, &t[2], lineno, err)) != DFT_OK)) {
            return rc;
        }
        for (size_t i = 0; i < p->nlogs; i++) {
            if (memcmp(p->logs[i].key.pub, l->key.pub, 32) == 0) {
                return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: duplicate log key", lineno);
            }
        }
        p->nlogs++;
        return DFT_OK;
    }
    if (tok_is(&t[0], "witness")) {
        if (nt < 3 || nt > 4) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: witness needs NAME VKEY [URL]",
                            lineno);
        }
        if (p->nwitnesses == POLICY_WITNESS_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: more than %d witnesses", lineno,
                            POLICY_WITNESS_MAX);
        }
        struct policy_witness *w = &p->witnesses[p->nwitnesses];
        if ((rc = check_name(p, &t[1], lineno, err)) != DFT_OK ||
            (rc = parse_vkey(&w->key, &t[2], DFT_NOTE_ALG_COSIG_V1, lineno, err)) != DFT_OK ||
            (nt == 4 && (rc = copy_url(w->url, &t[3], lineno, err)) != DFT_OK)) {
            return rc;
        }
        for (size_t i = 0; i < p->nwitnesses; i++) {
            if (memcmp(p->witnesses[i].key.pub, w->key.pub, 32) == 0) {
                return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: duplicate witness key",
                                lineno);
            }
        }
        memcpy(w->name, t[1].s, t[1].n);
        w->name[t[1].n] = '\0';
        p->nwitnesses++;
        return DFT_OK;
    }
    if (tok_is(&t[0], "group")) {
        if (nt < 4) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "policy line %zu: group needs NAME all|any|K and members", lineno);
        }
        if (nt - 3 > POLICY_MEMBERS_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: more than %d members", lineno,
                            POLICY_MEMBERS_MAX);
        }
        if (p->ngroups == POLICY_GROUPS_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: more than %d groups", lineno,
                            POLICY_GROUPS_MAX);
        }
        struct policy_group *g = &p->groups[p->ngroups];
        if ((rc = check_name(p, &t[1], lineno, err)) != DFT_OK) {
            return rc;
        }
        g->n = (unsigned)(nt - 3);
        for (size_t i = 3; i < nt; i++) {
            int ref = lookup(p, &t[i]);
            if (ref == 1 << 30) {
                return dft_fail(err, DFT_ERR_INPUT,
                                "policy line %zu: member '%.*s' is not defined above", lineno,
                                (int)(t[i].n > 64 ? 64 : t[i].n), t[i].s);
            }
            for (size_t j = 0; j < i - 3; j++) {
                if (g->members[j] == ref) {
                    return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: a member appears twice",
                                    lineno);
                }
            }
            g->members[i - 3] = ref;
        }
        uint64_t k = 0;
        if (tok_is(&t[2], "all")) {
            k = g->n;
        } else if (tok_is(&t[2], "any")) {
            k = 1;
        } else {
            k = 0;
            for (size_t i = 0; i < t[2].n; i++) {
                if (t[2].s[i] < '0' || t[2].s[i] > '9' || (i == 0 && t[2].s[i] == '0') || i >= 6) {
                    k = 0;
                    break;
                }
                k = k * 10 + (uint64_t)(t[2].s[i] - '0');
            }
            if (k < 1 || k > g->n) {
                return dft_fail(err, DFT_ERR_INPUT,
                                "policy line %zu: threshold must be all, any or 1 to %u", lineno,
                                g->n);
            }
        }
        g->k = (unsigned)k;
        memcpy(g->name, t[1].s, t[1].n);
        g->name[t[1].n] = '\0';
        p->ngroups++;
        return DFT_OK;
    }
    if (tok_is(&t[0], "quorum")) {
        if (nt != 2) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: quorum needs one NAME", lineno);
        }
        if (*have_quorum) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: a second quorum line", lineno);
        }
        if (tok_is(&t[1], "none")) {
            p->quorum = POLICY_NONE;
        } else {
            p->quorum = lookup(p, &t[1]);
            if (p->quorum == 1 << 30) {
                return dft_fail(err, DFT_ERR_INPUT,
                                "policy line %zu: quorum '%.*s' is not defined above", lineno,
                                (int)(t[1].n > 64 ? 64 : t[1].n), t[1].s);
            }
        }
        *have_quorum = 1;
        return DFT_OK;
    }
    return dft_fail(err, DFT_ERR_INPUT, "policy line %zu: unknown keyword '%.*s'", lineno,
                    (int)(t[0].n > 32 ? 32 : t[0].n), t[0].s);
}

enum dft_err
policy_parse(struct policy *p, const char *text, size_t len, struct dft_error *err)
{
    struct tok t[TOKENS_MAX];
    int have_quorum = 0;
    size_t lineno = 0, pos = 0;
    memset(p, 0, sizeof *p);
    if (len > POLICY_BYTES_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "policy is larger than %u bytes", POLICY_BYTES_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            return dft_fail(err, DFT_ERR_INPUT, "policy has a control character");
        }
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += line_len + 1;
        lineno++;
        size_t nt = split(line, line_len, t, TOKENS_MAX);
        if (nt == 0 || t[0].s[0] == '#') {
            continue;
        }
        if (nt > TOKENS_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "policy line %zu has too many items", lineno);
        }
        enum dft_err rc = parse_line(p, t, nt, lineno, &have_quorum, err);
        if (rc != DFT_OK) {
            memset(p, 0, sizeof *p);
            return rc;
        }
    }
    if (!have_quorum) {
        memset(p, 0, sizeof *p);
        return dft_fail(err, DFT_ERR_INPUT, "policy has no quorum line");
    }
    return DFT_OK;
}

static int
ref_met(const struct policy *p, int ref, const int *cosigned, int depth)
{
    if (ref >= 0) {
        return cosigned[ref] != 0;
    }
    if (depth > POLICY_GROUPS_MAX) {
        return 0; /* cannot happen: groups only refer to earlier groups */
    }
    const struct policy_group *g = &p->groups[-ref - 1];
    unsigned got = 0;
    for (unsigned i = 0; i < g->n; i++) {
        got += (unsigned)ref_met(p, g->members[i], cosigned, depth + 1);
    }
    return got >= g->k;
}

int
policy_met(const struct policy *p, const int *cosigned)
{
    return p->quorum == POLICY_NONE || ref_met(p, p->quorum, cosigned, 0);
}

static unsigned
ref_min(const struct policy *p, int ref, int depth)
{
    if (ref >= 0) {
        return 1;
    }
    if (depth > POLICY_GROUPS_MAX) {
        return 0;
    }
    const struct policy_group *g = &p->groups[-ref - 1];
    unsigned costs[POLICY_MEMBERS_MAX];
    for (unsigned i = 0; i < g->n; i++) {
        costs[i] = ref_min(p, g->members[i], depth + 1);
    }
    /* the k cheapest members (a lower bound when groups share witnesses) */
    unsigned sum = 0;
    for (unsigned j = 0; j < g->k; j++) {
        unsigned best = 0;
        for (unsigned i = 1; i < g->n; i++) {
            if (costs[i] < costs[best]) {
                best = i;
            }
        }
        sum += costs[best];
        costs[best] = ~0u / 2;
    }
    return sum;
}

unsigned
policy_min_cosignatures(const struct policy *p)
{
    if (p->quorum == POLICY_NONE) {
        return 0;
    }
    unsigned m = ref_min(p, p->quorum, 0);
    return m > p->nwitnesses ? (unsigned)p->nwitnesses : m;
}

static const char *
ref_name(const struct policy *p, int ref)
{
    return ref >= 0 ? p->witnesses[ref].name : p->groups[-ref - 1].name;
}

enum dft_err
policy_format(const struct policy *p, struct dft_buf *out, struct dft_error *err)
{
    int bad = 0;
    for (size_t i = 0; i < p->nlogs; i++) {
        char vk[DFT_NOTE_VKEY_MAX];
        note_verifier_format(&p->logs[i].key, vk);
        bad |= dft_buf_addf(out, "log %s%s%s\n", vk, p->logs[i].url[0] ? " " : "",
                            p->logs[i].url) != DFT_OK;
    }
    for (size_t i = 0; i < p->nwitnesses; i++) {
        char vk[DFT_NOTE_VKEY_MAX];
        note_verifier_format(&p->witnesses[i].key, vk);
        bad |= dft_buf_addf(out, "witness %s %s%s%s\n", p->witnesses[i].name, vk,
                            p->witnesses[i].url[0] ? " " : "", p->witnesses[i].url) != DFT_OK;
    }
    for (size_t i = 0; i < p->ngroups; i++) {
        const struct policy_group *g = &p->groups[i];
        bad |= dft_buf_addf(out, "group %s %u", g->name, g->k) != DFT_OK;
        for (unsigned j = 0; j < g->n; j++) {
            bad |= dft_buf_addf(out, " %s", ref_name(p, g->members[j])) != DFT_OK;
        }
        bad |= dft_buf_add(out, "\n", 1) != DFT_OK;
    }
    bad |= dft_buf_addf(out, "quorum %s\n",
                        p->quorum == POLICY_NONE ? "none" : ref_name(p, p->quorum)) != DFT_OK;
    return bad ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
}
