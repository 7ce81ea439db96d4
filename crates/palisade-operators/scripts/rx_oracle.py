#!/usr/bin/env python3
"""Differential check of Palisade's @rx against Python's `re` (a PCRE-like
backtracking engine) on every CRS @rx pattern and the go-ftw test payloads.

Development aid only (not run by `cargo test`). Python `re` differs from PCRE
in a few documented ways (`x{,n}` is a quantifier in Python, a literal in
PCRE; POSIX classes are unsupported); such patterns are reported as skipped.

Usage: PALISADE_CRS_DIR=/work/shared/crs python3 scripts/rx_oracle.py [--time] [--benign]
(--benign: ordinary values instead of the go-ftw attack payloads)
Needs PyYAML. Runs `cargo run --example rx_eval` (dependencies are built
with opt-level 2 in the dev profile, so the regex engines run optimised).
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

import yaml

crs = os.environ.get("PALISADE_CRS_DIR")
if not crs:
    sys.exit("SKIPPED: PALISADE_CRS_DIR not set")


def rx_patterns():
    patterns = []
    for path in sorted(glob.glob(os.path.join(crs, "rules", "*.conf"))):
        text = open(path, encoding="utf-8").read().replace("\\\n", "")
        for match in re.finditer(r'"!?@rx ((?:[^"\\]|\\.)*)"', text):
            patterns.append(match.group(1).encode())
    return patterns


def payloads():
    found = set()
    for path in glob.glob(os.path.join(crs, "tests", "regression", "tests", "**", "*.yaml"), recursive=True):
        try:
            doc = yaml.safe_load(open(path, encoding="utf-8", errors="surrogateescape"))
        except yaml.YAMLError:
            continue
        for test in (doc or {}).get("tests", []) or []:
            for stage in test.get("stages", []) or []:
                data = stage.get("input", {}) or {}
                values = [data.get("uri"), data.get("data")]
                values += list((data.get("headers") or {}).values())
                for value in values:
                    if isinstance(value, list):
                        value = "".join(str(v) for v in value)
                    if value is None:
                        continue
                    raw = str(value).encode("utf-8", "surrogateescape")
                    found.add(raw)
                    decoded = urllib.parse.unquote_to_bytes(raw.replace(b"+", b" "))
                    found.add(decoded)
                    found.add(decoded.lower())
    return sorted(found)


def to_python(pattern):
    """Rewrites PCRE syntax Python spells differently (same meaning)."""
    pattern = re.sub(rb"\\x\{([0-9a-fA-F]{2})\}", rb"\\x\1", pattern)
    pattern = re.sub(rb"(?<!\\)\\z", rb"\\Z", pattern)  # PCRE \z is Python \Z
    if pattern.startswith(b"^(?i)"):
        pattern = b"(?i)^" + pattern[5:]
    return pattern


def benign_inputs():
    """Ordinary request values: license prose, URLs, numbers, identifiers."""
    values = set()
    for path in glob.glob("/usr/share/common-licenses/*")[:20]:
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.strip()
            if line:
                values.add(line.encode())
    for i in range(500):
        values.add(f"/shop/products/{i}/details?page={i % 7}&sort=price&lang=en-US".encode())
        values.add(f"user{i}@example.com".encode())
        values.add(f"{i * 7919}".encode())
        values.add(f"Mozilla/5.0 (X11; Linux x86_64; rv:{100 + i % 30}.0) Gecko/20100101 Firefox/{100 + i % 30}.0".encode())
    return sorted(values)


def main():
    patterns = rx_patterns()
    inputs = benign_inputs() if "--benign" in sys.argv else [p[:4096] for p in payloads()]
    with tempfile.TemporaryDirectory() as tmp:
        pattern_file = os.path.join(tmp, "patterns.hex")
        input_file = os.path.join(tmp, "inputs.hex")
        open(pattern_file, "w").write("\n".join(p.hex() for p in patterns) + "\n")
        open(input_file, "w").write("\n".join(i.hex() for i in inputs) + "\n")
        command = ["cargo", "run", "-q", "-p", "palisade-operators", "--example", "rx_eval", "--"]
        if "--time" in sys.argv:
            print(subprocess.run(command + ["--time", pattern_file, input_file], check=True, capture_output=True, text=True).stdout)
            return
        ours = subprocess.run(command + [pattern_file, input_file], check=True, capture_output=True, text=True).stdout.splitlines()
    skipped = disagreements = agreed = 0
    for pattern, line in zip(patterns, ours):
        if line == "E":
            print("PALISADE FAILED TO COMPILE:", pattern)
            continue
        if re.search(rb"\{,\d", pattern) or b"[:" in pattern and re.search(rb"\[:\^?[a-z]+:\]", pattern):
            skipped += 1
            continue
        try:
            oracle = re.compile(to_python(pattern), re.DOTALL | re.MULTILINE)
        except re.error as error:
            print("python re cannot compile:", error, pattern[:80])
            skipped += 1
            continue
        for value, bit in zip(inputs, line):
            expected = oracle.search(value) is not None
            if expected != (bit == "1"):
                disagreements += 1
                if disagreements <= 20:
                    print(f"DISAGREE python={expected} palisade={bit == '1'} pattern={pattern[:100]!r} input={value[:100]!r}")
            else:
                agreed += 1
    print(f"patterns={len(patterns)} inputs={len(inputs)} agreed={agreed} disagreements={disagreements} skipped_patterns={skipped}")
    sys.exit(1 if disagreements else 0)


main()
