# expect: CWE-501
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/set")
def set_user():
    session["user"] = request.args.get("user")
    return "ok"
