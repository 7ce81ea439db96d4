# expect: CWE-90
from flask import Flask, request, redirect, session, make_response, render_template
app = Flask(__name__)

import ldap

@app.route("/who")
def who():
    uid = request.args.get("uid")
    conn = ldap.initialize("ldap://localhost")
    res = conn.search_s("dc=example,dc=org", ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")
    return {"n": len(res)}
