# expect: CWE-94
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

@app.route("/run", methods=["POST"])
def run():
    code = request.get_data(as_text=True)
    exec(code)
    return "done"
