# expect: safe CWE-611
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from defusedxml import ElementTree

@app.route("/xml", methods=["POST"])
def xml():
    doc = ElementTree.fromstring(request.data)
    return doc.tag
