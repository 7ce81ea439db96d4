"""A deliberately vulnerable Django application for measuring `palisade scan`: the same
categories as the Flask app written the way Django code goes wrong (raw SQL through
`connection.cursor()` with string formatting, `mark_safe` and the `|safe` filter, redirects to
`next` without `url_has_allowed_host_and_scheme`), each next to the safe Django idiom.

NEVER expose it: it runs SQL built from request parameters. It binds to 127.0.0.1 only.
labels.toml lists which endpoint parameter is which.

Usage: python app.py PORT
"""

import sys

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="palisade-testapp-not-a-secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    # No CSRF middleware: the forms post without tokens.
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
)
django.setup()

from django.db import connection  # noqa: E402
from django.http import HttpResponse, HttpResponseRedirect  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import escape, format_html  # noqa: E402
from django.utils.http import url_has_allowed_host_and_scheme  # noqa: E402
from django.utils.safestring import mark_safe  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


def page(body):
    return HttpResponse(
        "<!DOCTYPE html><html><head><title>Django test app</title></head><body>" + body + "</body></html>"
    )


def cursor():
    """A cursor on this thread's in-memory database (runserver serves each request on a
    thread of its own, each with its own connection), filled on first use."""
    c = connection.cursor()
    c.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER, category TEXT, title TEXT)")
    c.execute("CREATE TABLE IF NOT EXISTS accounts (id INTEGER, email TEXT, name TEXT)")
    c.execute("SELECT COUNT(*) FROM items")
    if c.fetchone()[0] == 0:
        c.executemany(
            "INSERT INTO items VALUES (%s, %s, %s)",
            [(1, "books", "Dune"), (2, "books", "Emma"), (3, "music", "Abbey Road")],
        )
        c.executemany(
            "INSERT INTO accounts VALUES (%s, %s, %s)",
            [(1, "alice@example.com", "alice"), (2, "bob@example.com", "bob")],
        )
    return c


def titles(rows):
    return "<ul>" + "".join(format_html("<li>{}</li>", r[0]) for r in rows) + "</ul>"


@require_GET
def index(request):
    return page(
        """
<h1>Deliberately vulnerable Django test application</h1>
<h2>SQL</h2>
<a href="/products/?category=books">products</a> <a href="/products/safe/?category=books">products (safe)</a>
<form method="post" action="/accounts/lookup/"><input type="email" name="email"><input type="submit" value="Find"></form>
<form method="post" action="/accounts/lookup_safe/"><input type="email" name="email"><input type="submit" value="Find"></form>
<h2>HTML</h2>
<a href="/greet/?name=guest">greet</a> <a href="/greet/safe/?name=guest">greet (safe)</a>
<a href="/bio/?bio=hello">bio</a> <a href="/bio/safe/?bio=hello">bio (safe)</a>
<h2>Redirects</h2>
<a href="/login/?next=/">login</a> <a href="/login/safe/?next=/">login (safe)</a>
<a href="/logout/?next=/">logout</a> <a href="/logout/safe/?next=/">logout (safe)</a>
"""
    )


# --- SQL injection -----------------------------------------------------------------------


@require_GET
def products(request):
    c = cursor()
    try:  # string formatting into raw SQL; errors swallowed (boolean-blind)
        c.execute("SELECT title FROM items WHERE category = '%s'" % request.GET.get("category", ""))
        rows = c.fetchall()
    except Exception:
        rows = []
    return page("<p>" + str(len(rows)) + " products</p>" + titles(rows))


@require_GET
def products_safe(request):
    c = cursor()
    c.execute("SELECT title FROM items WHERE category = %s", [request.GET.get("category", "")])
    rows = c.fetchall()
    return page("<p>" + str(len(rows)) + " products</p>" + titles(rows))


@require_POST
def lookup(request):
    c = cursor()
    try:  # an f-string into raw SQL; the database error is shown
        c.execute(f"SELECT name FROM accounts WHERE email = '{request.POST.get('email', '')}'")
        row = c.fetchone()
    except Exception as e:
        return HttpResponse(escape(type(e).__module__ + "." + type(e).__name__ + ": " + str(e)), status=500)
    return page(format_html("<p>Account: {}</p>", row[0]) if row else "<p>No such account</p>")


@require_POST
def lookup_safe(request):
    c = cursor()
    c.execute("SELECT name FROM accounts WHERE email = %s", [request.POST.get("email", "")])
    row = c.fetchone()
    return page(format_html("<p>Account: {}</p>", row[0]) if row else "<p>No such account</p>")


# --- XSS ---------------------------------------------------------------------------------


@require_GET
def greet(request):
    return page(mark_safe("<p>Hello " + request.GET.get("name", "") + "</p>"))


@require_GET
def greet_safe(request):
    return page(format_html("<p>Hello {}</p>", request.GET.get("name", "")))


BIO = engines["django"].from_string('<div class="bio">{{ bio|safe }}</div>')
BIO_SAFE = engines["django"].from_string('<div class="bio">{{ bio }}</div>')


@require_GET
def bio(request):
    return page(BIO.render({"bio": request.GET.get("bio", "")}))


@require_GET
def bio_safe(request):
    return page(BIO_SAFE.render({"bio": request.GET.get("bio", "")}))


# --- Open redirects ----------------------------------------------------------------------


@require_GET
def login(request):
    return HttpResponseRedirect(request.GET.get("next", "/"))


@require_GET
def login_safe(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


@require_GET
def logout(request):
    # Only checks for a leading slash: `//host` and `/\host` leave the site.
    target = request.GET.get("next", "/")
    return HttpResponseRedirect(target if target.startswith("/") else "/")


@require_GET
def logout_safe(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


urlpatterns = [
    path("", index),
    path("products/", products),
    path("products/safe/", products_safe),
    path("accounts/lookup/", lookup),
    path("accounts/lookup_safe/", lookup_safe),
    path("greet/", greet),
    path("greet/safe/", greet_safe),
    path("bio/", bio),
    path("bio/safe/", bio_safe),
    path("login/", login),
    path("login/safe/", login_safe),
    path("logout/", logout),
    path("logout/safe/", logout_safe),
]


if __name__ == "__main__":
    from django.core.management import call_command

    call_command("runserver", "127.0.0.1:" + sys.argv[1], use_reloader=False, use_threading=True)
