# expect: CWE-611
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from lxml import etree

@app.route("/xml", methods=["POST"])
def xml():
    parser = etree.XMLParser(resolve_entities=True)
    doc = etree.fromstring(request.data, parser)
    return doc.tag
