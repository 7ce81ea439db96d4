"""Runs libinjection (is_sql_injection / is_xss) over the Palisade corpus and
prints its per-class TPR and per-file FPR next to Palisade's eval JSON.

usage: compare.py CORPUS_DIR PALISADE_EVAL_JSON
libinjection sees each input raw and after URL (repeated) and HTML-entity
decoding; an input counts as flagged when any of those views is flagged
(the same courtesy Palisade's normaliser gets)."""
import html
import json
import os
import sys
import urllib.parse

import libinjection


def unescape_line(line):
    """Corpus line escapes (corpus/README.md) -> bytes."""
    out = bytearray()
    data = line.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(data):
        b = data[i]
        if b != 0x5C or i + 1 == len(data):
            out.append(b)
            i += 1
            continue
        n = data[i + 1]
        simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("0"): 0, 0x5C: 0x5C}
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n == ord("x") and i + 3 < len(data) + 0 and all(chr(c) in "0123456789abcdefABCDEF" for c in data[i + 2:i + 4]) and len(data[i + 2:i + 4]) == 2:
            out.append(int(data[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b)
            i += 1
    return bytes(out)


def read_lines(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return [unescape_line(line.rstrip("\n").rstrip("\r")) for line in f if line.rstrip("\r\n")]


def views(data):
    text = data.decode("utf-8", "replace")
    seen = [text]
    current = text
    for _ in range(4):
        decoded = urllib.parse.unquote_plus(current) if _ == 0 else urllib.parse.unquote(current)
        if decoded == current:
            break
        current = decoded
        seen.append(current)
    seen.append(html.unescape(current))
    return [v.replace("\x00", "") for v in dict.fromkeys(seen)]


def flags(data):
    sqli = xss = False
    for v in views(data):
        sqli = sqli or libinjection.is_sql_injection(v)["is_sqli"]
        xss = xss or libinjection.is_xss(v)["is_xss"]
    return sqli, xss


def main():
    corpus, palisade_json = sys.argv[1], sys.argv[2]
    with open(palisade_json) as f:
        palisade = json.load(f)
    p_attacks = {row["class"]: row for row in palisade["attacks"]}
    p_benign = {row["file"]: row for row in palisade["benign"]}
    print("%-22s %7s | %-28s | %-20s" % ("attack class", "lines", "libinjection TPR (sqli/xss/any)", "palisade TPR (any/right)"))
    total = detected = 0
    for name in sorted(os.listdir(os.path.join(corpus, "attacks"))):
        if not name.endswith(".txt"):
            continue
        cls = name[:-4]
        lines = read_lines(os.path.join(corpus, "attacks", name))
        results = [flags(x) for x in lines]
        s = sum(1 for a, _ in results if a)
        x = sum(1 for _, b in results if b)
        a = sum(1 for r in results if r[0] or r[1])
        total += len(lines)
        detected += a
        p = p_attacks.get(cls, {})
        print("%-22s %7d | %8.2f%% %8.2f%% %8.2f%% | %8.2f%% %8.2f%%" % (cls, len(lines), 100 * s / len(lines), 100 * x / len(lines), 100 * a / len(lines),
                                                                   100 * p.get("tpr", 0), 100 * p.get("tpr_right_class", 0)))
    print("%-22s %7d | %26.2f%% | %8.2f%%" % ("ALL ATTACKS", total, 100 * detected / max(total, 1), 100 * palisade["tpr"]))
    print()
    print("%-22s %7s | %-28s | %-10s" % ("benign file", "lines", "libinjection FPR (any)", "palisade FPR"))
    btotal = bflag = 0
    for name in sorted(os.listdir(os.path.join(corpus, "benign"))):
        if not name.endswith(".txt"):
            continue
        lines = read_lines(os.path.join(corpus, "benign", name))
        flagged = sum(1 for x in lines if any(flags(x)))
        btotal += len(lines)
        bflag += flagged
        p = p_benign.get(name, {})
        print("%-22s %7d | %26.2f%% | %8.2f%%" % (name, len(lines), 100 * flagged / len(lines), 100 * p.get("fpr", 0)))
    print("%-22s %7d | %26.2f%% | %8.2f%%" % ("ALL BENIGN", btotal, 100 * bflag / max(btotal, 1), 100 * palisade["fpr"]))


if __name__ == "__main__":
    main()
