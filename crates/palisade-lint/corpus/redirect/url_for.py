# expect: safe CWE-601
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from flask import url_for

@app.route("/login")
def login():
    page = request.args.get("page")
    return redirect(url_for("home"))
