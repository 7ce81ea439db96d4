# expect: CWE-78
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import subprocess

@app.route("/ls", methods=["POST"])
def ls():
    d = request.form.get("dir")
    out = subprocess.check_output(f"ls -l {d}", shell=True)
    return {"out": out.decode()}
