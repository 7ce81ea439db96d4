# expect: CWE-78
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import subprocess

class Runner:
    def run(self, arg):
        cmd = "echo " + arg
        return subprocess.run(cmd, shell=True, capture_output=True)

@app.route("/echo")
def echo():
    r = Runner()
    r.run(request.headers.get("X-Msg", ""))
    return "ok"
