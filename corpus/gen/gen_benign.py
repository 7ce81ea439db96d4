"""Generates corpus/benign/*.txt: inputs real users send, deliberately tricky
(apostrophes, SQL and shell words, arithmetic, code, markup). Deterministic;
run: python3 corpus/gen/gen_benign.py"""
import base64
import itertools
import json
import struct
import zlib

from common import escape_line, rng, url, write

FIRST = ["Seán", "Zoë", "José", "Mary-Jane", "Jean-Luc", "Ólafur", "Björk", "Renée", "D'Arcy", "Dmitri", "Aoife", "Łukasz",
         "Nguyễn", "Søren", "François", "Ayşe", "Priya", "Chidi", "Mei", "Yusuf", "Ana", "Tom", "Fatima", "Kenji",
         "Иван", "Мария", "张伟", "李娜", "さくら", "건우", "محمد", "נועה", "Θεόδωρος", "Ελένη", "Bobby", "Drop", "Union", "Select"]
LAST = ["O'Brien", "D'Angelo", "O'Neil", "McDonald", "van der Berg", "de la Cruz", "O'Connor", "D'Souza", "Smith-Jones",
        "Nuñez", "Müller", "Ødegaard", "Kowalski", "Ng", "Tables", "Or", "And", "Null", "Sleep", "Cat", "Echo", "Kill",
        "Petrov", "Wang", "Yamamoto", "Kim", "Al-Hassan", "Ben-David", "Papadopoulos", "L'Estrange", "N'Diaye", "Dell'Aqua"]


def names():
    r = rng("names")
    out = []
    for f, l in itertools.product(FIRST, LAST):
        out.append("%s %s" % (f, l))
        if r.random() < 0.35:
            out.append("%s, %s" % (l, f))
        if r.random() < 0.2:
            out.append("%s \"%s\" %s" % (f, r.choice(["Buzz", "The Rock", "Doc", "Sunny"]), l))
    out.extend(["Robert'); DROP TABLE Students;-- is a famous xkcd joke", "Mr. Null", "Ms. Select-Union", "Jack & Jill",
                "AT&T Customer Care", "Johnson & Johnson", "Procter & Gamble", "O'Reilly Media", "Ben & Jerry's"])
    return out


STREETS = ["Main St", "Rue de l'Église", "Baker Street", "Calle 5 #12-34", "Königstraße", "Via dell'Orso", "1st Ave", "Old Kent Rd",
           "Straße des 17. Juni", "Rua Augusta", "ul. Marszałkowska", "Nevsky Prospekt", "Elm St; Apt 4B", "PO Box 1234",
           "Unit 5/12 George St", "Route 66", "Camino Real", "Oak Ln (rear entrance)", "King's Road", "St. John's Wood Rd"]
CITIES = ["Dublin", "Paris", "São Paulo", "Zürich", "Kraków", "Москва", "東京都", "서울", "القاهرة", "Tel Aviv-Yafo", "Reykjavík",
          "Coeur d'Alene", "Martha's Vineyard", "L'Aquila", "Sault Ste. Marie", "Winston-Salem", "Los Angeles, CA 90001"]


def addresses():
    r = rng("addresses")
    out = []
    for s, c in itertools.product(STREETS, CITIES):
        n = r.randrange(1, 999)
        out.append("%d %s, %s" % (n, s, c))
        if r.random() < 0.4:
            out.append("%s %d\n%s" % (s, n, c))
        if r.random() < 0.3:
            out.append("c/o %s, %d %s | %s" % (r.choice(LAST), n, s, c))
    return [escape_line(x) for x in out]


OPENERS = ["Honestly,", "Well…", "Update:", "PS:", "Note -", "FYI", "TL;DR:", "Edit 2:", "Pros:", "Cons:", "Overall", "Shipping:"]
PHRASES_EN = [
    "the cat food arrived on time and my cat loves it", "I'd select this again over the union brand", "drop-off was quick",
    "5 stars; would order again", "the delete button doesn't work on mobile", "it's 100% cotton & washes well",
    "price went from $20 to $25 -- not happy", "size 10 fits like a 9 1/2", "the script of the movie was weak",
    "sleep quality improved after 2 weeks", "don't use bleach (it fades)", "we ran a ping-pong tournament",
    "the shell is hard but the inside is soft", "execute the plan, they said", "insert tab A into slot B",
    "use the wget-like download manager they ship", "where is my order?", "and then -- nothing happened",
    "if x > 3 and y < 4 it's fine", "my kid typed <3 on every box", "reboot fixed it, then it crashed again",
    "sort by price | newest first would help", "the eval period was 30 days", "it's like cat /dev/null for my feelings lol",
    "the id card reader works with Linux", "whoami? just a happy customer", "kill switch for the blender is great",
    "the 'exit' sign glows", "tried ls and cd in their web terminal course — great for beginners",
    "echo chamber of five-star reviews here, mine is 3/5", "great for rm -rf tutorial practice in a VM",
    "they set a 10% discount; time to buy", "my nickname is root & I like trees", "called support @ 9am -- got through by 9:05",
]
PHRASES_OTHER = [
    "C'est parfait, je l'ai reçu hier et j'en suis très content !", "L'article n'était pas conforme ; remboursement demandé.",
    "Das Produkt ist gut, aber die Lieferung dauerte 3–4 Wochen.", "Ich würde es wieder kaufen – 5/5!",
    "Muy bueno, llegó rápido y bien empaquetado. ¡Gracias!", "No funciona con el cargador; ¿alguien sabe por qué?",
    "Ottimo prodotto, l'ho regalato a mia madre.", "Entrega rápida, produto de ótima qualidade.",
    "Świetny produkt, polecam każdemu!", "Отличный товар, доставка быстрая. Рекомендую!", "Не подошёл размер — верну.",
    "とても良い商品でした。また買いたいです！", "配送が遅かったけど、品質は最高。", "这个产品非常好，物流也很快！", "质量一般，价格偏贵。",
    "배송이 빨라요. 만족합니다!", "منتج رائع وسعر مناسب، أنصح به", "מוצר מעולה, הגיע מהר מאוד!", "Πολύ καλό προϊόν, το συνιστώ.",
    "Ürün çok güzel, teşekkürler!", "Sản phẩm tốt, giao hàng nhanh.", "สินค้าดีมาก ส่งไว", "उत्पाद बहुत अच्छा है!",
    "Tuote oli hyvä, suosittelen.", "Produkten var bra men förpackningen var trasig.", "Heel tevreden, snel geleverd!",
]
EMOJI = ["", " 😀", " 👍👍", " ❤️", " 🙄", " 🐱", " (^_^)", " :-)", " ;)", " <3", " :'(", " xD", " ¯\\_(ツ)_/¯"]


def reviews():
    r = rng("reviews")
    out = []
    for i in range(2600):
        parts = [r.choice(OPENERS)] if r.random() < 0.4 else []
        parts.append(r.choice(PHRASES_EN if r.random() < 0.6 else PHRASES_OTHER))
        if r.random() < 0.5:
            parts.append(r.choice(PHRASES_EN + PHRASES_OTHER))
        sep = r.choice([" ", ". ", "; ", " -- ", "\n", "\r\n", " | ", " & ", "! "])
        out.append(sep.join(parts) + r.choice(EMOJI))
    return [escape_line(x) for x in out]


SEARCH_WORDS = ["select", "union", "drop", "table", "insert", "update", "delete", "from", "where", "or", "and", "not", "null",
                "cat", "dog", "food", "rm", "ls", "echo", "sleep", "ping", "kill", "shell", "script", "alert", "iframe", "exec",
                "order by", "group", "having", "like", "join", "plan", "pipe", "grep", "sed", "awk", "curl", "wget", "bash"]
SEARCH_TEMPLATES = [
    "{a} a {b} plan", "{a} food | {b} food", "how to {a} {b} in python", "best {a} for {b}", "{a} vs {b} 2024",
    "{a} -{b}", "\"{a} {b}\"", "{a} OR {b}", "{a} AND NOT {b}", "{a}'s {b}", "why does my {a} {b}?", "{a} && {b} bash meaning",
    "{a} || {b} operator", "difference between {a}; and {b}", "{a} (the movie)", "{a}&{b}", "{a}/{b} ratio", "{a} + {b} = ?",
    "is {a} > {b}", "{a} 1=1 meaning", "{a} -- {b}", "what is $({a})", "{a} `{b}` markdown",
]


def search_queries():
    r = rng("search_queries")
    out = ["select a union plan", "cat food | dog food", "rm -rf tutorial", "drop shipping business ideas", "union station tickets",
           "sleep 8 hours", "how to kill a process in linux", "what does chmod 755 mean", "python exec vs eval", "SQL injection prevention",
           "cross site scripting explained", "../ meaning in file paths", "__proto__ vs prototype", "what is ${IFS}", "etc passwd meaning",
           "169.254.169.254 what is it", "localhost refused to connect", "{{ }} in angular", "log4j jndi vulnerability explained",
           "O:8 stdClass php serialize", "ldap filter syntax (&(a)(b))"]
    for t in SEARCH_TEMPLATES:
        for _ in range(40):
            a, b = r.sample(SEARCH_WORDS, 2)
            out.append(t.format(a=a, b=b))
    return out


def prices_math():
    r = rng("prices_math")
    out = ["5'11\"", "6' 2\"", "2 < 3 and 4 > 1", "x = (a+b)*(c-d)", "1/2 cup + 3/4 cup", "E = mc^2", "100% & more",
           "a != b || c == d", "3 > 2 > 1", "f(x) = x^2 + 2x + 1", "if (a < b) then c", "10 * 10 = 100", "7*7=49"]
    for _ in range(900):
        a, b = r.randrange(1, 1000), r.randrange(1, 100)
        t = r.choice(["${a}.{b:02d}", "€{a},{b:02d}", "{a}.{b:02d} USD", "£{a} (was £{b})", "{a} - {b} = ?", "{a} < {b}",
                      "{a}x{b} cm", "{a}'{b}\"", "{a}% off; {b}% cashback", "{a} * {b}", "({a} + {b}) / 2", "{a}:{b}",
                      "{a} >= {b} and {b} <= {a}", "¥{a}00", "{a}/{b}/2024", "#{a}-{b}", "{a} & {b}", "approx. {a}±{b}",
                      "{a}' x {b}'", "{a} | {b}", "-{a}", "{a}..{b}", "1e{b}", "0x{a:x}"])
        out.append(t.format(a=a, b=b))
    return out


CODE = [
    "SELECT id, name FROM users WHERE email = ? LIMIT 10;",
    "for (let i = 0; i < n; i++) { sum += arr[i]; }",
    "if (a && b) { return x || y; }",
    "const url = `${base}/api/${id}`;",
    "def add(a, b):\n    return a + b",
    "$ npm install && npm run build",
    "git commit -m \"fix: handle null\" && git push",
    "docker run -p 8080:80 nginx",
    "ls -la | grep '.log'",
    "cat package.json | jq .version",
    "echo $PATH",
    "export NODE_ENV=production",
    "<div class=\"container\">{{ item.title }}</div>",
    "{% for post in posts %}<li>{{ post.title }}</li>{% endfor %}",
    "import os\nprint(os.getcwd())",
    "std::vector<int> v; v.push_back(1);",
    "fn main() { println!(\"{}\", 1 + 1); }",
    "SELECT COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > 5;",
    "UPDATE products SET price = price * 1.1 WHERE category = 'books';",
    "x = a if a > b else b",
    "arr.filter(x => x > 0).map(x => x * 2)",
    "<%= link_to 'Home', root_path %>",
    "curl -X POST https://api.example.com/v1/items -H 'Content-Type: application/json'",
    "ssh user@server.example.com",
    "kubectl get pods -n default",
    "#include <stdio.h>",
    "while read line; do echo \"$line\"; done < file.txt",
    "String s = obj.getClass().getSimpleName();",
    "@media (max-width: 600px) { .nav { display: none; } }",
    "a { color: #333; } a:hover { color: #000; }",
    "/* TODO: refactor */",
    "// see ../utils/helpers.js",
    "import { foo } from '../../lib/foo';",
    "require('./config')",
    "pip install -r requirements.txt",
    "python3 -m venv .venv && source .venv/bin/activate",
    "printf(\"%d\\n\", x);",
    "regex: ^[a-z0-9_-]{3,16}$",
    "obj.hasOwnProperty('name')",
    "Object.keys(obj).forEach(k => console.log(k))",
    "user.__class__.__name__",
    "{\"query\": {\"match\": {\"title\": \"hello\"}}}",
    "db.users.find({ age: { $gt: 18 } }) is how mongo filters",
    "cron: */5 * * * * /usr/local/bin/backup.sh",
    "#!/usr/bin/env python3",
    "$x = $y ?? 'default';",
    "<?php echo htmlspecialchars($name); ?>",
    "EXPLAIN ANALYZE SELECT * FROM t;",
    "(defn square [x] (* x x))",
    "let total = items.reduce((a, b) => a + b.price, 0);",
]


def code_snippets():
    r = rng("code_snippets")
    out = []
    prefixes = ["", "Try this: ", "I wrote ", "Why does ", "This fails: ", "Fixed with ", "In my config: ", "Output of "]
    suffixes = ["", " ?", " but it errors", " -- works now, thanks!", " (on Ubuntu 22.04)", " in production", "\nAny idea?"]
    for c in CODE:
        for p in prefixes:
            out.append(p + c + r.choice(suffixes))
    return [escape_line(x) for x in out]


MD = ["# Heading\n\nSome **bold** and _italic_ text.", "- item one\n- item two\n- [link](https://example.com)",
      "```bash\nnpm test\n```", "> quoted reply\n\nI agree.", "| Name | Price |\n|------|-------|\n| Tea | $3 |",
      "1. first\n2. second", "![cat](https://img.example.com/cat.png)", "Use `git status` first.", "Run `npm ci` then `npm test`.",
      "~~strikethrough~~ and `inline code`", "***\n\nFootnote[^1]\n\n[^1]: source", "- [x] done\n- [ ] todo",
      "**Q:** Why?\n**A:** Because.", "Email me at <me@example.com>", "<details><summary>Spoiler</summary>hidden</details>",
      "H~2~O and x^2^", "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>", "Call `sort(a, b)` and it works", "See [docs](../docs/README.md)"]


def markdown():
    r = rng("markdown")
    out = []
    for a, b in itertools.product(MD, MD):
        if r.random() < 0.9:
            out.append(a + "\n\n" + b)
    return [escape_line(x) for x in out]


HTML = ["<p>Hello <b>world</b></p>", "<p style=\"color: red; font-weight: bold\">Sale!</p>", "<a href=\"https://example.com/page?x=1&amp;y=2\">link</a>",
        "<ul><li>One</li><li>Two</li></ul>", "<img src=\"https://cdn.example.com/a.png\" alt=\"A &amp; B\" width=\"200\">",
        "<h2>Title</h2><p>Text with &lt;tags&gt; escaped</p>", "<blockquote>Quote — author</blockquote>", "<table><tr><td>1</td><td>2</td></tr></table>",
        "<span class=\"mention\" data-id=\"42\">@alice</span>", "<p>Price: 5 &lt; 10 &amp;&amp; 10 &gt; 5</p>", "<br><hr><br>",
        "<p><em>Note:</em> use <code>ls -la</code> here</p>", "<pre><code>SELECT * FROM t;</code></pre>", "<p dir=\"rtl\">مرحبا</p>",
        "<font face=\"Arial\" size=\"3\">old editor</font>", "<div><iframe src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" allowfullscreen></iframe></div>",
        "<p>Contact: <a href=\"mailto:support@example.com\">support@example.com</a></p>", "<p>O&#39;Brien &amp; Sons</p>",
        "<p>Line one<br/>Line two</p>", "<!DOCTYPE html><html><head><title>x</title></head><body></body></html>",
        "<svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\"/></svg>", "<p>&copy; 2024 Example&trade;</p>"]


def rich_html():
    r = rng("rich_html")
    out = []
    for a, b in itertools.product(HTML, HTML):
        if r.random() < 0.8:
            out.append(a + b)
    return out


DOMAINS = ["example.com", "shop.example.org", "news.example.co.uk", "api.example.io", "cdn.example.net", "xn--mnchen-3ya.example", "例子.测试"]


def urls():
    r = rng("urls")
    out = ["http://localhost:3000 is where the dev server runs", "open http://127.0.0.1:8000/admin in your browser to see Django admin"]
    paths = ["/", "/search?q=select+union", "/p/123?ref=home&utm_source=mail", "/a/b/c.html#section-2", "/redirect?to=%2Fhome",
             "/files/report%202024.pdf", "/api/v1/items?filter=price%3E10&sort=-date", "/wiki/C%2B%2B", "/users/O%27Brien",
             "/path/../other", "/?q=%3Cb%3E", "/search?q=cat+food+%7C+dog+food", "/img.png?v=2&w=100&h=100",
             "/u/~alice/", "/callback?code=abc123&state=xyz", "/?next=/dashboard", "/watch?v=dQw4w9WgXcQ&t=42s"]
    for d, p in itertools.product(DOMAINS, paths):
        out.append(r.choice(["https://", "http://", "https://www."]) + d + p)
    for _ in range(200):
        out.append("https://%s/%s?id=%d" % (r.choice(DOMAINS), r.choice(["item", "post", "user"]), r.randrange(10**6)))
    return out


def emails():
    r = rng("emails")
    out = []
    locals_ = ["john.doe", "o'brien", "d'angelo.m", "first+tag", "a.b-c", "user_name", "select", "admin", "x", "name.surname+news", "jean-luc"]
    for l, d in itertools.product(locals_, DOMAINS[:6]):
        out.append("%s@%s" % (l, d))
        if r.random() < 0.3:
            out.append("\"%s\" <%s@%s>" % (l.title(), l, d))
    return out


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwts():
    r = rng("jwts")
    out = []
    for i in range(400):
        header = {"alg": r.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        payload = {"sub": str(r.randrange(10**9)), "name": r.choice(FIRST) + " " + r.choice(LAST), "iat": 1700000000 + i,
                   "admin": r.random() < 0.1, "scope": r.choice(["read", "read write", "openid profile email"])}
        sig = bytes(r.randrange(256) for _ in range(32))
        token = "%s.%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(payload, ensure_ascii=False).encode()), b64url(sig))
        out.append(token if r.random() < 0.5 else "Bearer " + token)
    return out


def tiny_png(r):
    w, h = r.randrange(1, 6), r.randrange(1, 6)
    raw = b"".join(b"\x00" + bytes(r.randrange(256) for _ in range(w * 3)) for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def base64_images():
    r = rng("base64_images")
    out = []
    for _ in range(300):
        data = base64.b64encode(tiny_png(r)).decode()
        out.append(data if r.random() < 0.4 else "data:image/png;base64," + data)
    for _ in range(200):
        blob = bytes(r.randrange(256) for _ in range(r.randrange(12, 90)))
        out.append(base64.b64encode(blob).decode())
    return out


def json_docs():
    r = rng("json_docs")
    out = []
    for i in range(800):
        doc = {"id": i, "name": r.choice(FIRST) + " " + r.choice(LAST), "email": "user%d@example.com" % i,
               "comment": r.choice(PHRASES_EN + PHRASES_OTHER), "tags": r.sample(SEARCH_WORDS, 3),
               "price": {"amount": r.randrange(1, 10000) / 100, "currency": r.choice(["USD", "EUR", "$"])},
               "filter": r.choice([{"status": "open"}, {"type": "object"}, {"min": 1, "max": 9}, {"q": "select union"}]),
               "path": r.choice(["/home/alice/docs", "C:\\Users\\Bob\\Desktop", "./src/main.rs", "../README.md"])}
        if r.random() < 0.2:
            doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        if r.random() < 0.2:
            doc["constructor"] = "Acme Builders Ltd"
        if r.random() < 0.2:
            doc["prototype"] = "v2 prototype board"
        out.append(json.dumps(doc, ensure_ascii=r.random() < 0.5))
    return out


def file_paths():
    r = rng("file_paths")
    out = []
    names_ = ["report", "IMG_2024", "résumé", "O'Brien letter", "budget (final)", "notes & ideas", "my.cat.photo", "setup", "data-2024-01-01",
              "passwd-manager-export", "shadow-puppets", "hosts-list", "config", ".bashrc", "web", "boot"]
    exts = [".pdf", ".docx", ".png", ".jpg", ".tar.gz", ".csv", ".txt", ".ini", ".md", ".json", ".exe", ".php", ".log"]
    dirs = ["", "C:\\Users\\Alice\\Documents\\", "/home/bob/Downloads/", "~/Desktop/", "./uploads/", "../shared/", "D:\\Photos\\2023\\",
            "/var/www/html/", "src/", "\\\\fileserver\\team\\"]
    for d, n in itertools.product(dirs, names_):
        out.append(d + n + r.choice(exts))
    return [escape_line(x) for x in out]


def user_agents():
    r = rng("user_agents")
    out = []
    for _ in range(300):
        out.append(r.choice([
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36" % r.randrange(100, 130),
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%d) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%d Safari/605.1.15" % (r.randrange(1, 8), r.randrange(0, 5)),
            "Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0" % ((r.randrange(100, 130),) * 2),
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148" % r.randrange(0, 6),
            "Mozilla/5.0 (Linux; Android %d; Pixel %d) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36" % (r.randrange(10, 15), r.randrange(4, 9)),
        ]))
    return out


GENERATORS = {
    "names": names, "addresses": addresses, "reviews": reviews, "search_queries": search_queries, "prices_math": prices_math,
    "code_snippets": code_snippets, "markdown": markdown, "rich_html": rich_html, "urls": urls, "emails": emails, "jwts": jwts,
    "base64_images": base64_images, "json_docs": json_docs, "file_paths": file_paths, "user_agents": user_agents,
}
ALREADY_ESCAPED = {"addresses", "reviews", "code_snippets", "markdown", "file_paths"}

if __name__ == "__main__":
    for name, generate in GENERATORS.items():
        lines = generate()
        if name not in ALREADY_ESCAPED:
            lines = [escape_line(line) for line in lines]
        write("benign", name, lines)
