# expect: CWE-614
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/login", methods=["POST"])
def login():
    resp = make_response("ok")
    resp.set_cookie("session", "abc", httponly=True)
    return resp
