# expect: safe CWE-22
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import os
from werkzeug.utils import secure_filename
BASE = "/srv/files"

@app.route("/file")
def file():
    name = secure_filename(request.args.get("name"))
    with open(os.path.join(BASE, name)) as f:
        return f.read()
