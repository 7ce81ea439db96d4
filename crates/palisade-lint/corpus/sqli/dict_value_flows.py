# expect: CWE-89
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import sqlite3

@app.route("/q")
def q():
    values = {}
    values["a"] = "safe"
    values["b"] = request.cookies.get("pref")
    sql = "SELECT * FROM t WHERE col = '" + values["b"] + "'"
    sqlite3.connect("x").execute(sql)
    return "ok"
