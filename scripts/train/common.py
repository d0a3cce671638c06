"""Shared helpers for the offline training scripts (read by translate.py, pca.py, forests.py).

The embedding cache is written by scripts/embed/extract.ts: per encoder one folder holding, per
dataset split, ``<split>.f32`` (row-major float32 little-endian, ``dim`` columns) and
``<split>.jsonl`` (one JSON object per row, same order: id, label, modality, domain, group,
source, view). ``meta.json`` in the folder gives ``dim`` and the encoder name; with ``scoresDim``
the folder also holds ``<split>.scores.f32``, the encoder's window-mean class scores of the same rows.
"""

import json
import os
import random

import numpy as np


def seed_everything(seed):
    """Seeds python, numpy and (when imported) torch, so runs repeat."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def load_split(folder, split):
    """Returns (X float32 [n, dim], rows list of dicts) for one split, or empty arrays."""
    with open(os.path.join(folder, "meta.json")) as f:
        dim = json.load(f)["dim"]
    index = os.path.join(folder, split + ".jsonl")
    if not os.path.exists(index):
        return np.zeros((0, dim), np.float32), []
    with open(index) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    data = np.fromfile(os.path.join(folder, split + ".f32"), dtype="<f4")
    # The .f32 file may hold a partial batch past the index after an interrupted run.
    data = data[: len(rows) * dim].reshape(len(rows), dim)
    return data, rows


def load_scores(folder, split, n):
    """The encoder's window-mean class scores of a split's rows ([n, scoresDim] float32), stored
    beside the embeddings (``<split>.scores.f32``, extract.ts `withScores`), or None when the folder
    has none."""
    with open(os.path.join(folder, "meta.json")) as f:
        sdim = json.load(f).get("scoresDim")
    path = os.path.join(folder, split + ".scores.f32")
    if not sdim or not os.path.exists(path):
        return None
    return np.fromfile(path, dtype="<f4")[: n * sdim].reshape(n, sdim)


def select(X, rows, keep):
    """Rows of (X, rows) for which keep(row) is true."""
    idx = [i for i, r in enumerate(rows) if keep(r)]
    return X[idx], [rows[i] for i in idx]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value, compact=False):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        if compact:
            json.dump(value, f, separators=(",", ":"))
        else:
            json.dump(value, f, indent=2)
            f.write("\n")
    os.replace(tmp, path)


def f32_list(values):
    """float32 values as the shortest decimals that read back as the same float32.

    json then prints e.g. 0.1 instead of 0.10000000149011612; readers round with
    Math.fround / np.float32 to get the exact float32 back.
    """
    return [float(str(v)) for v in np.asarray(values, np.float32).ravel()]
