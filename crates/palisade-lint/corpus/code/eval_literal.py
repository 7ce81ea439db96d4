# expect: safe CWE-94
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import ast

@app.route("/calc")
def calc():
    expr = request.args.get("e")
    value = ast.literal_eval(expr)
    return str(eval("1 + 1") + value)
