# expect: CWE-918
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import requests

@app.route("/fetch")
def fetch():
    url = request.args["url"]
    return requests.get(url, timeout=5).text[:100]
