# expect: CWE-22
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import os
BASE = "/srv/files"

@app.route("/file")
def file():
    name = request.args.get("name")
    with open(os.path.join(BASE, name)) as f:
        return f.read()
