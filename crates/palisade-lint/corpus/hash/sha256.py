# expect: safe CWE-328
import hashlib

def store(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()
