# expect: safe CWE-79
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/api")
def api():
    return {"q": request.args.get("q")}
