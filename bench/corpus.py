#!/usr/bin/env python3
"""bench/corpus.py: real text for the benchmarks, written to a directory at run time.

    corpus.py wire  N OUTDIR SHARED   N distinct wire articles of ~4 KB (.txt) built from real
                                      sentences: CoNLL-2003 English (Reuters), CoNLL German,
                                      Spanish and Dutch, and the SemEval-2022 news texts
    corpus.py pages N OUTDIR SHARED   the first N news pages (.html) of the trafilatura corpus
    corpus.py synthetic N OUTDIR -    the old 23-word vocabulary articles, for comparison only

SHARED is the shared data directory (../shared/data). Its licences forbid copying the text into
the repository, so nothing here is kept: the bench writes to a temporary directory and removes
it. A wire article looks as agency copy arrives: headline, blank line, "date YYYY-MM-DD", a
dateline ("Brussels -") before the first paragraph, a photo caption with a credit, then
paragraphs of two or three sentences. Article i takes the sentences of one source document (the
headline is its first sentence) and tops it up to ~4 KB with sentences of other documents of the
same language, chosen with a fixed seed, so every article is distinct text and runs repeat.
Prints the number of files and their total size.
"""
import csv
import gzip
import os
import random
import re
import shutil
import sys

TARGET = 3500  # the articles average ~4 KB


def detok(tokens):
    s = " ".join(tokens)
    s = re.sub(r" ([.,;:!?%)\]}])", r"\1", s)
    s = re.sub(r"([(\[{$]) ", r"\1", s)
    s = re.sub(r" (n't|'s|'re|'ve|'ll|'d)\b", r"\1", s)
    s = re.sub(r'" (.*?) "', r'"\1"', s)
    return s


def conll_docs(path, col):
    """Documents (lists of sentences) of a CoNLL file; col is the token column."""
    opener = gzip.open if path.endswith(".gz") else open
    docs, doc, sent = [], [], []
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                if sent:
                    doc.append(detok(sent))
                    sent = []
                if doc:
                    docs.append(doc)
                doc = []
                continue
            if not line.strip():
                if sent:
                    doc.append(detok(sent))
                sent = []
                continue
            sent.append(re.split(r"[ \t]", line)[col])
    if sent:
        doc.append(detok(sent))
    if doc:
        docs.append(doc)
    # Files without document marks: cut into documents of 30 sentences.
    out = []
    for d in docs:
        for i in range(0, len(d), 30):
            part = d[i : i + 30]
            if len(part) >= 5:
                out.append(part)
    return out


def semeval_docs(path):
    """SemEval texts (title and article head) split into sentences, grouped by language."""
    by_lang = {}
    csv.field_size_limit(1 << 24)
    with open(path, encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            for t, lang in (("text1", "lang1"), ("text2", "lang2")):
                text = (row.get(t) or "").strip()
                sents = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
                if len(sents) >= 4:
                    by_lang.setdefault(row[lang], []).append(sents)
    return by_lang


def wire_article(i, doc, pool, rng):
    sents = [s for s in doc if len(s) > 3]
    head = sents[0].rstrip(" .")
    body = sents[1:]
    # CoNLL's Reuters documents open with a "BRUSSELS 1996-08-22" line: use it as the dateline.
    place, date = "Lisbon, Portugal", "2026-02-%02d" % (1 + i % 28)
    for k, s in enumerate(body[:3]):  # a byline may come first
        m = re.match(r"^([A-Z][A-Z .'-]+?)\s+(\d{4}-\d{2}-\d{2})$", s)
        if m:
            place, date = m.group(1).title(), m.group(2)
            body = body[k + 1 :]
            break
    size = len(head) + sum(len(s) + 1 for s in body)
    while size < TARGET:
        other = rng.choice(pool)
        k = rng.randrange(0, max(1, len(other) - 3))
        for s in other[k : k + 3]:
            body.append(s)
            size += len(s) + 1
    paras, cur = [], []
    for s in body:
        cur.append(s)
        if len(cur) >= rng.choice((2, 3)):
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    if not paras:
        paras = [head]
    text = f"{head}\n\n date {date} {place} - {paras[0]}\n\n"
    text += "A view of the scene. \u00a9 Staff Photographer/Pool via REUTERS\n\n"
    text += "\n\n".join(paras[1:]) + "\n"
    return text


def wire(n, out, shared):
    ner = os.path.join(shared, "ner")
    sources = [("en", conll_docs(os.path.join(ner, "conll2003", "train.txt"), 0), 6)]
    for lang in ("de", "es", "nl"):
        p = os.path.join(ner, "multilingual", f"conll-{lang}-train.txt.gz")
        if os.path.exists(p):
            sources.append((lang, conll_docs(p, 0), 1))
    p = os.path.join(shared, "neardup", "semeval2022-task8-train.csv")
    if os.path.exists(p):
        sem = semeval_docs(p)
        for lang in sorted(sem):
            if len(sem[lang]) >= 20:
                sources.append((f"semeval-{lang}", sem[lang], 1))
    wheel = [s for s in sources for _ in range(s[2])]
    rng = random.Random(7)
    used = {}
    for i in range(n):
        name, docs, _ = wheel[i % len(wheel)]
        k = used.get(name, 0)
        used[name] = k + 1
        text = wire_article(i, docs[k % len(docs)], docs, rng)
        with open(os.path.join(out, f"a{i:06d}.txt"), "w", encoding="utf-8") as f:
            f.write(text)
    return {name: used.get(name, 0) for name, _, _ in sources}


def pages(n, out, shared):
    d = os.path.join(shared, "extraction", "trafilatura", "eval")
    names = sorted(x for x in os.listdir(d) if x.endswith(".html"))[:n]
    for i, x in enumerate(names):  # some names have spaces: number them instead
        shutil.copyfile(os.path.join(d, x), os.path.join(out, f"p{i:04d}.html"))
    return {"trafilatura": len(names)}


def synthetic(n, out, _shared):
    rng = random.Random(7)
    words = ("council harbour river minister report budget village railway school market weather "
             "festival bridge station energy water museum court union farmers talks police "
             "election hospital").split()
    for i in range(n):
        paras = [" ".join(rng.choice(words) for _ in range(rng.randint(30, 60))).capitalize() + "."
                 for _ in range(rng.randint(4, 9))]
        text = (f"Benchmark report {i} on the {rng.choice(words)}\n\n date 2026-02-0{1 + i % 9} "
                f"Lisbon, Portugal - {paras[0]}\n\nA view of the site. \u00a9 Rui Sousa/Pool via "
                "REUTERS\n\n" + "\n\n".join(paras[1:]) + "\n")
        with open(os.path.join(out, f"a{i:06d}.txt"), "w") as f:
            f.write(text)
    return {"synthetic": n}


def main():
    kind, n, out, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.makedirs(out, exist_ok=True)
    made = {"wire": wire, "pages": pages, "synthetic": synthetic}[kind](n, out, shared)
    files = os.listdir(out)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in files)
    mix = ", ".join(f"{k} {v}" for k, v in made.items())
    print(f"{len(files)} files, {size / len(files) / 1024:.1f} KB each on average ({mix})")


if __name__ == "__main__":
    main()
