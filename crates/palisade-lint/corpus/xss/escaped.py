# expect: safe CWE-79
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from markupsafe import escape

@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return "<h1>Hello " + escape(name) + "</h1>"
