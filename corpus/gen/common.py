"""Shared helpers for the Palisade corpus generators (deterministic, no network)."""
import os
import random
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rng(name):
    """A deterministic random generator per output file."""
    return random.Random("palisade-corpus-" + name)


def escape_line(text):
    """Encodes one payload as one corpus line (see corpus/README.md)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def escape_bytes(data):
    """Encodes raw bytes (may be non-UTF-8) as one corpus line."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b < 0x20 or b >= 0x7F:
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def write(kind, name, lines, limit=None):
    """Writes unique lines, keeping first-seen order."""
    seen = set()
    unique = []
    for line in lines:
        if line and line not in seen:
            seen.add(line)
            unique.append(line)
    if limit is not None:
        unique = unique[:limit]
    path = os.path.join(ROOT, kind, name + ".txt")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in unique:
            f.write(line + "\n")
    print("%-40s %6d lines" % (os.path.relpath(path, ROOT), len(unique)))


def url(text, safe=""):
    return urllib.parse.quote(text, safe=safe)


def url_all(text):
    return "".join("%%%02X" % b for b in text.encode("utf-8"))


def double_url(text):
    return url(url(text))


def plus_spaces(text):
    return text.replace(" ", "+")


def html_dec(text):
    return "".join("&#%d;" % ord(c) for c in text)


def html_hex(text):
    return "".join("&#x%x;" % ord(c) for c in text)


def random_case(r, text):
    return "".join(c.upper() if r.random() < 0.5 else c.lower() for c in text)
