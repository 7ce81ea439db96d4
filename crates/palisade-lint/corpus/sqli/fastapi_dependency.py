# expect: safe CWE-89
from fastapi import FastAPI, Depends
import sqlite3

app = FastAPI()

def get_db():
    return sqlite3.connect("x")

@app.get("/items")
def items(db=Depends(get_db)):
    cur = db.cursor()
    cur.execute("SELECT * FROM items")
    return cur.fetchall()
