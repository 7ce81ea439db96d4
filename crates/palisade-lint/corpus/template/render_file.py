# expect: safe CWE-1336
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/t")
def t():
    return render_template("hello.html", name=request.args.get("name", ""))
