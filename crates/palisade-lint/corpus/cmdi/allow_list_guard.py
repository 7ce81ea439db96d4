# expect: safe CWE-78
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import os

ALLOWED = ("uptime", "date")

@app.route("/run")
def run():
    cmd = request.args.get("cmd", "")
    if cmd not in ALLOWED:
        return "no", 400
    os.system(cmd)
    return "ok"
