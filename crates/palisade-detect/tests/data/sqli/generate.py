#!/usr/bin/env python3
"""Generates attack.txt and benign.txt for the SQL injection harness.

Written for Palisade from hand-made templates (no public payload list is
copied). Deterministic: run `python3 generate.py` in this directory.
Hand-written extra cases live in attack-extra.txt / benign-extra.txt and are
appended verbatim.
"""
import itertools, os, random

random.seed(7)
here = os.path.dirname(os.path.abspath(__file__))

def mixcase(s):
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(s))

def comment_space(s):
    return s.replace(" ", "/**/")

def tab_space(s):
    return s.replace(" ", "\t")

def exec_comment(s):
    return s.replace(" or ", " /*!or*/ ").replace(" and ", " /*!50000and*/ ").replace(" union ", " /*!union*/ ")

OBFUSCATIONS = [lambda s: s, mixcase, comment_space, str.upper, tab_space, exec_comment]

prefixes = {
    "bare": ["1", "-1", "0", "42", "1)", "1))"],
    "single": ["1'", "'", "admin'", "x')", "%'", "1'))"],
    "double": ['1"', '"', 'admin"', 'x")'],
}
comments = ["--", "-- -", "#", "/*", ";--", "--+"]

bodies = [
    " or 1=1", " or 2>1", " and 1=1", " and 1=2", " or 1 like 1", " || 1=1", " or 0x41=0x41",
    " or true", " or not 0", " and 3 between 1 and 5", " or 1 in (1,2)", " or null is null",
    " union select 1,2,3", " union all select null,null", " union select username,password from users",
    " union select @@version", " union distinct select 1", " union(select 1)",
    " union select load_file('/etc/passwd')", " union select table_name from information_schema.tables",
    " union select name from sqlite_master", " union select banner from v$version",
    "; drop table users", "; insert into users values(1,2)", "; delete from logs", "; update users set pass=1",
    "; exec xp_cmdshell 'dir'", "; declare @x int", "; shutdown", "; waitfor delay '0:0:5'",
    "; select pg_sleep(5)", "; create table x(a int)", "; truncate table logs", "; drop database shop",
    " and sleep(5)", " or benchmark(1000000,md5(1))", " and pg_sleep(5)", " waitfor delay '0:0:5'",
    " and 1=dbms_pipe.receive_message('a',5)", " and randomblob(100000000)", " and if(1=1,sleep(5),0)",
    " and (select 1 from (select sleep(5))x)", " or pg_sleep_for('5 seconds')",
    " and extractvalue(1,concat(0x7e,version()))", " and updatexml(1,concat(0x7e,user()),1)",
    " and 1=convert(int,@@version)", " and 1=cast(version() as int)", " and exp(~(select * from (select user())x))",
    " and 1=utl_inaddr.get_host_name((select banner from v$version where rownum=1))",
    " and (select 1 from(select count(*),concat(version(),floor(rand(0)*2))x from information_schema.tables group by x)a)",
    " and ascii(substring(user(),1,1))>64", " and substring(version(),1,1)=5", " and length(database())>1",
    " and (select count(*) from users)>0", " and 1=(select 1)", " and exists(select * from users)",
    " and mid(user(),1,1)='r'", " and ord(mid(database(),1,1))>100", " and 1=1 and 'a'='a'",
    " order by 1", " order by 10", " group by 1", " having 1=1",
    " procedure analyse(extractvalue(1,1),1)", " into outfile '/tmp/x'",
]

attacks = set()
for (context, pfx), body, (i, obf), comment in itertools.product(
    [(c, p) for c, ps in prefixes.items() for p in ps], bodies, enumerate(OBFUSCATIONS), comments
):
    pass

# Deterministic, spread-out selection over the full product.
all_combos = [
    (p, b, o, c)
    for c_name, ps in prefixes.items() for p in ps
    for b in bodies
    for o in OBFUSCATIONS
    for c in comments
]
random.shuffle(all_combos)
for p, b, o, c in all_combos[:420]:
    attacks.add(p + o(b) + c)

# Quote-balanced forms without a comment.
balanced = [
    "{p} or {q}1{q}={q}1", "{p} or {q}a{q}={q}a", "{p} and {q}x{q}={q}x", "{p} or {q}{q}={q}",
    "{p} and sleep(5) and {q}1{q}={q}1", "{p} union select 1,2,3 and {q}1{q}={q}1",
    "{p}||pg_sleep(5)||{q}", "{p}+(select 1)+{q}", "{p} and substring(@@version,1,1)={q}5",
]
for tmpl in balanced:
    for q, ps in (("'", prefixes["single"]), ('"', prefixes["double"])):
        for p in ps[:3]:
            attacks.add(tmpl.format(p=p, q=q))

with open(os.path.join(here, "attack-extra.txt")) as f:
    extra_attacks = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("## ")]

# ---------------------------------------------------------------- benign
names = ["O'Brien", "D'Angelo", "O'Neil", "Anne-Marie O'Hara", "Jean-Luc Picard", "Mary-Kate", "Shaquille O'Neal",
         "Conan O'Brien", "Dolores O'Riordan", "Miles O'Keeffe", "Sinead O'Connor", "Renée D'Souza"]
heights = ["5'11\"", "6'2\"", "5' 7\"", "4'10", "6 ft 1 in", "5'4\" tall", "a 6'5\" player"]
things = ["plan", "offer", "deal", "package", "option", "route", "meal", "seat", "room", "car", "phone", "laptop"]
adjs = ["best", "cheapest", "fastest", "union", "premium", "basic", "family", "student", "senior", "group"]
prose = [
    "select the {a} union plan", "please select the {a} {t}", "drop me a line about the {t}",
    "I'll be there at {n} or {m}", "we can meet at {n} or {m} pm", "order by {day} for delivery",
    "where is the {t}?", "union {t} meeting at {n}", "delete my old {t} please", "update: the {t} is ready",
    "can I insert a {t} here", "don't drop the {t}", "it's {n} or {m} dollars", "either {n} or {m} is fine",
    "the {a} {t} and the {a} one", "select {n} items from the list", "we sleep at {n} and wake at {m}",
    "benchmark of the {a} {t}", "user manual for the {t}", "version {n}.{m} release notes",
    "what's the {a} {t} - any ideas", "rock 'n' roll {t}", "she said 'maybe' about the {t}",
    "grab a {t} and go", "select all that apply", "group by age and city", "having fun with the {t}",
    "table for {n} at {m} o'clock", "top {n} {t} deals", "limit {n} per customer", "declare your {t}",
    "execute the {t} plan", "create a {t} account", "alter the {t} size", "truncate the {t} story",
    "shutdown the {t} tonight", "waitfor it", "between {n} and {m} guests", "like {n} or {m} times",
    "is it {n} or {m}?", "not {n} but {m}", "null and void", "true or false", "case {n} of {m}",
]
days = ["monday", "tuesday", "friday", "the weekend", "noon", "date", "phone", "name"]
searches = [
    "cheap flights to paris", "red shoes size 9", "how to union two tables in excel", "best select sort algorithm",
    "sleep apnea treatment", "benchmark results 2024", "delete account", "drop shipping business",
    "update windows 11", "insert coin", "exec summary template", "--verbose flag", "C# tutorial", "#hashtag trends",
    "sql tutorial for beginners", "join the union", "order pizza online", "group chat app", "where to buy milk",
    "null pointer exception java", "1 or 2 bedroom apartment", "3 or 4 seasons", "cats and dogs",
    "salt and pepper", "rock and roll", "black or white", "yes or no", "to be or not to be",
    "buy 2 get 1 free", "iphone 15 vs 14", "weather tomorrow", "python list comprehension",
    "size > 5", "price < 100", "a=1&b=2", "color=red&size=M", "q=shoes", "id=15",
]
prices = ["$19.99", "10% off", "2+2=4", "3 * 4 = 12", "1-2-3", "5 - 3", "(555) 123-4567", "1,299.00", "x = 5",
          "€15,00", "£9.99/month", "100 - 20% = 80", "7/8", "3.14159", "1e6", "-40", "+1 555 0100", "50%", "2^10",
          "12:30", "2024-05-01", "(1 + 2) * 3", "10 / 2 = 5", "4 > 3", "a < b", "#5", "No. 7", "0x1F", "v2.3.1"]
emails = ["john@example.com", "mary.o'neil@example.org", "support@shop.test", "https://example.com/a?b=c",
          "http://x.test/path#frag", "/home/user/file.txt", "C:\\Users\\bob", "user_name_01", "first.last"]

benign = set()
for tmpl in prose:
    for a, t, n, m, day in itertools.islice(
        zip(itertools.cycle(adjs), itertools.cycle(things), itertools.cycle(range(1, 13)),
            itertools.cycle(range(2, 14)), itertools.cycle(days)), 12):
        benign.add(tmpl.format(a=a, t=t, n=n, m=m, day=day))
benign.update(names)
benign.update(heights)
benign.update(searches)
benign.update(prices)
benign.update(emails)
for name, h in itertools.product(names[:6], heights[:4]):
    benign.add(f"{name} is {h}")
for s, p in itertools.product(searches[:20], prices[:10]):
    benign.add(f"{s} {p}")
for name, e in itertools.product(names, emails[:3]):
    benign.add(f"{name} <{e}>")

with open(os.path.join(here, "benign-extra.txt")) as f:
    extra_benign = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("## ")]

def write(name, lines, extra):
    with open(os.path.join(here, name), "w") as f:
        f.write("## Generated by generate.py, then attack-extra/benign-extra appended. One case per line.\n")
        for line in sorted(lines) + extra:
            assert "\n" not in line
            f.write(line + "\n")

write("attack.txt", attacks, extra_attacks)
write("benign.txt", benign, extra_benign)
print(len(attacks) + len(extra_attacks), "attacks;", len(benign) + len(extra_benign), "benign")
