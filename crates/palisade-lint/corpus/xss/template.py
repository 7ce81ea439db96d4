# expect: safe CWE-79
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return render_template("hello.html", name=name)
