# expect: safe CWE-89
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import sqlite3

@app.route("/q")
def q():
    ident = int(request.args.get("id", "0"))
    sqlite3.connect("x").execute("SELECT * FROM t WHERE id = %d" % ident)
    return "ok"
