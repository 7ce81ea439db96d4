# expect: CWE-643
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

from lxml import etree

@app.route("/find")
def find():
    name = request.args.get("name")
    root = etree.parse("users.xml")
    hits = root.xpath("//user[@name='" + name + "']")
    return {"n": len(hits)}
