# expect: CWE-79
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/greet")
def greet():
    who = request.cookies.get("who")
    resp = make_response("<p>" + who + "</p>")
    return resp
