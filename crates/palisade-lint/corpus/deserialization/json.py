# expect: safe CWE-502
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import json

@app.route("/load", methods=["POST"])
def load():
    obj = json.loads(request.data)
    return {"n": len(obj)}
