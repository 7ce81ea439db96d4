# expect: safe CWE-918
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import requests

@app.route("/fetch")
def fetch():
    item = int(request.args["id"])
    return requests.get(f"https://api.example.com/items/{item}", timeout=5).text[:100]
