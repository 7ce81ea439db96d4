# expect: safe CWE-78
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import os
import shlex

@app.route("/ping")
def ping():
    host = request.args["host"]
    os.system("ping -c 1 " + shlex.quote(host))
    return "sent"
