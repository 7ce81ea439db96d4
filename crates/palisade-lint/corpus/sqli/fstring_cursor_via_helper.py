# expect: CWE-89
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import sqlite3

def find(cur, ident):
    sql = f"SELECT * FROM items WHERE id = {ident}"
    cur.execute(sql)
    return cur.fetchall()

@app.route("/item", methods=["POST"])
def item():
    cur = sqlite3.connect("app.db").cursor()
    return {"rows": find(cur, request.form["id"])}
