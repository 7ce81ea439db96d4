# expect: CWE-94
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/calc")
def calc():
    expr = request.args.get("e")
    return str(eval(expr))
