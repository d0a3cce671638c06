"""Metrics of the report: retrieval NDCG@k with graded relevance, class-balanced batches,
centroid distances, macro-F1 helpers. Pure numpy/scikit-learn, no I/O (tested in tests/scripts/report/).
"""

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score


def l2_normalise(x):
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def cosine_similarity(q, c):
    """[nq, nc] cosine similarities between query rows and candidate rows."""
    return l2_normalise(q) @ l2_normalise(c).T


def discounts(k):
    """DCG position discounts 1 / log2(rank + 1) for ranks 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def ndcg_at_k(sim, q_labels, c_labels, rel, k=30):
    """Per-query NDCG@k of ranking the candidates by `sim` (higher first).

    Gain of a retrieved candidate = rel[query label, candidate label] (graded, in [0, 1]);
    DCG@k = sum over ranks r = 1..k of gain_r / log2(r + 1); the ideal DCG sorts all candidates
    by gain. Ties in `sim` keep candidate order (stable sort). Queries whose ideal DCG is 0 (no
    candidate with any relevance) get NaN and are left out of means by the caller.

    Args:
        sim: [nq, nc] similarities.
        q_labels, c_labels: integer label indices of queries and candidates.
        rel: [L, L] relevance between label indices.
        k: cut-off.
    Returns:
        [nq] NDCG@k values.
    """
    sim = np.asarray(sim, np.float64)
    q_labels, c_labels = np.asarray(q_labels), np.asarray(c_labels)
    k = min(k, sim.shape[1])
    disc = discounts(k)
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    gains = rel[q_labels[:, None], c_labels[order]]
    dcg = (gains * disc).sum(axis=1)
    ideal = -np.sort(-rel[q_labels][:, c_labels], axis=1)[:, :k]
    idcg = (ideal * disc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1), np.nan)


def random_ndcg_at_k(q_labels, c_labels, rel, k=30):
    """Expected per-query NDCG@k of a uniformly random ordering (exact, no sampling).

    Every rank holds each candidate with probability 1/nc, so its expected gain is the mean gain
    over the candidates; the ideal DCG does not depend on the ordering.
    """
    q_labels, c_labels = np.asarray(q_labels), np.asarray(c_labels)
    k = min(k, len(c_labels))
    disc = discounts(k)
    g = rel[q_labels][:, c_labels]
    expected = g.mean(axis=1) * disc.sum()
    idcg = (-np.sort(-g, axis=1)[:, :k] * disc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, expected / np.where(idcg > 0, idcg, 1), np.nan)


def balanced_order(y, rng):
    """Per label, its row indices in a seeded random order: {label: array}."""
    y = np.asarray(y)
    return {int(l): rng.permutation(np.flatnonzero(y == l)) for l in np.unique(y)}


def balanced_take(order, per_label):
    """The first `per_label` rows of every label (all of a label's rows when it has fewer).

    Batches taken with growing `per_label` from the same order are nested, so a learning curve
    adds data and never swaps it. Returns sorted indices.
    """
    if per_label <= 0:
        return np.zeros(0, np.int64)
    return np.sort(np.concatenate([idx[:per_label] for idx in order.values()])).astype(np.int64)


def curve_steps(order, wanted=(1, 2, 5, 10, 20)):
    """Per-label counts for a learning curve: 0, the `wanted` counts below the largest label's
    size, and that size (= all target data)."""
    top = max((len(v) for v in order.values()), default=0)
    return [0] + [w for w in wanted if w < top] + ([top] if top else [])


def centroids(x, keys):
    """Mean row per distinct key, in sorted key order: (keys, [n_keys, dim])."""
    uniq = sorted(set(keys))
    keys = np.array(keys, dtype=object)
    return uniq, np.stack([np.asarray(x, np.float64)[keys == k].mean(axis=0) for k in uniq])


def cosine_distance_matrix(c):
    """1 - cosine similarity between the rows of c."""
    return 1.0 - cosine_similarity(c, c)


def macro_f1(y, pred, labels):
    """Mean F1 over `labels` (label indices), plus the per-label F1 values."""
    per = f1_score(y, pred, labels=list(labels), average=None, zero_division=0)
    return float(np.mean(per)) if len(per) else float("nan"), [float(v) for v in per]


def confusion(y, pred, labels):
    """Confusion counts [true, predicted] over `labels` (rows: true label; other predictions dropped)."""
    return confusion_matrix(y, pred, labels=list(labels))


def mean_std(values):
    """{"mean", "std", "n", "values"} of a list (population std, NaN-free values only)."""
    v = np.array([x for x in values if x is not None and not np.isnan(x)], np.float64)
    if v.size == 0:
        return {"mean": None, "std": None, "n": 0, "values": []}
    return {"mean": round(float(v.mean()), 4), "std": round(float(v.std()), 4), "n": int(v.size),
            "values": [round(float(x), 4) for x in v]}
