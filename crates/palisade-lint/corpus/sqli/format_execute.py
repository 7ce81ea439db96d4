# expect: CWE-89
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import sqlite3

@app.route("/user")
def user():
    name = request.args.get("name", "")
    conn = sqlite3.connect("app.db")
    rows = conn.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchall()
    return {"rows": rows}
