"""Writes pep440.tsv: PEP 440 cases (written from the PEP's rules) with the answers of
`packaging` as the oracle. Run with a Python that has `packaging` installed."""
import itertools, sys
from packaging.version import Version
from packaging.specifiers import Specifier

# ascending, from the PEP's "summary of permitted suffixes and relative ordering" plus epochs/locals
ordered = ["0.1", "0.9.9", "1.0.dev0", "1.0.dev456", "1.0a1.dev1", "1.0a1", "1.0a1.post1.dev1",
           "1.0a1.post1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
           "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0rc2", "1.0",
           "1.0+abc", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0+5.abc", "1.0+6",
           "1.0.post456.dev34", "1.0.post456", "1.0.post457", "1.0.1", "1.1.dev1", "1.1",
           "1.2.3.4.5", "1.10", "2.0", "2013.10", "2014.04", "1!0.0.1", "1!1.0", "2!0.1"]
# equal spellings (normalisation)
spellings = [("1.0", "1.0.0"), ("1.0", "1.0.0.0.0"), ("1.0a1", "1.0alpha1"), ("1.0a1", "1.0-a1"),
             ("1.0a1", "1.0.a.1"), ("1.0a1", "1.0_ALPHA_1"), ("1.0b2", "1.0beta2"), ("1.0rc1", "1.0c1"),
             ("1.0rc1", "1.0pre1"), ("1.0rc1", "1.0preview1"), ("1.0rc0", "1.0rc"), ("1.0a0", "1.0a"),
             ("1.0.post1", "1.0-1"), ("1.0.post1", "1.0post1"), ("1.0.post1", "1.0-post-1"),
             ("1.0.post1", "1.0.r1"), ("1.0.post1", "1.0rev1"), ("1.0.post0", "1.0.post"),
             ("1.0.dev0", "1.0.dev"), ("1.0.dev1", "1.0-dev1"), ("1.0.dev1", "1.0_dev_1"),
             ("1.0+ubuntu.1", "1.0+ubuntu-1"), ("1.0+ubuntu.1", "1.0+UBUNTU_1"), ("1.0", "v1.0"),
             ("1.0", "V1.0"), ("1.0", " 1.0 "), ("0!1.0", "1.0"), ("1.0+1", "1.0+01"),
             ("1.01", "1.1"), ("1.0a1.post2.dev3", "1.0-alpha.1-post.2-dev.3")]
invalid = ["", "1.0.", "1..0", "1.0+", "1.0+a..b", "a1.0", "1.0-", "french toast", "1.0.x",
           "1.0a1a2", "1.0.post1.post2", "1.0+a+b", "1!", "!1.0", "1.0 1.0", "1.0dev1dev2",
           "1.0-rc1-rc2", "1.0.post-", "1,0", "1.0_"]
specs = [">=1.0", ">1.0", "<=1.0", "<1.0", "==1.0", "!=1.0", "~=1.0", "~=1.4.5", "~=2.2.post3",
         "~=1.4.5a4", "==1.1.*", "!=1.1.*", "==1.*", "==2!1.*", "<1.0rc1", ">1.0rc1", "<1.0.post1",
         ">1.0.post1", ">=1.0.dev0", "==1.0+local", "!=1.0+local", "==1.0.0", ">=1!0.5", "<2!0",
         ">1.7", "<1.7", "===1.0"]
candidates = ["0.9", "1.0", "1.0.0", "1.0+local", "1.0+other", "1.0rc1", "1.0a1", "1.0.dev0",
              "1.0.post1", "1.0.post2", "1.1", "1.1.0", "1.1.5", "1.1.post1", "1.1a1", "1.10",
              "1.4.5", "1.4.5a4", "1.4.6", "1.5", "2.0", "2.2.post3", "2.3", "3.0", "1!1.0",
              "2!1.5", "1.7.0", "1.7.0.post1", "1.7.1", "1.7.0rc1", "1.7.0+local"]
rows = []
for a, b in itertools.combinations(ordered, 2):
    va, vb = Version(a), Version(b)
    rel = "<" if va < vb else ">" if va > vb else "=="
    rows.append(("cmp", a, b, rel))
for a, b in spellings:
    va, vb = Version(a), Version(b)
    rows.append(("cmp", a, b, "<" if va < vb else ">" if va > vb else "=="))
    rows.append(("norm", b, str(vb), ""))
for text in invalid:
    try:
        Version(text); ok = "valid"
    except Exception:
        ok = "invalid"
    rows.append(("parse", text, ok, ""))
for spec in specs:
    s = Specifier(spec)
    for candidate in candidates:
        rows.append(("spec", spec, candidate, "true" if s.contains(candidate, prereleases=True) else "false"))
with open(sys.argv[1], "w") as out:
    out.write("# PEP 440 cases, written from the PEP's ordering, normalisation and specifier rules;\n")
    out.write("# the expected column is `packaging`'s answer (Version ordering / str(Version), and\n")
    out.write("# Specifier(spec).contains(version, prereleases=True)). Regenerate: python3 gen_pep440.py pep440.tsv\n")
    out.write("# kind\ta\tb\texpected\n")
    for row in rows:
        out.write("\t".join(row) + "\n")
print(len(rows), "rows")
