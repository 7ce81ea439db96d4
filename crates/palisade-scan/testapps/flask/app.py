"""A deliberately vulnerable Flask application for measuring `palisade scan`.

NEVER expose it: it executes shell commands, reads files and runs SQL from request
parameters. It binds to 127.0.0.1 only. Every vulnerable endpoint has a safe look-alike that
handles the same input correctly; labels.toml lists which is which.

Usage: python app.py PORT
"""

import base64
import hashlib
import hmac
import html
import ipaddress
import itertools
import json
import os
import pickle
import random
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request

from flask import Flask, Response, redirect, render_template_string, request, session

try:
    from lxml import etree
except ImportError:  # the XPath endpoints answer 501 without lxml
    etree = None

app = Flask(__name__)
app.secret_key = "palisade-testapp-not-a-secret"
FILES = tempfile.mkdtemp(prefix="palisade-testapp-")
with open(os.path.join(FILES, "readme.txt"), "w") as f:
    f.write("Nothing to see here.\n")
with open(os.path.join(FILES, "notes.txt"), "w") as f:
    f.write("Meeting at noon.\n")

USERS_XML = etree.fromstring(
    b"<users><user><name>alice</name><role>admin</role></user>"
    b"<user><name>bob</name><role>user</role></user>"
    b"<user><name>carol</name><role>user</role></user></users>"
) if etree is not None else None


PROFILE = base64.b64encode(pickle.dumps({"name": "guest", "theme": "light"}, protocol=4)).decode()
SIGNING_KEY = b"palisade-testapp-signing-key"


def sign_blob(data):
    return hmac.new(SIGNING_KEY, data.encode(), hashlib.sha256).hexdigest()


def db():
    conn = sqlite3.connect(":memory:")
    # Stands in for MySQL's SLEEP(): time-based blind injection needs a delay function.
    conn.create_function("sleep", 1, lambda s: time.sleep(min(float(s), 10)) or 0)
    conn.executescript(
        """
        CREATE TABLE users (id INTEGER, name TEXT, email TEXT, token TEXT);
        INSERT INTO users VALUES (1, 'alice', 'alice@example.com', 'abc');
        INSERT INTO users VALUES (2, 'bob', 'bob@example.com', 'def');
        INSERT INTO users VALUES (3, 'carol', 'carol@example.com', 'ghi');
        CREATE TABLE items (id INTEGER, category TEXT, title TEXT);
        INSERT INTO items VALUES (1, 'books', 'Dune');
        INSERT INTO items VALUES (2, 'books', 'Emma');
        INSERT INTO items VALUES (3, 'music', 'Abbey Road');
        """
    )
    return conn


def page(body):
    return "<!DOCTYPE html><html><head><title>Test app</title></head><body>" + body + "</body></html>"


def rows_html(rows):
    return "<ul>" + "".join("<li>" + html.escape(" ".join(map(str, r))) + "</li>" for r in rows) + "</ul>"


@app.route("/")
def index():
    return page(
        """
<h1>Deliberately vulnerable test application</h1>
<h2>SQL</h2>
<a href="/sqli/error?id=1">error</a> <a href="/sqli/blind?name=alice">blind</a>
<a href="/sqli/search?q=ali">search</a> <a href="/sqli/time?token=abc">time</a>
<a href="/sqli/safe?id=1">safe</a> <a href="/sqli/safe_search?q=ali">safe search</a>
<a href="/sqli/int?id=1">int</a>
<form method="post" action="/sqli/login"><input name="user"><input type="password" name="password"><input type="submit" value="Login"></form>
<form method="post" action="/sqli/safe_login"><input name="user"><input type="password" name="password"><input type="submit" value="Login"></form>
<h2>XSS</h2>
<a href="/xss/text?q=hello">text</a> <a href="/xss/attr?q=hello">attr</a>
<a href="/xss/script?name=guest">script</a> <a href="/xss/href?url=/">href</a>
<a href="/xss/escaped?q=hello">escaped</a> <a href="/xss/attr_escaped?q=hello">attr escaped</a>
<a href="/xss/script_json?name=guest">script json</a> <a href="/xss/href_safe?url=/">href safe</a>
<a href="/xss/textarea?q=hello">textarea</a>
<form method="post" action="/xss/comment"><textarea name="comment"></textarea><input type="submit"></form>
<h2>Commands</h2>
<a href="/cmd/ping?host=127.0.0.1">ping</a> <a href="/cmd/blind?file=report">blind</a>
<a href="/cmd/safe?host=127.0.0.1">safe</a>
<h2>Files</h2>
<a href="/file?name=readme.txt">file</a> <a href="/file/filtered?name=readme.txt">filtered</a>
<a href="/file/safe?name=readme.txt">safe</a> <a href="/file/basename?name=readme.txt">basename</a>
<h2>Redirects</h2>
<a href="/redirect?next=/">redirect</a> <a href="/redirect/prefix?url=/">prefix</a>
<a href="/redirect/safe?next=/">safe</a> <a href="/redirect/host?url=/">host</a>
<h2>Templates</h2>
<a href="/ssti?name=guest">ssti</a> <a href="/ssti/safe?name=guest">safe</a>
<h2>XPath</h2>
<a href="/xpath/user?name=alice">user</a> <a href="/xpath/blind?name=alice">blind</a>
<a href="/xpath/safe?name=alice">safe</a>
<h2>Guestbooks</h2>
<a href="/guestbook">guestbook</a> <a href="/guestbook/safe">safe guestbook</a>
<h2>Fetching URLs</h2>
<a href="/ssrf/fetch?url=/robots.txt">fetch</a> <a href="/ssrf/safe?url=https://feeds.example.org/news.xml">safe fetch</a>
<h2>Uploads (multipart forms)</h2>
<form method="post" action="/upload/document" enctype="multipart/form-data"><input name="title"><input type="file" name="doc"><input type="submit" value="Upload"></form>
<form method="post" action="/upload/safe_document" enctype="multipart/form-data"><input name="title"><input type="file" name="doc"><input type="submit" value="Upload"></form>
<h2>XML documents</h2>
<form method="post" action="/xxe/parse"><textarea name="xml">&lt;note&gt;hi&lt;/note&gt;</textarea><input type="submit"></form>
<form method="post" action="/xxe/safe"><textarea name="xml">&lt;note&gt;hi&lt;/note&gt;</textarea><input type="submit"></form>
<form method="post" action="/xxe/internal"><textarea name="xml">&lt;note&gt;hi&lt;/note&gt;</textarea><input type="submit"></form>
<h2>Members</h2>
<a href="/auth/login">sign in</a> <a href="/auth/weak/login">sign in (legacy)</a> <a href="/auth/home">members</a>
<h2>Notes (script requests)</h2>
<a href="/notes">notes</a>
<h2>Sessions and tokens</h2>
<a href="/account/legacy">legacy</a> <a href="/account/reset">reset</a> <a href="/account/pin">pin</a>
<a href="/account/static">static</a> <a href="/api/invite">invite</a>
<a href="/account/strong">strong</a> <a href="/account/reset_safe">reset safe</a>
<a href="/account/prefs">prefs</a>
<h2>Serialized objects</h2>
<a href="/deser/profile?data=%(profile)s">profile</a> <a href="/deser/cart">cart</a>
<a href="/deser/signed?data=%(profile)s&amp;sig=%(signature)s">signed</a>
<a href="/deser/lookup?ref=%(profile)s">lookup</a> <a href="/deser/json?data=%(json)s">json</a>
<h2>API</h2>
<a href="/api/profile">profile</a> <a href="/api/public">public</a>
<a href="/debug/trace?id=1">trace</a> <a href="/whoami?greeting=hi">whoami</a>
<script>
  // Only referenced from JavaScript.
  fetch('/js/items?category=books').then(r => r.text());
</script>
""" % {"profile": urllib.parse.quote(PROFILE), "signature": sign_blob(PROFILE),
       "json": urllib.parse.quote(base64.b64encode(b'{"name": "guest"}').decode())}
    )


@app.route("/robots.txt")
def robots():
    return Response("User-agent: *\nDisallow: /private/\n", mimetype="text/plain")


@app.route("/sitemap.xml")
def sitemap():
    return Response(
        "<?xml version='1.0'?><urlset><url><loc>/sitemap-only?q=x</loc></url>"
        "<url><loc>/private/admin?cmd=id</loc></url></urlset>",
        mimetype="application/xml",
    )


# --- SQL injection -----------------------------------------------------------------------


@app.route("/sqli/error")
def sqli_error():
    try:
        rows = db().execute("SELECT id, name FROM users WHERE id = " + request.args.get("id", "")).fetchall()
    except Exception as e:  # the error is shown: error-based
        return page("<pre>" + html.escape(type(e).__module__ + "." + type(e).__name__ + ": " + str(e)) + "</pre>"), 500
    return page(rows_html(rows))


@app.route("/sqli/blind")
def sqli_blind():
    name = request.args.get("name", "")
    try:
        rows = db().execute("SELECT id FROM users WHERE name = '" + name + "'").fetchall()
    except Exception:
        rows = []
    return page("<p>User " + ("exists" if rows else "not found") + "</p>")


@app.route("/sqli/search")
def sqli_search():
    q = request.args.get("q", "")
    try:
        rows = db().execute("SELECT name, email FROM users WHERE name LIKE '%" + q + "%'").fetchall()
    except Exception:
        rows = []
    return page("<p>Results for " + html.escape(q) + "</p>" + rows_html(rows))


@app.route("/sqli/time")
def sqli_time():
    token = request.args.get("token", "")
    try:
        db().execute("SELECT id FROM users WHERE token = '" + token + "'").fetchall()
    except Exception:
        pass
    return page("<p>Token checked.</p>")


@app.route("/sqli/login", methods=["POST"])
def sqli_login():
    user = request.form.get("user", "")
    password = request.form.get("password", "")
    try:
        row = db().execute(
            "SELECT name FROM users WHERE name = '" + user + "' AND token = '" + password + "'"
        ).fetchone()
    except Exception:
        row = None
    return page("<p>Welcome " + html.escape(row[0]) + "</p>" if row else "<p>Invalid login</p>")


@app.route("/js/items")
def js_items():
    category = request.args.get("category", "")
    try:
        rows = db().execute("SELECT title FROM items WHERE category = '" + category + "'").fetchall()
    except Exception:
        rows = []
    return page(rows_html(rows))


@app.route("/sqli/safe")
def sqli_safe():
    value = request.args.get("id", "")
    rows = db().execute("SELECT id, name FROM users WHERE id = ?", (value,)).fetchall()
    return page("<p>Lookup of " + html.escape(value) + "</p>" + rows_html(rows))


@app.route("/sqli/safe_search")
def sqli_safe_search():
    q = request.args.get("q", "")
    rows = db().execute("SELECT name, email FROM users WHERE name LIKE ?", ("%" + q + "%",)).fetchall()
    return page("<p>Results for " + html.escape(q) + "</p>" + rows_html(rows))


@app.route("/sqli/int")
def sqli_int():
    try:
        value = int(request.args.get("id", ""))
    except ValueError:
        return page("<p>id must be a number</p>"), 400
    rows = db().execute("SELECT id, name FROM users WHERE id = " + str(value)).fetchall()
    return page(rows_html(rows))


@app.route("/sqli/safe_login", methods=["POST"])
def sqli_safe_login():
    row = db().execute(
        "SELECT name FROM users WHERE name = ? AND token = ?",
        (request.form.get("user", ""), request.form.get("password", "")),
    ).fetchone()
    return page("<p>Welcome " + html.escape(row[0]) + "</p>" if row else "<p>Invalid login</p>")


# --- Uploads (multipart/form-data only) ---------------------------------------------------


def uploaded():
    """The title field and the uploaded document's text, or None unless the request is
    multipart with the document as a file part: these endpoints are found only by a scanner
    that submits multipart forms as browsers do."""
    doc = request.files.get("doc")
    if not request.mimetype == "multipart/form-data" or doc is None:
        return None
    return request.form.get("title", ""), doc.read(65536).decode("utf-8", "replace")


@app.route("/upload/document", methods=["POST"])
def upload_document():
    form = uploaded()
    if form is None:
        return page("<p>Send the form as multipart/form-data with a file</p>"), 415
    title, text = form
    try:  # the title is concatenated into SQL, the error shown; the document echoed raw
        rows = db().execute("SELECT id FROM items WHERE title = '" + title + "'").fetchall()
    except Exception as e:
        return page("<pre>" + html.escape(type(e).__module__ + "." + type(e).__name__ + ": " + str(e)) + "</pre>"), 500
    return page("<p>" + str(len(rows)) + " matching items</p><h3>Preview</h3><div>" + text + "</div>")


@app.route("/upload/safe_document", methods=["POST"])
def upload_safe_document():
    form = uploaded()
    if form is None:
        return page("<p>Send the form as multipart/form-data with a file</p>"), 415
    title, text = form
    rows = db().execute("SELECT id FROM items WHERE title = ?", (title,)).fetchall()
    return page("<p>" + str(len(rows)) + " matching items</p><h3>Preview</h3><div>" + html.escape(text) + "</div>")


# --- XSS ---------------------------------------------------------------------------------


@app.route("/xss/text")
def xss_text():
    return page("<p>Results for " + request.args.get("q", "") + "</p>")


@app.route("/xss/attr")
def xss_attr():
    return page('<form><input name="q" value="' + request.args.get("q", "") + '"></form>')


@app.route("/xss/script")
def xss_script():
    name = request.args.get("name", "").replace("<", "").replace(">", "")
    return page("<script>var name = '" + name + "'; document.title = name;</script>")


@app.route("/xss/href")
def xss_href():
    return page('<a href="' + html.escape(request.args.get("url", "")) + '">continue</a>')


@app.route("/xss/comment", methods=["POST"])
def xss_comment():
    return page("<div class='comment'>" + request.form.get("comment", "") + "</div>")


@app.route("/whoami")
def whoami():
    # Echoes the session cookie next to a raw reflection: the scanner's evidence must redact it.
    return page("<p>" + request.args.get("greeting", "") + " " + html.escape(request.headers.get("Cookie", "")) + " "
                + html.escape(request.headers.get("Authorization", "")) + "</p>")


@app.route("/sitemap-only")
def sitemap_only():
    return page("<h3>" + request.args.get("q", "") + "</h3>")


@app.route("/xss/escaped")
def xss_escaped():
    return page("<p>Results for " + html.escape(request.args.get("q", "")) + "</p>")


@app.route("/xss/attr_escaped")
def xss_attr_escaped():
    return page('<form><input name="q" value="' + html.escape(request.args.get("q", ""), quote=True) + '"></form>')


@app.route("/xss/script_json")
def xss_script_json():
    value = json.dumps(request.args.get("name", "")).replace("<", "\\u003c").replace(">", "\\u003e")
    return page("<script>var name = " + value + "; document.title = name;</script>")


@app.route("/xss/href_safe")
def xss_href_safe():
    url = request.args.get("url", "")
    if urllib.parse.urlparse(url).scheme not in ("", "http", "https"):
        url = "#"
    return page('<a href="' + html.escape(url) + '">continue</a>')


@app.route("/xss/textarea")
def xss_textarea():
    return page("<textarea>" + html.escape(request.args.get("q", "")) + "</textarea>")


# --- OS commands ---------------------------------------------------------------------------


@app.route("/cmd/ping")
def cmd_ping():
    host = request.args.get("host", "")
    out = subprocess.run("echo PING " + host, shell=True, capture_output=True, text=True, timeout=15)
    return page("<pre>" + html.escape(out.stdout) + "</pre>")


@app.route("/cmd/blind")
def cmd_blind():
    name = request.args.get("file", "")
    subprocess.run("test -f /tmp/" + name, shell=True, capture_output=True, timeout=15)
    return page("<p>Report queued.</p>")


@app.route("/cmd/safe")
def cmd_safe():
    host = request.args.get("host", "")
    out = subprocess.run(["echo", "PING", host], capture_output=True, text=True, timeout=15)
    return page("<pre>" + html.escape(out.stdout) + "</pre>")


# --- Files -------------------------------------------------------------------------------


def read_or_404(path):
    try:
        with open(path, errors="replace") as f:
            return page("<pre>" + html.escape(f.read(20000)) + "</pre>")
    except OSError:
        return page("<p>No such file</p>"), 404


@app.route("/file")
def file_plain():
    return read_or_404(os.path.join(FILES, request.args.get("name", "")))


@app.route("/file/filtered")
def file_filtered():
    return read_or_404(os.path.join(FILES, request.args.get("name", "").replace("../", "")))


@app.route("/file/safe")
def file_safe():
    path = os.path.realpath(os.path.join(FILES, request.args.get("name", "")))
    if os.path.commonpath([path, os.path.realpath(FILES)]) != os.path.realpath(FILES):
        return page("<p>Forbidden</p>"), 403
    return read_or_404(path)


@app.route("/file/basename")
def file_basename():
    return read_or_404(os.path.join(FILES, os.path.basename(request.args.get("name", ""))))


# --- Redirects ---------------------------------------------------------------------------


@app.route("/redirect")
def redirect_plain():
    return redirect(request.args.get("next", "/"))


@app.route("/redirect/prefix")
def redirect_prefix():
    url = request.args.get("url", "/")
    return redirect(url if url.startswith("/") else "/")


@app.route("/redirect/safe")
def redirect_safe():
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or target.startswith("/\\"):
        target = "/"
    return redirect(target)


@app.route("/redirect/host")
def redirect_host():
    url = request.args.get("url", "/")
    parsed = urllib.parse.urlparse(url.replace("\\", "/"))
    if (parsed.scheme or parsed.netloc) and not (
        parsed.scheme in ("http", "https") and parsed.netloc == request.host
    ):
        url = "/"
    return redirect(url)


# --- Templates ---------------------------------------------------------------------------


@app.route("/ssti")
def ssti():
    return render_template_string("<p>Hello " + request.args.get("name", "") + "</p>")


@app.route("/ssti/safe")
def ssti_safe():
    return render_template_string("<p>Hello {{ name }}</p>", name=request.args.get("name", ""))


# --- XPath -------------------------------------------------------------------------------


def xpath_names(expression, **variables):
    return [str(n) for n in USERS_XML.xpath(expression, **variables)]


@app.route("/xpath/user")
def xpath_user():
    if etree is None:
        return "lxml missing", 501
    try:
        names = xpath_names("//user[name='" + request.args.get("name", "") + "']/role/text()")
    except Exception as e:
        return page("<pre>" + html.escape(type(e).__module__ + "." + type(e).__name__ + ": " + str(e)) + "</pre>"), 500
    return page(rows_html([[n] for n in names]))


@app.route("/xpath/blind")
def xpath_blind():
    if etree is None:
        return "lxml missing", 501
    try:
        names = xpath_names("//user[name='" + request.args.get("name", "") + "']/role/text()")
    except Exception:
        names = []
    return page(rows_html([[n] for n in names]))


@app.route("/xpath/safe")
def xpath_safe():
    if etree is None:
        return "lxml missing", 501
    names = xpath_names("//user[name=$name]/role/text()", name=request.args.get("name", ""))
    return page(rows_html([[n] for n in names]))


# --- XML external entities ---------------------------------------------------------------


def parse_note(parser):
    if etree is None:
        return "lxml missing", 501
    try:
        root = etree.fromstring(request.form.get("xml", "").encode(), parser)
    except Exception:
        return page("<p>Invalid XML</p>"), 400
    return page("<p>Parsed note: " + html.escape("".join(root.itertext())) + "</p>")


@app.route("/xxe/parse", methods=["POST"])
def xxe_parse():
    # External entities resolved: file:// URLs are read (no_network only stops http/ftp).
    return parse_note(etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True) if etree else None)


@app.route("/xxe/safe", methods=["POST"])
def xxe_safe():
    return parse_note(etree.XMLParser(resolve_entities=False, no_network=True) if etree else None)


@app.route("/xxe/internal", methods=["POST"])
def xxe_internal():
    # Internal entities expanded, external ones refused (lxml >= 5 default).
    return parse_note(etree.XMLParser(resolve_entities="internal", no_network=True) if etree else None)


# --- Raw XML and JSON bodies ---------------------------------------------------------------
# Reached only from the script on /notes: a crawler that reads links and forms never sees them.


@app.route("/notes")
def notes():
    return page(
        """<h1>Notes</h1><div id="out"></div>
<script>
  function importNote(text) {
    return fetch('/api/notes/import', {method: 'POST', headers: {'Content-Type': 'application/xml'},
                                       body: '<note><body>hello</body></note>'});
  }
  function importNoteSafely(text) {
    return fetch('/api/notes/import_safe', {method: 'POST', headers: {'Content-Type': 'application/xml'},
                                            body: '<note><body>hello</body></note>'});
  }
  function search(category) {
    return fetch('/api/items/search', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                       body: JSON.stringify({category: 'books', limit: 10})});
  }
  function searchSafely(category) {
    return fetch('/api/items/search_safe', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                            body: JSON.stringify({category: 'books', limit: 10})});
  }
</script>"""
    )


def import_note(parser):
    if etree is None:
        return "lxml missing", 501
    if request.mimetype not in ("application/xml", "text/xml"):
        return page("<p>Send application/xml</p>"), 415
    try:
        root = etree.fromstring(request.get_data(), parser)
    except Exception:
        return page("<p>Invalid XML</p>"), 400
    return page("<p>Imported note: " + html.escape("".join(root.itertext())) + "</p>")


@app.route("/api/notes/import", methods=["POST"])
def api_notes_import():
    # Only a raw application/xml body: external entities resolved.
    return import_note(etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True) if etree else None)


@app.route("/api/notes/import_safe", methods=["POST"])
def api_notes_import_safe():
    return import_note(etree.XMLParser(resolve_entities=False, no_network=True) if etree else None)


def json_body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@app.route("/api/items/search", methods=["POST"])
def api_items_search():
    body = json_body()
    if body is None:
        return Response(json.dumps({"error": "send a JSON object"}), status=415, mimetype="application/json")
    try:
        rows = db().execute(
            "SELECT title FROM items WHERE category = '" + str(body.get("category", "")) + "' LIMIT "
            + str(int(body.get("limit", 10)))
        ).fetchall()
    except Exception:
        rows = []
    return Response(json.dumps({"titles": [r[0] for r in rows]}), mimetype="application/json")


@app.route("/api/items/search_safe", methods=["POST"])
def api_items_search_safe():
    body = json_body()
    if body is None:
        return Response(json.dumps({"error": "send a JSON object"}), status=415, mimetype="application/json")
    try:
        limit = int(body.get("limit", 10))
    except (TypeError, ValueError):
        return Response(json.dumps({"error": "limit must be a number"}), status=400, mimetype="application/json")
    rows = db().execute("SELECT title FROM items WHERE category = ? LIMIT ?", (str(body.get("category", "")), limit)).fetchall()
    return Response(json.dumps({"titles": [r[0] for r in rows]}), mimetype="application/json")


# --- Members (scripted login) ----------------------------------------------------------------
# Server-side sessions in the AUTHSID cookie. A session expires after SESSION_USES requests
# (the scanner must notice and sign in again). Every successful login prints
# "LOGIN <session id>" on standard output, for the tests to check that no session id leaks.

MEMBERS = {"alice": "Tr0ub4dor&3-palisade"}
SESSION_USES = 40
AUTH_SESSIONS = {}
AUTH_LOCK = threading.Lock()


def auth_session():
    sid = request.cookies.get("AUTHSID", "")
    with AUTH_LOCK:
        return sid, AUTH_SESSIONS.get(sid)


def new_auth_session(user=None):
    sid = secrets.token_urlsafe(24)
    with AUTH_LOCK:
        AUTH_SESSIONS[sid] = {"user": user, "csrf": secrets.token_hex(16), "uses": 0}
    return sid


def member():
    """The signed-in user's name and session id, counting one use; None when not signed in."""
    sid, session_data = auth_session()
    if session_data is None or session_data["user"] is None:
        return None
    with AUTH_LOCK:
        session_data["uses"] += 1
        if session_data["uses"] > SESSION_USES:
            del AUTH_SESSIONS[sid]
            return None
    return session_data["user"], sid


def to_login(book=""):
    response = redirect("/auth" + book + "/login", code=303)
    response.delete_cookie("AUTHSID")
    return response


def login_page(book, error=""):
    sid, session_data = auth_session()
    if session_data is None:
        sid = new_auth_session()
        session_data = AUTH_SESSIONS[sid]
    response = Response(page(
        "<h1>Sign in</h1>" + error +
        '<form method="post" action="/auth' + book + '/login">'
        '<input type="hidden" name="csrf" value="' + session_data["csrf"] + '">'
        '<input name="user"><input type="password" name="password">'
        '<input type="submit" value="Sign in"></form>'
    ))
    response.set_cookie("AUTHSID", sid, httponly=True, samesite="Lax")
    return response


def sign_in(book, regenerate):
    sid, session_data = auth_session()
    if session_data is None or request.form.get("csrf") != session_data["csrf"]:
        return login_page(book, "<p>Session expired, try again</p>")
    user = request.form.get("user", "")
    if MEMBERS.get(user) is None or not hmac.compare_digest(MEMBERS[user], request.form.get("password", "")):
        return login_page(book, "<p>Invalid credentials</p>")
    if regenerate:
        with AUTH_LOCK:
            AUTH_SESSIONS.pop(sid, None)
        sid = new_auth_session(user)
    else:
        with AUTH_LOCK:
            session_data["user"] = user  # the id from before the login stays valid: fixation
    print("LOGIN", sid, flush=True)
    response = redirect("/auth/home", code=303)
    response.set_cookie("AUTHSID", sid, httponly=True, samesite="Lax")
    return response


@app.route("/auth/login", methods=["GET", "POST"])
def auth_login():
    # A new session id on every login.
    return sign_in("", regenerate=True) if request.method == "POST" else login_page("")


@app.route("/auth/weak/login", methods=["GET", "POST"])
def auth_weak_login():
    # The session id the login page handed out is signed in.
    return sign_in("/weak", regenerate=False) if request.method == "POST" else login_page("/weak")


@app.route("/auth/home")
def auth_home():
    signed_in = member()
    if signed_in is None:
        return to_login()
    return page(
        "<p>Signed in as " + html.escape(signed_in[0]) + "</p>"
        '<a href="/auth/search?q=ali">member search</a> <a href="/auth/logout">sign out</a>'
    )


@app.route("/auth/search")
def auth_search():
    # Only reachable signed in: SQL concatenation.
    if member() is None:
        return to_login()
    q = request.args.get("q", "")
    try:
        rows = db().execute("SELECT name, email FROM users WHERE name LIKE '%" + q + "%'").fetchall()
    except Exception:
        rows = []
    return page("<p>Members matching " + html.escape(q) + "</p>" + rows_html(rows))


@app.route("/auth/logout")
def auth_logout():
    sid, _ = auth_session()
    with AUTH_LOCK:
        AUTH_SESSIONS.pop(sid, None)
    return to_login()


# --- Only in openapi.yaml -------------------------------------------------------------------


def json_response(value, status=200):
    return Response(json.dumps(value), status=status, mimetype="application/json")


@app.route("/api/v1/orders/<order_id>")
def api_v1_order(order_id):
    try:
        rows = db().execute("SELECT id, title FROM items WHERE id = '" + order_id + "'").fetchall()
    except Exception:
        rows = []
    return json_response({"orders": rows})


@app.route("/api/v1/safe/orders/<order_id>")
def api_v1_safe_order(order_id):
    rows = db().execute("SELECT id, title FROM items WHERE id = ?", (order_id,)).fetchall()
    return json_response({"orders": rows})


@app.route("/api/v1/reports")
def api_v1_reports():
    # The header becomes part of the template.
    return render_template_string("<h1>Report " + request.headers.get("X-Report-Name", "monthly") + "</h1>")


@app.route("/api/v1/safe/reports")
def api_v1_safe_reports():
    return render_template_string("<h1>Report {{ name }}</h1>", name=request.headers.get("X-Report-Name", "monthly"))


@app.route("/api/v1/diagnostics", methods=["POST"])
def api_v1_diagnostics():
    body = json_body()
    if body is None:
        return json_response({"error": "send a JSON object"}, 415)
    out = subprocess.run("echo PING " + str(body.get("host", "")), shell=True, capture_output=True, text=True, timeout=15)
    return json_response({"output": out.stdout})


@app.route("/api/v1/safe/diagnostics", methods=["POST"])
def api_v1_safe_diagnostics():
    body = json_body()
    if body is None:
        return json_response({"error": "send a JSON object"}, 415)
    out = subprocess.run(["echo", "PING", str(body.get("host", ""))], capture_output=True, text=True, timeout=15)
    return json_response({"output": out.stdout})


@app.route("/api/v1/import", methods=["PUT", "DELETE"])
def api_v1_import():
    if request.method == "DELETE":
        return "deleted", 500  # a scan never gets here
    return import_note(etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True) if etree else None)


@app.route("/openapi.yaml")
def openapi_document():
    # Served for `--openapi http://…/openapi.yaml`; no page links to it.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.yaml")) as f:
        return Response(f.read(), mimetype="application/yaml")


@app.route("/api/v1/status")
def api_v1_status():
    return json_response({"status": "ok"})


# --- Stored XSS --------------------------------------------------------------------------

GUESTBOOKS = {"": [], "/safe": []}
MAX_ENTRIES = 200


def guestbook_page(book, render):
    entries = "".join("<li>" + render(name, message) + "</li>" for name, message in GUESTBOOKS[book])
    return page(
        "<h1>Guestbook</h1><ul>" + entries + "</ul>"
        '<form method="post" action="/guestbook' + book + '/sign"><input name="name">'
        '<textarea name="message"></textarea><input type="submit" value="Sign"></form>'
    )


def sign(book):
    entries = GUESTBOOKS[book]
    entries.append((request.form.get("name", ""), request.form.get("message", "")))
    del entries[:-MAX_ENTRIES]
    return redirect("/guestbook" + book, code=303)


@app.route("/guestbook")
def guestbook():
    # The name is escaped, the message is not.
    return guestbook_page("", lambda name, message: "<b>" + html.escape(name) + "</b>: " + message)


@app.route("/guestbook/sign", methods=["POST"])
def guestbook_sign():
    return sign("")


@app.route("/guestbook/safe")
def guestbook_safe():
    return guestbook_page("/safe", lambda name, message: "<b>" + html.escape(name) + "</b>: " + html.escape(message))


@app.route("/guestbook/safe/sign", methods=["POST"])
def guestbook_safe_sign():
    return sign("/safe")


# --- Server-side requests ----------------------------------------------------------------


def is_address(host):
    try:
        ipaddress.ip_address(host or "")
        return True
    except ValueError:
        return host == "localhost"


@app.route("/ssrf/fetch")
def ssrf_fetch():
    # Fetches any http(s) URL it is given (relative ones on this app): no destination allowlist.
    url = urllib.parse.urljoin(request.host_url, request.args.get("url", ""))
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https"):
        return page("<p>Only http and https URLs</p>"), 400
    if not is_address(parsed.hostname):
        # The test app never resolves names so that tests stay offline.
        return page("<p>Unknown host</p>"), 502
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read(20000).decode(errors="replace")
    except Exception:
        return page("<p>Fetch failed</p>"), 502
    return page("<pre>" + html.escape(body) + "</pre>")


FEEDS = {"https://feeds.example.org/news.xml": "<rss><channel><title>News</title></channel></rss>"}


@app.route("/ssrf/safe")
def ssrf_safe():
    url = request.args.get("url", "")
    if url not in FEEDS:  # allowlist: every other destination is refused before any request
        return page("<p>Feed not allowed</p>"), 403
    # Stands in for fetching the allowlisted feed (the test app stays offline).
    return page("<pre>" + html.escape(FEEDS[url]) + "</pre>")


# --- Sessions and tokens -----------------------------------------------------------------

SESSION_COUNTER = itertools.count(100000)
COUNTER_LOCK = threading.Lock()


def reset_form(token):
    return page(
        '<form method="post" action="/account/reset/confirm">'
        '<input type="hidden" name="reset_token" value="' + token + '">'
        '<input type="email" name="email"><input type="submit" value="Reset"></form>'
    )


@app.route("/account/legacy")
def account_legacy():
    # Session ids from a counter: the next visitor's id is this one plus one.
    with COUNTER_LOCK:
        sid = str(next(SESSION_COUNTER))
    response = Response(page("<p>Welcome, guest.</p>"))
    response.set_cookie("LEGACYSESSID", sid, httponly=True, samesite="Lax")
    return response


@app.route("/account/reset")
def account_reset():
    # A reset token from the clock: hexadecimal microseconds.
    return reset_form(format(time.time_ns() // 1000, "x"))


@app.route("/account/pin")
def account_pin():
    # Random but tiny: 24 bits.
    response = Response(page("<p>Enter your PIN.</p>"))
    response.set_cookie("pin_session", secrets.token_hex(3), httponly=True, samesite="Lax")
    return response


@app.route("/account/static")
def account_static():
    # The same anti-CSRF token for everybody.
    return page(
        '<form method="post" action="/account/reset/confirm">'
        '<input type="hidden" name="csrf_token" value="d41d8cd98f00b204e9800998ecf8427e">'
        '<input type="email" name="email"><input type="submit" value="Send"></form>'
    )


@app.route("/api/invite")
def api_invite():
    # Long, but only three random digits.
    token = "INV-2024-ALICE-" + str(random.randrange(1000)).zfill(3)
    return Response(json.dumps({"invite_token": token, "expires_in": 3600}), mimetype="application/json")


@app.route("/account/strong")
def account_strong():
    response = Response(page("<p>Welcome, guest.</p>"))
    response.set_cookie("sid", secrets.token_urlsafe(32), httponly=True, samesite="Lax")
    return response


@app.route("/account/reset_safe")
def account_reset_safe():
    return reset_form(secrets.token_hex(16))


@app.route("/account/prefs")
def account_prefs():
    # Flask's signed session cookie: equal for equal data within a second, but signed data,
    # not an identifier.
    session["theme"] = "light"
    return page("<p>Preferences saved.</p>")


@app.route("/account/reset/confirm", methods=["POST"])
def account_reset_confirm():
    return page("<p>If the address is known, a message is on its way.</p>")


# --- Serialized objects ------------------------------------------------------------------
# The blobs are the app's own pickles; the scanner only ever sends them back cut short.


def error_page(e):
    return page("<pre>" + html.escape(type(e).__module__ + "." + type(e).__name__ + ": " + str(e)) + "</pre>"), 500


def show(obj):
    return page("<p>" + html.escape(repr(obj)) + "</p>")


@app.route("/deser/profile")
def deser_profile():
    # Unpickles whatever the client sends back.
    try:
        return show(pickle.loads(base64.b64decode(request.args.get("data", ""))))
    except Exception as e:
        return error_page(e)


@app.route("/deser/cart")
def deser_cart():
    # The cart lives in a pickled cookie.
    blob = request.cookies.get("cart")
    if blob is None:
        response = Response(show(["apple"]))
        response.set_cookie("cart", base64.b64encode(pickle.dumps(["apple"], protocol=4)).decode(),
                            httponly=True, samesite="Lax")
        return response
    try:
        return show(pickle.loads(base64.b64decode(blob)))
    except Exception as e:
        return error_page(e)


@app.route("/deser/signed")
def deser_signed():
    # The same blob, but its HMAC is checked before anything is decoded.
    data = request.args.get("data", "")
    if not hmac.compare_digest(sign_blob(data), request.args.get("sig", "")):
        return page("<p>Invalid signature</p>"), 403
    return show(pickle.loads(base64.b64decode(data)))


LOOKUPS = {PROFILE: "guest profile"}


@app.route("/deser/lookup")
def deser_lookup():
    # A pickle-looking reference used as an opaque key: never decoded.
    ref = request.args.get("ref", "")
    if ref not in LOOKUPS:
        return page("<p>Unknown reference</p>"), 404
    return page("<p>" + LOOKUPS[ref] + "</p>")


@app.route("/deser/json")
def deser_json():
    # Base64 JSON: data, not objects.
    try:
        return show(json.loads(base64.b64decode(request.args.get("data", ""))))
    except Exception as e:
        return error_page(e)


# --- CORS ----------------------------------------------------------------------------------


@app.route("/api/profile")
def api_profile():
    response = Response(json.dumps({"name": "alice"}), mimetype="application/json")
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    else:
        response.headers["Access-Control-Allow-Origin"] = "https://app.example"
    return response


@app.route("/api/public")
def api_public():
    response = Response(json.dumps({"status": "ok"}), mimetype="application/json")
    origin = request.headers.get("Origin", "")
    response.headers["Access-Control-Allow-Origin"] = origin if origin == "https://app.example" else "https://app.example"
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


@app.route("/.git/HEAD")
def git_head():
    return Response("ref: refs/heads/main\n", mimetype="text/plain")


@app.route("/.env")
def dotenv():
    return Response("SECRET_KEY=not-a-real-secret\nDATABASE_URL=sqlite:///app.db\n", mimetype="text/plain")


@app.route("/debug/trace")
def debug_trace():
    try:
        int(request.args.get("id", "")) / 0
    except Exception:
        return page("<pre>" + html.escape(traceback.format_exc()) + "</pre>"), 500
    return page("ok")


@app.route("/private/admin")
def private_admin():
    # Disallowed by robots.txt: a polite crawler never gets here.
    out = subprocess.run("echo " + request.args.get("cmd", ""), shell=True, capture_output=True, text=True, timeout=15)
    return page("<pre>" + html.escape(out.stdout) + "</pre>")


@app.errorhandler(404)
def soft_404(_error):
    # A soft 404: status 200 for every unknown path (a classic false-positive source).
    return page("<p>Page not found</p>"), 200


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True, debug=False)
