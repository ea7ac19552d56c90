#!/usr/bin/env python3
"""search_variants.py - new queries for the search dev set, made by rule from its spellings.

    python3 bench/search_variants.py [--dir data/search-dev] [--out DIR] [--seed N]

Writes DIR/names.tsv and DIR/distractors.tsv (copies) and DIR/queries.tsv: for every spelling
of names.tsv, each family of the issue-15 misses applied by rule (never per name):

  bare / ov      a Russified surname without its suffix, a bare one with -ov/-ev (-ova/-eva)
  oglu           -ov/-ev replaced by -oğlu / -oglu / -ogly / -uly (Latin only)
  shift          a/e shifted in the root of a suffixed surname (Latin and Cyrillic)
  turkish        Turkish letters for the Latin digraphs: ch = ç, sh = ş, dzh/j = c, kh = h
  ks             Latin ks written x, x written ks
  given          Ukrainian / Russian given-name correspondences: h/g, y/i, -iy/-ii/-yi, i/e,o
  subst          one letter of a Cyrillic surname substituted (not the first)
  oglu_edit      the -oğlu form of a Russified surname with one root consonant changed by the
                 romanisations (k/kh/h, t/d at the root's end): Aktemov -> Akhtemoğlu
  turkish2       Turkish letters of the whole Crimean Tatar stem, ı for y between consonants and
                 ğ for g between vowels too, with -ov/-ev as -oğlu: Kyrymov -> Kırımoğlu
  ovol           Ukrainian o + v against Russian o + l before a consonant in the first syllable
                 (Vovk / Volk), and the adjective ending -yi/-iy/-ий against -oy/-ой
  given2         a given name carried whole into the other language by every rule at once:
                 h/g, y/i, -iy/-ii/-yi, the initial O/E/Ye before l, closed-syllable i/o/e,
                 final -o, x/ks (Hryhoriy -> Grigori, Fedir -> Fedor, Olena -> Yelena)

Then `build/release/bench/search_dev --dir DIR --run RUN.tsv` and `score.py`-style scoring
with --score (this script) prints, per family, how often the person is in the top 10 and first.
Generated queries may legitimately be another person's spelling; read the misses by hand.
Nothing here is used by the library or its tests: it only finds families that still slip.
"""
import argparse
import csv
import os
import random
import shutil
import sys

LAT_VOW = set("aeiouyAEIOUYäöüıâ")


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], rows[1:]


def is_cyr(s):
    return any("\u0400" <= c <= "\u04ff" for c in s)


def split_suffix(w):
    """(root, suffix) of a Russified surname, in either script; suffix '' when bare."""
    lw = w.lower()
    for suf in ("ovich", "evich", "ovna", "evna", "ova", "eva", "ov", "ev",
                "ович", "евич", "овна", "евна", "ова", "ева", "ёва", "єва", "ов", "ев", "ёв", "єв",
                "yeva", "ieva", "yev", "iev"):
        if lw.endswith(suf) and len(lw) - len(suf) >= 3:
            return w[: len(w) - len(suf)], w[len(w) - len(suf):]
    return w, ""


def fem(given):
    g = given.lower()
    return g.endswith(("a", "e", "ya", "ia", "а", "я", "е")) and not g.endswith(("ma", "ba"))


SLAVIC_ENDINGS = ("in", "yn", "ina", "yna", "sky", "ski", "ska", "skaya", "ko", "uk", "yk", "ik",
                  "ин", "ын", "ина", "ына", "ский", "ська", "ская", "ко", "ук", "ик", "юк", "ь")


def v_bare_ov(words, rng):
    out = []
    sur = words[-1]
    root, suf = split_suffix(sur)
    if suf and not suf.lower().startswith(("ovi", "evi", "ovn", "evn", "ови", "еви", "овн", "евн")):
        out.append(("bare", words[:-1] + [root]))
    elif not suf:
        # only bare surnames as Crimean Tatar or Turkish ones end: not Slavic forms or vowels
        if sur.lower().endswith(SLAVIC_ENDINGS) or sur[-1].lower() in "aeiouyаеиоуыэюяіє":
            return out
        cyr = is_cyr(sur)
        f = fem(words[0])
        last = sur[-1].lower()
        vowel_end = last in "aeiouyаеиоуыэюяіє"
        if cyr:
            add = ("ева" if f else "ев") if vowel_end else ("ова" if f else "ов")
        else:
            add = ("eva" if f else "ev") if vowel_end else ("ova" if f else "ov")
        out.append(("ov", words[:-1] + [sur + add]))
    return out


def v_oglu(words, rng):
    sur = words[-1]
    if is_cyr(sur):
        return []
    root, suf = split_suffix(sur)
    if suf.lower() not in ("ov", "ev", "yev", "iev"):
        return []
    if suf.lower() in ("yev", "iev"):
        root += suf[0]
    forms = ["oğlu", "oglu", "ogly", "uly"]
    return [("oglu", words[:-1] + [root + rng.choice(forms)])]


def v_shift(words, rng):
    sur = words[-1]
    root, suf = split_suffix(sur)
    if not suf or len(root) < 4:
        return []
    pairs = {"a": "e", "e": "a", "а": "е", "е": "а", "я": "е"}
    idx = [i for i, c in enumerate(root) if c in pairs and i > 0]
    if not idx:
        return []
    i = rng.choice(idx)
    new = root[:i] + pairs[root[i]] + root[i + 1:]
    return [("shift", words[:-1] + [new + suf])]


def v_turkish(words, rng):
    if any(is_cyr(w) for w in words):
        return []
    s = " ".join(words)
    t = s.replace("dzh", "c").replace("Dzh", "C").replace("ch", "ç").replace("Ch", "Ç")
    t = t.replace("sh", "ş").replace("Sh", "Ş").replace("kh", "h").replace("Kh", "H")
    if t == s:
        return []
    return [("turkish", t.split(" "))]


def v_ks(words, rng):
    if any(is_cyr(w) for w in words):
        return []
    s = " ".join(words)
    if "ks" in s or "Ks" in s:
        t = s.replace("ks", "x").replace("Ks", "X")
    elif "x" in s:
        t = s.replace("x", "ks")
    else:
        return []
    return [("ks", t.split(" "))]


def v_given(words, rng):
    g = words[0]
    if is_cyr(g) or len(words) < 2:
        return []
    t = g
    lo = g.lower()
    # endings -iy / -ii / -yi / -y
    for a, b in (("iy", "ii"), ("ii", "yi"), ("yi", "iy"), ("ij", "iy")):
        if lo.endswith(a):
            t = g[: -len(a)] + b
            break
    else:
        if "h" in lo[1:] and "kh" not in lo and "sh" not in lo and "ch" not in lo and "zh" not in lo:
            t = g.replace("h", "g")
        elif g[0] in "Hh" and g[1:2] not in ("", "a", "e"):
            t = "G" + g[1:]
        elif g[0] == "G":
            t = "H" + g[1:]
        elif "y" in lo[1:]:
            t = g[0] + g[1:].replace("y", "i")
        elif "i" in lo[1:]:
            t = g[0] + g[1:].replace("i", "y")
    if t == g:
        return []
    return [("given", [t] + words[1:])]


# the Russian / Ukrainian keyboard: a substituted letter is a neighbouring key
ROWS = ["йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"]


def neighbours(c):
    for r, row in enumerate(ROWS):
        i = row.find(c)
        if i < 0:
            continue
        out = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
        for rr in (r - 1, r + 1):
            if 0 <= rr < len(ROWS):
                out += [ROWS[rr][j] for j in (i - 1, i, i + 1) if 0 <= j < len(ROWS[rr])]
        return [x for x in out if x not in "ъь"]
    return []


def v_subst(words, rng):
    sur = words[-1]
    if not is_cyr(sur) or len(sur) < 5:
        return []
    i = rng.randrange(1, len(sur) - 1)
    ns = neighbours(sur[i].lower())
    if not ns:
        return []
    return [("subst", words[:-1] + [sur[:i] + rng.choice(ns) + sur[i + 1:]])]


def v_oglu_edit(words, rng):
    sur = words[-1]
    if is_cyr(sur):
        return []
    root, suf = split_suffix(sur)
    if suf.lower() not in ("ov", "ev") or len(root) < 5:
        return []
    lo = root.lower()
    cands = []
    for i in range(1, len(lo)):
        if lo[i:i + 2] == "kh":
            cands.append(root[:i] + "k" + root[i + 2:])
        elif lo[i] == "k" and lo[i - 1] != "k":
            cands.append(root[:i] + "kh" + root[i + 1:])
        elif lo[i] == "h" and lo[i - 1] not in "kszc":
            cands.append(root[:i] + "kh" + root[i + 1:])
    if lo[-1] == "t":
        cands.append(root[:-1] + "d")
    elif lo[-1] == "d":
        cands.append(root[:-1] + "t")
    if not cands:
        return []
    return [("oglu_edit", words[:-1] + [rng.choice(cands) + "oğlu"])]


def turkish_letters(w):
    t = w.replace("dzh", "c").replace("Dzh", "C").replace("ch", "ç").replace("Ch", "Ç")
    t = t.replace("sh", "ş").replace("Sh", "Ş").replace("kh", "h").replace("Kh", "H")
    t = t.replace("zh", "j").replace("Zh", "J")
    out = list(t)
    vow = "aeiouıöüâAEIOU"
    for i in range(1, len(out) - 1):
        if out[i] == "y" and out[i - 1] not in vow and out[i + 1] not in vow:
            out[i] = "ı"
        elif out[i] == "g" and out[i - 1] in vow and out[i + 1] in vow:
            out[i] = "ğ"
    return "".join(out)


def v_turkish2(words, rng):
    if any(is_cyr(w) for w in words) or len(words) < 2:
        return []
    sur = words[-1]
    root, suf = split_suffix(sur)
    if suf.lower() in ("ov", "ev"):
        sur = root + "oğlu"
    elif suf.lower() in ("yev", "iev"):
        sur = root + "ioğlu"
    t = [turkish_letters(w) for w in words[:-1]] + [turkish_letters(sur)]
    if t == words:
        return []
    return [("turkish2", t)]


def v_ovol(words, rng):
    sur = words[-1]
    out = []
    lo = sur.lower()
    cyr = is_cyr(sur)
    vow = "аеиоуыэюяіє" if cyr else "aeiouy"
    o, v, l = ("о", "в", "л") if cyr else ("o", "v", "l")
    first = next((i for i, c in enumerate(lo) if c in vow), -1)
    if first > 0 and first + 2 < len(lo) and lo[first] == o and lo[first + 2] not in vow:
        if lo[first + 1] == l:
            out.append(sur[:first + 1] + v + sur[first + 2:])
        elif lo[first + 1] == v and lo[first + 2] != v:
            out.append(sur[:first + 1] + l + sur[first + 2:])
    for a, b in (("ий", "ой"), ("ой", "ий"), ("yi", "oy"), ("iy", "oy"), ("oy", "yi")):
        if lo.endswith(a) and len(lo) >= 5:
            out.append(sur[: -len(a)] + b)
            break
    return [("ovol", words[:-1] + [w]) for w in out[:1]]


def ukr_to_rus(g, rng):
    lo = g.lower()
    t = g
    if lo.startswith("olek"):
        t = "Al" + t[2:]
    elif lo.startswith("ole") and lo.endswith("a"):
        t = rng.choice(("Yel", "El")) + t[2:]
    if "kh" not in lo and "sh" not in lo and "zh" not in lo:
        t = t.replace("h", "g").replace("H", "G")
    # closed final syllable i -> o (Fedir / Fedor, Yakiv / Yakov); y (и) stays a vowel of its own
    if len(t) >= 4 and t[-2] == "i" and t[-1] not in "aeiouy" and t[-3] not in "aeiouy":
        t = t[:-2] + "o" + t[-1]
    t = t[0] + t[1:].replace("y", "i")
    if t.endswith("ii"):
        t = t[:-2] + rng.choice(("iy", "i"))
    return t.replace("ks", "x")


def rus_to_ukr(g, rng):
    lo = g.lower()
    t = g
    for p in ("Yel", "El"):
        if t.startswith(p) and lo.endswith("a") and len(t) > 4:
            t = "Ol" + t[len(p):]
            break
    if lo.startswith("alek"):
        t = "Ol" + t[2:]
    if "kh" not in lo:
        t = t.replace("g", "h").replace("G", "H")
    t = t.replace("x", "ks")
    if t.endswith(("iy", "ii", "ei", "ey")) and len(t) >= 5:
        t = t[:-2] + "ii"
    elif t.endswith("y") and len(t) >= 5:
        t = t[:-1] + "ii"
    elif len(t) >= 4 and t[-2] == "o" and t[-1] not in "aeiouy" and t[-3] not in "aeiouy":
        t = t[:-2] + "i" + t[-1]  # Fedor / Fedir
    body = "".join("y" if c == "i" and (j + 1 >= len(t) - 2 or t[j + 2] not in "aeiou") else c
                   for j, c in enumerate(t[1:-2]))
    return t[0] + body + t[-2:]


SLAVIC_GIVEN = set()  # clusters whose given name changes between Ukrainian and Russian


def v_given2(words, rng, cluster=None):
    g = words[0]
    if is_cyr(g) or len(words) < 2 or cluster not in SLAVIC_GIVEN or split_suffix(g)[1]:
        return []
    lo = g.lower()
    ukr = ("h" in lo and "kh" not in lo and "sh" not in lo) or "y" in lo[1:] or lo.endswith("ii")
    t = ukr_to_rus(g, rng) if ukr else rus_to_ukr(g, rng)
    if t == g or len(t) < 3:
        return []
    return [("given2", [t] + words[1:])]


RULES = [v_bare_ov, v_oglu, v_shift, v_turkish, v_ks, v_given, v_subst, v_oglu_edit, v_turkish2,
         v_ovol, v_given2]


def generate(src, out, seed):
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for f in ("names.tsv", "distractors.tsv"):
        shutil.copy(os.path.join(src, f), os.path.join(out, f))
    _, names = read_tsv(os.path.join(src, "names.tsv"))
    seen = {r[1].lower() for r in names}
    _, dis = read_tsv(os.path.join(src, "distractors.tsv"))
    seen |= {r[0].lower() for r in dis}
    given = {}
    for r in names:
        w = r[1].split(" ")
        if len(w) >= 2 and len(r) > 3:
            given.setdefault(r[0], {}).setdefault(r[3], set()).add(w[0].lower())
    for cl, by in given.items():
        # a given name carried into the other language, not only romanised differently
        if "uk" in by and by["uk"] - set().union(*(v for k, v in by.items() if k != "uk")):
            SLAVIC_GIVEN.add(cl)
    qs = []
    for r in names:
        cluster, variant = r[0], r[1]
        if "(" in variant:
            continue
        words = variant.split(" ")
        for rule in RULES:
            got = rule(words, rng, cluster) if rule is v_given2 else rule(words, rng)
            for kind, w in got:
                q = " ".join(w)
                if q.lower() in seen:
                    continue
                seen.add(q.lower())
                qs.append((q, cluster, kind))
    with open(os.path.join(out, "queries.tsv"), "w", encoding="utf-8") as f:
        f.write("query\texpected_cluster_id\tkind\n")
        for q in qs:
            f.write("\t".join(q) + "\n")
    print(f"{len(qs)} queries in {out}/queries.tsv")


def score(out, run):
    _, names = read_tsv(os.path.join(out, "names.tsv"))
    _, qs = read_tsv(os.path.join(out, "queries.tsv"))
    owner = {}
    for r in names:
        owner[r[1]] = r[0]
    hits = {}
    with open(run, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            hits.setdefault(int(p[0]), []).append(p[2])
    _, dis = read_tsv(os.path.join(out, "distractors.tsv"))
    distractor = {r[0] for r in dis}
    size = {}
    for r in names:
        size[r[0]] = size.get(r[0], 0) + 1
    fam = {}
    for i, (q, cl, kind) in enumerate(qs, 1):
        h = hits.get(i, [])
        own = [owner.get(t) == cl for t in h[:10]]
        R = size[cl]
        found = len({t for t in h[:10] if owner.get(t) == cl})
        rprec = sum(owner.get(t) == cl for t in h[:R]) / R
        st = fam.setdefault(kind, [0, 0, 0, 0.0, 0.0, 0])
        st[0] += 1
        st[1] += any(own)
        st[2] += bool(own) and own[0]
        st[3] += found / R
        st[4] += rprec
        dis_hit = [t for t in h[:R] if t in distractor]
        st[5] += bool(dis_hit)
        if dis_hit:
            print(f"  DISTRACTOR [{kind}] {q} ({cl}) R {R} -> {dis_hit}")
        if not any(own) or not own[0] or rprec < 1.0:
            print(f"  {'MISS' if not any(own) else 'LOW '} [{kind}] {q} ({cl}) R {R} "
                  f"rprec {rprec:.2f} -> {h[:R]}")
    for k, (n, r10, h1, vr, rp, ds) in sorted(fam.items()):
        print(f"{k:10s} n {n:4d} recall@10 {r10 / n:.3f} hit@1 {h1 / n:.3f} "
              f"variant_recall@10 {vr / n:.3f} R_prec {rp / n:.3f} distr@R {ds / n:.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="data/search-dev")
    ap.add_argument("--out", default="/tmp/search-variants")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--score", metavar="RUN.tsv")
    a = ap.parse_args()
    if a.score:
        score(a.out, a.score)
    else:
        generate(a.dir, a.out, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
