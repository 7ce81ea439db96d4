# expect: safe CWE-89
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import sqlite3

@app.route("/q")
def q():
    param = request.args.get("p")
    num = 86
    bar = "constant" if (7 * 42) - num > 200 else param
    sqlite3.connect("x").execute("SELECT * FROM t WHERE c = '" + bar + "'")
    return "ok"
