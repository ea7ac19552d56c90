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


RULES = [v_bare_ov, v_oglu, v_shift, v_turkish, v_ks, v_given, v_subst]


def generate(src, out, seed):
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for f in ("names.tsv", "distractors.tsv"):
        shutil.copy(os.path.join(src, f), os.path.join(out, f))
    _, names = read_tsv(os.path.join(src, "names.tsv"))
    seen = {r[1].lower() for r in names}
    _, dis = read_tsv(os.path.join(src, "distractors.tsv"))
    seen |= {r[0].lower() for r in dis}
    qs = []
    for r in names:
        cluster, variant = r[0], r[1]
        if "(" in variant:
            continue
        words = variant.split(" ")
        for rule in RULES:
            for kind, w in rule(words, rng):
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
