# expect: CWE-22
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from flask import send_file

@app.route("/dl/<path:fname>")
def dl(fname):
    return send_file("/srv/data/" + fname)
