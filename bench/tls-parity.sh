#!/usr/bin/env bash
# Parity and speed of Palisade's TLS audit against sslyze on local servers: nginx (Debian) with a
# strong configuration (TLS 1.2 + 1.3, AEAD ECDSA suites only, 0-RTT on) and a deliberately weak one
# (TLS 1.0/1.1/1.2, "ALL:@SECLEVEL=0", 1024-bit DH), and an in-process rustls server. Prints, per
# server, a side-by-side table of protocols, accepted cipher suites per protocol, EC groups,
# certificate facts, compression / secure renegotiation / Heartbleed / early data, and both tools'
# wall times. Exit 1 when the tools disagree on any fact.
#
# The servers, both audits and the comparison live in the Rust test
# crates/palisade-tlsaudit/tests/parity.rs (one implementation; this script only runs it
# with its output shown).
#
# Usage: bash bench/tls-parity.sh
# Needs: nginx and openssl (apt-get install nginx openssl), sslyze in a venv:
#   python3 -m venv $HOME/.cache/palisade-sslyze-venv
#   $HOME/.cache/palisade-sslyze-venv/bin/pip install sslyze==6.3.1
# (or PALISADE_SSLYZE_PYTHON=/path/to/python with sslyze importable).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# CI=true turns a missing tool into a failure instead of a skip.
CI=true cargo test -p palisade-tlsaudit --test parity -- --nocapture --test-threads=1 2>&1 |
    grep -v '^running \|^test result\|^$\|Finished\|Running\|Compiling'
