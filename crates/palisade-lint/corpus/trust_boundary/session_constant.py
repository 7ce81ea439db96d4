# expect: safe CWE-501
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/set")
def set_user():
    value = request.args.get("user")
    if value.isalnum():
        session["user"] = value
    return "ok"
