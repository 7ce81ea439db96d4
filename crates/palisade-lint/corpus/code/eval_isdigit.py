# expect: safe CWE-94
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/calc")
def calc():
    n = request.args.get("n", "")
    if not n.isdigit():
        return "bad", 400
    return str(eval(n + " * 2"))
