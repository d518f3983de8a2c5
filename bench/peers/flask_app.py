# Flask under gunicorn, the same route (run: gunicorn --chdir bench/peers flask_app:app).
import time
from datetime import datetime, timezone

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.get("/v1/timestamp")
def timestamp():
    now_ms = time.time_ns() // 1_000_000
    iso = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
    return jsonify(epoch=now_ms // 1000, epochMs=now_ms, iso=iso.replace("+00:00", "Z"))
