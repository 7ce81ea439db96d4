# expect: CWE-328
import hashlib

def sign(data):
    h = hashlib.new("sha1")
    h.update(data)
    return h.hexdigest()
