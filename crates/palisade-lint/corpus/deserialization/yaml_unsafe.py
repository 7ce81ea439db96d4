# expect: CWE-502
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import yaml

@app.route("/cfg", methods=["POST"])
def cfg():
    data = yaml.load(request.form["doc"], Loader=yaml.Loader)
    return str(data)
