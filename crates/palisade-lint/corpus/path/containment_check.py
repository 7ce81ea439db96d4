# expect: safe CWE-22
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import os
BASE = "/srv/files"

@app.route("/file")
def file():
    full = os.path.realpath(os.path.join(BASE, request.args.get("name")))
    if not full.startswith(BASE + os.sep):
        return "no", 403
    with open(full) as f:
        return f.read()
