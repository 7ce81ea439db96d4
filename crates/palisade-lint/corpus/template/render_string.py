# expect: CWE-1336
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from flask import render_template_string

@app.route("/t")
def t():
    return render_template_string("Hello " + request.args.get("name", ""))
