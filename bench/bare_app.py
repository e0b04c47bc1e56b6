"""A bare FastAPI route with no database: the ceiling bench_api.py compares against."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}
