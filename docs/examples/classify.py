"""Classify and embed a file with the amodal API from Python (requests; numpy for the vector).

    python3 docs/examples/classify.py violin.flac [http://localhost:8000]
"""
import base64
import sys

import numpy as np
import requests

path = sys.argv[1]
base = sys.argv[2] if len(sys.argv) > 2 else "http://localhost:8000"

with open(path, "rb") as f:
    data = f.read()
res = requests.post(f"{base}/v1/classify", params={"top_k": 3}, data=data)
if not res.ok:
    raise RuntimeError(res.json()["detail"])  # errors are application/problem+json
body = res.json()
print(body["label"], body["score"], ", ".join(f'{s["label"]} {s["score"]}' for s in body["scores"]), body["model"])
print("request id", res.headers["x-request-id"], "cache", res.headers["x-cache"])

# The joint-space embedding as float32, without parsing 128 JSON numbers.
embed = requests.post(f"{base}/v1/embed", params={"encoding": "base64"}, data=data).json()
vector = np.frombuffer(base64.b64decode(embed["embedding"]), dtype="<f4")
print(embed["space"], vector.shape, vector[:3])
