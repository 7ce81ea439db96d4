# expect: safe CWE-601
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

SAFE = {"/home": 1, "/account": 1}

@app.route("/login")
def login():
    target = request.args.get("next", "/")
    if target in SAFE:
        return redirect(target)
    return redirect("/")
