# expect: CWE-502
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import pickle

@app.route("/load", methods=["POST"])
def load():
    obj = pickle.loads(request.data)
    return str(obj)
