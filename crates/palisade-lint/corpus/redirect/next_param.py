# expect: CWE-601
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/login")
def login():
    target = request.args.get("next", "/")
    return redirect(target)
