# expect: CWE-89
from fastapi import FastAPI
import sqlite3

app = FastAPI()

@app.get("/items")
def items(q: str):
    cur = sqlite3.connect("x").cursor()
    cur.execute("SELECT * FROM items WHERE name LIKE '%" + q + "%'")
    return cur.fetchall()
