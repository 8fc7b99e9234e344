#!/usr/bin/python3
"""bench/peers/python_pipeline.py: the Python pipeline a user would write in an afternoon, to
measure newswire against on the same pages in the same bench run (bench/pipeline --corpus pages).

    python_pipeline.py DB FILE...

For each HTML page: readability-lxml finds the main text and title (Debian's python3-readability),
lxml turns it into plain text, langdetect names the language (python3-langdetect, seeded so runs
repeat), and the article goes into an SQLite FTS5 table with Python's sqlite3, committed every
100 articles. Plain text files are taken as they are. Prints the count, the CPU seconds of this
process (user + system, from the start of the work; imports excluded) and articles per
CPU-second. Runs with Debian's /usr/bin/python3, where those packages live.
"""
import hashlib
import os
import sqlite3
import sys

import lxml.html
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from readability import Document

DetectorFactory.seed = 0


def cpu():
    t = os.times()
    return t.user + t.system


def main():
    db, files = sys.argv[1], sys.argv[2:]
    start = cpu()
    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS articles USING fts5(id UNINDEXED, title, "
                "lang UNINDEXED, text)")
    done = failed = 0
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        try:
            if path.endswith(".html"):
                doc = Document(raw)
                title = doc.short_title()
                text = lxml.html.fromstring(doc.summary()).text_content()
            else:
                text = raw.decode("utf-8", "replace")
                title = text.split("\n", 1)[0]
            text = " ".join(text.split())
            try:
                lang = detect(text) if text else "und"
            except LangDetectException:
                lang = "und"
            aid = hashlib.sha256(raw).hexdigest()[:32]
            con.execute("INSERT INTO articles VALUES (?, ?, ?, ?)", (aid, title, lang, text))
            done += 1
        except Exception as e:  # a page readability cannot read counts as failed, as in ours
            print(f"{os.path.basename(path)}: {e}", file=sys.stderr)
            failed += 1
        if done % 100 == 0:
            con.commit()
    con.commit()
    con.close()
    used = cpu() - start
    print(f"articles={done} failed={failed} cpu_s={used:.3f} per_cpu_s={done / used:.1f}")


if __name__ == "__main__":
    main()
