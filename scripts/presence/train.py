"""Fits the presence model ("is there an instrument at all?") and writes models/presence.json.

Input: `.cache/presence/evidence.jsonl` from `scripts/presence/extract.ts` (pooled encoder class
scores, level, image size and flatness, the forest's top score, with source, group, category).

1. Class groups: YAMNet columns per AudioSet subtree (`../shared/ontology/ontology.json`:
   Musical instrument, the rest of Music, Singing, Silence, Speech, Animal, Sounds of things,
   Natural sounds, Source-ambiguous sounds, Channel/environment/background); MobileNetV2 columns
   of the ImageNet instrument classes (the report's mapping, scripts/report/off_the_shelf.py,
   plus ImageNet's other instruments).
2. Features exactly as lib/classify/presence.ts `presenceFeatures` computes them (logits of
   pooled scores, level in dBFS, entropy, ...); a parity fixture checks the two agree.
3. Hard rules first (too short or too quiet audio -> "silence"; tiny or flat image -> "no
   instrument recognised"); the logistic model (standardised features, balanced class weights)
   sees only items the rules pass.
4. Evaluation by nested group-wise cross-validation (StratifiedGroupKFold over recording
   sessions / collections / generators / icon sets, 5 outer folds): each outer fold's threshold is
   chosen on the inner out-of-fold scores of its training groups only (largest threshold with at
   most TARGET_DEV false "no instrument" on instrument items), then applied to the outer test
   groups. Every item is thus scored by a model and threshold that never saw its group.
5. The served model: fit on all items, threshold from its own group-wise out-of-fold scores.
6. Ablations (reports/presence/metrics.json): the levers tried in round 2 (signal features,
   linear probes on the encoder embeddings and the joint vector, other allowances, an allowance
   calibrated one level deeper), each under the same nested evaluation.

Usage: /usr/bin/python3 scripts/presence/train.py [--evidence PATH] [--out models/presence.json]
"""

import argparse
import csv
import datetime
import hashlib
import json
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "report"))
from off_the_shelf import IMAGENET  # noqa: E402

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.normpath(os.environ.get("AMODAL_SHARED_DIR", os.path.join(REPO, "..", "shared")))

# ImageNet instruments the report's mapping leaves out (it maps only our 18 labels).
IMAGENET_EXTRA = [
    "bassoon", "chime, bell, gong", "drumstick", "French horn, horn", "gong, tam-tam",
    "harmonica, mouth organ, harp, mouth harp", "harp", "maraca", "marimba, xylophone",
    "oboe, hautboy, hautbois", "ocarina, sweet potato", "panpipe, pandean pipe, syrinx", "steel drum",
]
AUDIO_SUBTREES = {
    "instrument": ["Musical instrument"],
    "music": ["Music"],  # minus the instrument subtree, see class_groups
    "singing": ["Singing"],
    "silence": ["Silence"],
    "speech": ["Speech"],
    "animal": ["Animal"],
    "things": ["Sounds of things"],
    "natural": ["Natural sounds"],
    "ambiguous": ["Source-ambiguous sounds"],
    "channel": ["Channel, environment and background"],
}
AUDIO_FEATURES = [
    "instrument_mean", "instrument_max", "music_mean", "music_max", "singing_mean", "singing_max",
    "silence_mean", "speech_mean", "animal_mean", "things_mean", "natural_mean", "ambiguous_mean",
    "channel_mean", "level_dbfs", "mains_hum", "top_score", "music_margin_mean", "music_margin_max",
]
IMAGE_FEATURES = ["instrument_sum", "entropy", "max_prob", "log_pixel_std", "top_score", "instrument_best", "drawing_probe"]
# The class groups whose union is "music" for the audio margin (music_margin_*, round 5).
MUSIC_GROUPS = ("instrument", "music", "singing")
# Round 5: stacked probes, features that are themselves a linear model over the 128-d joint vector, trained on a
# subset of the items. `drawing_probe`: instrument drawings against non-instrument icons (the icon sets), the one
# image gap (round 3). Inside any evaluation its value for a training item is group-wise out-of-fold (GroupKFold over
# that fit's own groups), so the logistic model learns how far the probe carries to unseen icon sets, and for a
# held-out item it comes from a probe fitted on the training items only. A model's columns are its plain features,
# then its probes (ordered()).
PROBES = {
    "drawing_probe": {"input": "joint", "C": 0.1, "scope": "icon sets (instrument drawings vs non-instrument icons)",
                      "in_scope": lambda r: r["source"].startswith("iconify:")},
    # Levers only (not served): the same probe on the encoder's embedding; a probe of all items on the joint vector.
    "drawing_probe_embedding": {"input": "embedding", "C": 0.1, "scope": "icon sets, MobileNetV2 embedding",
                                "in_scope": lambda r: r["source"].startswith("iconify:")},
    "joint_probe": {"input": "joint", "C": 0.1, "scope": "all items", "in_scope": lambda r: True},
}
# Round 4 ablation (session 5): the image encoder's evidence for the label the head names (see features()).
LABEL_FEATURES = ["label_class_sum", "label_has_class"]
# Measured in round 2 and left out of the served model (see the ablations in reports/presence/metrics.json);
# computed from the evidence only, lib/classify/presence.ts does not compute them.
ABLATION_FEATURES = {"audio": ["log_kurtosis"], "image": ["white_fraction", "instrument_sum_white"]}
# The evidence records this code reads: scripts/presence/extract.ts's RECORD_FORMAT (round 6: `clickRatio`).
EVIDENCE_FORMAT = 7
RULES = {
    # Round 5: a clip with at least 80 % of its energy exactly on a 50/60 Hz mains comb is hum or buzz (the generated
    # hum and buzz: 0.968-1.0; instrument recordings: at most 0.37, median 0.002).
    # Round 6: a clip with at least 5 % of its energy in isolated clicks (1 ms frames 10 dB above everything 2-30 ms
    # around them, clickRatio() in lib/classify/presence_signal.ts) is clicks (16 of the 18 generated clicks: 0.24-1.0;
    # every instrument recording of the evidence: 0; the dataset's 20,716 clips: 0 but for 6 render glitches, the
    # largest of them a pad with one pop at 0.041).
    "audio": {"minSeconds": 0.1, "minLevelDbfs": -60.0, "maxMainsRatio": 0.8, "maxClickRatio": 0.05},
    "image": {"minSide": 16, "minPixelStd": 2.0},
}
# False "no instrument" allowed on inner held-out instrument items (the target is 2 %): with ~400 inner
# instrument items, 1 % is the allowance whose one-sided 90 % upper bound stays under 2 %.
TARGET_DEV = 0.01
TARGET = 0.02  # the target: false "no instrument" on held-out instrument items
# Allowances the calibrated rule (an ablation, see calibrated_threshold) chooses from.
ALLOWANCES = [0.005, 0.01, 0.015, 0.02, 0.025, 0.03]
FOLDS = 5
SEED = 1234
# Inverse regularisation strengths the logistic model chooses from (round 3): each fit's C is the one whose
# group-wise out-of-fold scores of its own training items catch the most negatives at the TARGET_DEV threshold,
# so the choice sees only training groups (inside the nested evaluation: the outer fold's training groups).
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
# Round-3 ablation features (ImageNet and AudioSet class scores the served model does not read), see
# ablation_features(); like ABLATION_FEATURES, computed here from the evidence only.
IMAGENET_GROUPS = {  # line ranges of imagenet_labels.txt (0 = background), ImageNet's own class order
    "animal": (1, 399), "food": (924, 971), "nature": (971, 982), "people": (982, 985), "plant": (985, 1001),
}
IMAGENET_SCREENS = [  # screens, keyboards, printed matter: the real-photo and icon negatives' usual top classes
    "cellular telephone", "computer keyboard", "desktop computer", "hand-held computer", "iPod", "laptop", "monitor",
    "mouse, computer", "notebook, notebook", "remote control", "screen, CRT", "space bar", "television",
    "typewriter keyboard", "web site", "comic book", "crossword", "jigsaw", "envelope", "book jacket", "menu",
    "street sign",
]
AUDIO_CONFUSERS = {  # YAMNet classes of the negatives the model lets through most (round-2 breakdown)
    "speech": "Speech", "hum": "Hum", "buzz": "Buzz", "click": "Clicking", "tick": "Tick", "bird": "Bird",
    "animal": "Animal",
}


def subtree(ontology, names):
    by_name = {o["name"]: o for o in ontology}
    by_id = {o["id"]: o for o in ontology}
    out, stack = set(), [by_name[n]["id"] for n in names]
    while stack:
        i = stack.pop()
        if i in out:
            continue
        out.add(i)
        stack.extend(by_id[i].get("child_ids", []))
    return out


def class_groups():
    ontology = json.load(open(os.path.join(SHARED, "ontology", "ontology.json")))
    with open(os.path.join(SHARED, "weights", "yamnet_class_map.csv"), newline="") as f:
        mids = [row["mid"] for row in csv.DictReader(f)]
    ids = {k: subtree(ontology, v) for k, v in AUDIO_SUBTREES.items()}
    ids["music"] -= ids["instrument"]
    audio = {k: [i for i, m in enumerate(mids) if m in v] for k, v in ids.items()}
    labels = [line.rstrip("\n") for line in open(os.path.join(SHARED, "weights", "imagenet_labels.txt")) if line.strip()]
    names = [n for ns in IMAGENET.values() for n in ns] + IMAGENET_EXTRA
    missing = [n for n in names if n not in labels]
    if missing:
        raise ValueError(f"ImageNet classes {missing} are not in imagenet_labels.txt")
    image = {"instrument": sorted(labels.index(n) for n in set(names))}
    return {"audio": audio, "image": image}


def label_classes():
    """ImageNet columns of each of our labels that has any (the report's mapping, off_the_shelf.IMAGENET): the
    evidence for the label the head names (round 4's label_class_sum)."""
    labels = [line.rstrip("\n") for line in open(os.path.join(SHARED, "weights", "imagenet_labels.txt")) if line.strip()]
    return {"image": {label: sorted(labels.index(n) for n in names) for label, names in sorted(IMAGENET.items())}}


def logit(p):
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


def features(row, classes, by_label=None):
    """Mirror of lib/classify/presence.ts presenceFeatures (from the stored evidence); by_label: label_classes()."""
    out = {"top_score": float(logit(row["topScore"]))}
    if row["modality"] == "audio":
        mean, mx = np.asarray(row["scoresMean"]), np.asarray(row["scoresMax"])
        for group, cols in classes["audio"].items():
            out[f"{group}_mean"] = float(logit(mean[cols].max() if cols else 0.0))
            out[f"{group}_max"] = float(logit(mx[cols].max() if cols else 0.0))
        # Round 5: how far the best music class (instrument, music, singing) is above the best other class.
        music = sorted({c for g in MUSIC_GROUPS for c in classes["audio"][g]})
        other = np.setdiff1d(np.arange(len(mean)), music)
        for pooled, v in (("mean", mean), ("max", mx)):
            out[f"music_margin_{pooled}"] = float(logit(v[music].max()) - logit(v[other].max()))
        out["level_dbfs"] = row["levelDbfs"]
        out["mains_hum"] = float(logit(row["mainsRatio"]))
        out["log_kurtosis"] = row["logKurtosis"]  # ablation only
        return out
    s = np.asarray(row["scores"], dtype=np.float64)
    white = row["whiteFraction"]
    for group, cols in classes["image"].items():
        out[f"{group}_sum"] = float(logit(s[cols].sum()))
        out[f"{group}_sum_white"] = white * out[f"{group}_sum"]  # ablation only
    out["white_fraction"] = white  # ablation only
    pos = s[s > 0]
    out["entropy"] = float(-(pos * np.log(pos)).sum())
    out["max_prob"] = float(logit(s.max()))
    out["log_pixel_std"] = float(np.log1p(row["pixelStd"]))
    out["instrument_best"] = float(logit(s[classes["image"]["instrument"]].max()))  # round 5
    # Ablation only (round 4): the ImageNet mass of the label the head names; a label without ImageNet classes
    # takes the instrument mass.
    cols = (by_label or label_classes())["image"].get(row["topLabel"])
    out["label_class_sum"] = float(logit(s[cols].sum())) if cols else out["instrument_sum"]
    out["label_has_class"] = 1.0 if cols else 0.0
    return out


def ablation_features(rows, classes):
    """Round-3 candidate features (class scores the served model does not read), into each row's features.

    Image: logit of the summed probability per ImageNet superclass (IMAGENET_GROUPS, screens and print, the rest),
    log(1 + rank of the best instrument class among the 1000), the log ratio of the best instrument to the best other
    class, entropy at temperature 4. Audio: logit of the window-mean score of each AUDIO_CONFUSERS class. (Round 3's
    best instrument class and music-vs-other margin are served since round 5: features().)"""
    labels = [line.rstrip("\n") for line in open(os.path.join(SHARED, "weights", "imagenet_labels.txt")) if line.strip()]
    inst = np.array(classes["image"]["instrument"])
    groups = {g: np.arange(a, b) for g, (a, b) in IMAGENET_GROUPS.items()}
    groups["screens"] = np.array([i for i, n in enumerate(labels) if any(n.startswith(p) for p in IMAGENET_SCREENS)])
    known = np.concatenate([inst, *groups.values()])
    others = np.setdiff1d(np.arange(1, len(labels)), inst)
    with open(os.path.join(SHARED, "weights", "yamnet_class_map.csv"), newline="") as f:
        names = [row["display_name"] for row in csv.DictReader(f)]
    confusers = {k: names.index(v) for k, v in AUDIO_CONFUSERS.items()}
    for r in rows:
        f = r["features"]
        if r["modality"] == "image":
            p = np.asarray(r["scores"], dtype=np.float64)
            for g, cols in groups.items():
                f[f"imagenet_{g}_sum"] = float(logit(p[cols].sum()))
            f["imagenet_rest_sum"] = float(logit(max(0.0, 1 - p[known].sum() - p[0])))
            f["instrument_rank"] = float(np.log1p(np.flatnonzero(np.isin(np.argsort(-p), inst))[0]))
            f["instrument_margin"] = float(np.log(p[inst].max() + 1e-6) - np.log(p[others].max() + 1e-6))
            q = np.exp(np.log(np.clip(p, 1e-8, 1)) / 4)
            q /= q.sum()
            f["entropy_t4"] = float(-(q * np.log(q)).sum())
        else:
            mean, mx = np.asarray(r["scoresMean"]), np.asarray(r["scoresMax"])
            for k, i in confusers.items():
                f[f"class_{k}_mean"] = float(logit(mean[i]))


def rule(row):
    r = RULES[row["modality"]]
    if row["modality"] == "audio":
        if row["seconds"] < r["minSeconds"]:
            return "silence"
        if row["levelDbfs"] < r["minLevelDbfs"]:
            return "silence"
        if row["mainsRatio"] >= r["maxMainsRatio"]:
            return "mains hum"
        if row["clickRatio"] >= r["maxClickRatio"]:
            return "clicks"
        return None
    if min(row["width"], row["height"]) < r["minSide"] or row["pixelStd"] < r["minPixelStd"]:
        return "no instrument recognised"
    return None


def probe_fit(rows, idx, name):
    """The probe `name` (PROBES) fitted on the in-scope items of rows[idx]: (scaler, logistic model)."""
    spec = PROBES[name]
    idx = [i for i in idx if spec["in_scope"](rows[i])]
    E = np.array([rows[i][spec["input"]] for i in idx], dtype=np.float64)
    y = np.array([rows[i]["positive"] for i in idx])
    scaler = StandardScaler().fit(E)
    return scaler, LogisticRegression(C=spec["C"], class_weight="balanced", max_iter=5000).fit(scaler.transform(E), y)


def probe_values(fitted, rows, idx, name):
    """The probe's feature for rows[idx]: the logit of its probability (clipped as every logit feature)."""
    scaler, model = fitted
    E = np.array([rows[i][PROBES[name]["input"]] for i in idx], dtype=np.float64)
    return logit(model.predict_proba(scaler.transform(E))[:, 1])


def probe_columns(rows, names, tr, te, groups):
    """Columns of the probe features in names (stacked): out-of-fold over groups for rows[tr] (GroupKFold), from a
    probe fitted on all of rows[tr] for rows[te]. Returns (train columns, test columns)."""
    probes = [n for n in names if n in PROBES]
    a, b = np.zeros((len(tr), len(probes))), np.zeros((len(te), len(probes)))
    for k, name in enumerate(probes):
        for fit_idx, out_idx in GroupKFold(n_splits=FOLDS).split(tr, groups=groups[tr]):
            a[out_idx, k] = probe_values(probe_fit(rows, tr[fit_idx], name), rows, tr[out_idx], name)
        if len(te):
            b[:, k] = probe_values(probe_fit(rows, tr, name), rows, te, name)
    return a, b


def plain(names):
    """The feature names read from each row's features (not the probes, which are computed per fit)."""
    return [n for n in names if n not in PROBES]


def ordered(names):
    """A model's column order: the plain features, then the probes (probe_columns' order)."""
    return plain(names) + [n for n in names if n in PROBES]


def fit(X, y, E=None, k=None, C=1.0):
    """Standardised logistic model (inverse regularisation C; "gbm": gradient boosting instead, an ablation);
    with E, the embedding's first k principal components join X."""
    pca = None
    if E is not None:
        pca = PCA(n_components=k, random_state=SEED).fit(E)
        X = np.hstack([X, pca.transform(E)])
    scaler = StandardScaler().fit(X)
    if C == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier
        weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))  # balanced, as the logistic model
        model = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05, min_samples_leaf=20,
                                               random_state=SEED).fit(scaler.transform(X), y, sample_weight=weight)
        return scaler, model, pca
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(scaler.transform(X), y)
    return scaler, model, pca


def prob(fitted, X, E=None):
    scaler, model, pca = fitted
    if pca is not None:
        X = np.hstack([X, pca.transform(E)])
    return model.predict_proba(scaler.transform(X))[:, 1]


def choose_threshold(scores, y, target=TARGET_DEV):
    """Largest threshold whose false "no instrument" rate on instrument items is <= target."""
    pos = np.sort(scores[y == 1])
    if len(pos) == 0:
        return 0.5
    k = int(np.floor(target * len(pos)))  # at most k positives may fall below
    # Below pos[k] only pos[0..k-1] are cut; a hair under it keeps pos[k] itself.
    return float(np.nextafter(pos[k], 0))


def take(E, idx):
    return None if E is None else E[idx]


def oof_scores(X, y, groups, seed, E=None, k=None, C=1.0):
    out = np.zeros(len(y))
    cv = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for tr, te in cv.split(X, y, groups):
        out[te] = prob(fit(X[tr], y[tr], take(E, tr), k, C), X[te], take(E, te))
    return out


def select_c(X, y, groups, seed, target=TARGET_DEV, E=None, k=None, grid=C_GRID):
    """C of grid whose group-wise out-of-fold scores on these items catch the most negatives at the threshold
    chosen on those same scores (target allowance); ties keep the smaller C.

    Returns (C, threshold, out-of-fold scores). Sees only the items given: inside evaluate(), an outer fold's
    training groups."""
    best = None
    for C in grid:
        scores = oof_scores(X, y, groups, seed, E, k, C)
        t = choose_threshold(scores, y, target)
        caught = float((scores[y == 0] < t).mean())
        if best is None or caught > best[0] + 1e-12:
            best = (caught, C, t, scores)
    return best[1], best[2], best[3]


def calibrated_threshold(X, y, groups, seed, C=1.0):
    """Threshold at an allowance chosen on these (training) groups alone.

    A fixed allowance (e.g. 1 % of the inner out-of-fold instrument items below the threshold)
    realises a different false rate on unseen groups, because those score lower than held-out items
    of known groups do. So one level deeper: for each group-wise fold of these items, thresholds at
    every allowance of ALLOWANCES are chosen on that fold's own inner out-of-fold scores and applied
    to the fold's held-out instrument items; the largest allowance whose pooled realised rate is
    within TARGET is taken, and the threshold is the inner out-of-fold quantile at it.

    Returns (threshold, allowance, realised rate per allowance).
    """
    missed = {a: 0 for a in ALLOWANCES}
    positives = 0
    cv = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed + 2)
    for tr, te in cv.split(X, y, groups):
        inner = oof_scores(X[tr], y[tr], groups[tr], seed + 3, C=C)
        held = prob(fit(X[tr], y[tr], C=C), X[te])[y[te] == 1]
        positives += len(held)
        for a in ALLOWANCES:
            missed[a] += int((held < choose_threshold(inner, y[tr], a)).sum())
    realised = {a: missed[a] / max(1, positives) for a in ALLOWANCES}
    allowance = max([a for a in ALLOWANCES if realised[a] <= TARGET], default=ALLOWANCES[0])
    return choose_threshold(oof_scores(X, y, groups, seed + 1, C=C), y, allowance), allowance, realised


def evaluate(rows, names, seed=SEED, embedding=None, k=None, group=lambda r: r["group"], target=TARGET_DEV,
             calibrated=False, C="select"):
    """Nested group-wise CV: per-item held-out score and decision (rules included).

    embedding: evidence field whose first k principal components join the features (an ablation);
    group: the split unit of a row; target: the inner folds' false "no instrument" allowance;
    C: "select" (the served rule: chosen per outer fold on its inner folds, select_c), a number, or "gbm".
    Returns (scores, decisions, thresholds, Cs) with one threshold and C per outer fold.
    """
    names = ordered(names)
    y = np.array([r["positive"] for r in rows])
    groups = np.array([group(r) for r in rows])
    ruled = np.array([r["rule"] is not None for r in rows])
    X0 = np.array([[r["features"][n] for n in plain(names)] for r in rows])
    E = np.array([r[embedding] for r in rows], dtype=np.float64) if embedding else None
    score = np.zeros(len(rows))
    present = np.zeros(len(rows), dtype=bool)
    thresholds, cs = [], []
    outer = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for tr, te in outer.split(X0, y, groups):
        tr = tr[~ruled[tr]]
        # Stacked probe columns: out-of-fold on the training groups, fitted on them for the held-out ones.
        a, b = probe_columns(rows, names, tr, te, groups)
        X = np.zeros((len(rows), len(names)))
        X[:, :X0.shape[1]] = X0
        X[tr, X0.shape[1]:], X[te, X0.shape[1]:] = a, b
        if C == "select":
            c, t, _ = select_c(X[tr], y[tr], groups[tr], seed + 1, target, take(E, tr), k)
        else:
            c = C
            inner = oof_scores(X[tr], y[tr], groups[tr], seed + 1, take(E, tr), k, c)
            t = choose_threshold(inner, y[tr], target)
        if calibrated:
            t = calibrated_threshold(X[tr], y[tr], groups[tr], seed, c)[0]
        score[te] = prob(fit(X[tr], y[tr], take(E, tr), k, c), X[te], take(E, te))
        present[te] = score[te] >= t
        thresholds.append(t)
        cs.append(c)
    score[ruled] = 0.0
    present[ruled] = False
    return score, present, thresholds, cs


def rates(rows, present):
    y = np.array([r["positive"] for r in rows])
    pos, neg = y == 1, y == 0
    return {
        "instrumentItems": int(pos.sum()),
        "negativeItems": int(neg.sum()),
        "falseNoInstrument": round(float((~present[pos]).mean()), 4) if pos.any() else None,
        "noInstrumentOnNegatives": round(float((~present[neg]).mean()), 4) if neg.any() else None,
    }


def by(rows, present, key):
    out = {}
    for value in sorted({r[key] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r[key] == value]
        sub = [rows[i] for i in idx]
        y = np.array([r["positive"] for r in sub])
        rate = float((~present[idx]).mean())
        out[value] = {"items": len(idx), "noInstrument": round(rate, 4), "positive": bool(y.all())}
    return out


def curve(rows, score):
    y = np.array([r["positive"] for r in rows])
    pts = []
    for t in np.unique(np.concatenate([[0.0, 1.0], np.quantile(score, np.linspace(0, 1, 201))])):
        present = score >= t
        pts.append([round(float(t), 5), round(float((~present[y == 1]).mean()), 5), round(float((~present[y == 0]).mean()), 5)])
    return pts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evidence", default=os.path.join(REPO, ".cache", "presence", "evidence.jsonl"))
    ap.add_argument("--out", default=os.path.join(REPO, "models", "presence.json"))
    ap.add_argument("--reports", default=os.path.join(REPO, "reports", "presence"))
    ap.add_argument("--fixture", default=os.path.join(REPO, "tests", "fixtures", "presence", "parity.json"))
    ap.add_argument("--all-levers", action="store_true",
                    help="also round 2's embedding probes and the deeper-calibrated allowance, at C = 1 (~20 min more)")
    args = ap.parse_args()

    classes = class_groups()
    by_label = label_classes()
    rows = [json.loads(line) for line in open(args.evidence) if line.strip()]
    manifest = json.load(open(os.path.join(REPO, "models", "manifest.json")))
    # Records of an older format lack what the rules and features read (round 6: `clickRatio`), and the evidence's
    # top_score came from the head of the joint model that scored it, which must be the deployed one.
    old = {r.get("format") for r in rows} - {EVIDENCE_FORMAT}
    stale = {r.get("jointVersion") for r in rows} - {manifest["version"]}
    if old or stale:
        sys.exit(f"{args.evidence} holds records of format(s) {sorted(map(str, old))} (this code reads "
                 f"{EVIDENCE_FORMAT}) or scored by joint model(s) {sorted(map(str, stale))}, not the deployed "
                 f"{manifest['version']}: run scripts/presence/extract.ts first (it re-extracts those)")
    for r in rows:
        r["positive"] = int(r["label"] != "none")
        r["features"] = features(r, classes, by_label)
        r["rule"] = rule(r)
        r["kind"] = ("generated" if r["source"] == "generated" else "icon" if r["source"].startswith("iconify:")
                     else "corpus" if r["positive"] else "negatives")
    ablation_features(rows, classes)

    card = {
        "format": "amodal-presence/4",
        "version": "",
        "jointVersion": manifest["version"],
        "classes": classes,
        "rules": RULES,
    }
    metrics = {"evaluation": "nested group-wise 5-fold CV (StratifiedGroupKFold, seed %d); thresholds from inner folds "
                             "at <= %.0f %% false 'no instrument' on held-out instrument items, the logistic model's C chosen there too "
                             "(select_c, grid %s)" % (SEED, TARGET_DEV * 100, list(C_GRID))}
    os.makedirs(args.reports, exist_ok=True)
    figure_data = {}
    heldout = []
    for modality, names in (("audio", AUDIO_FEATURES), ("image", IMAGE_FEATURES)):
        sub = [r for r in rows if r["modality"] == modality]
        score, present, thresholds, fold_c = evaluate(sub, names)
        heldout.extend({"id": r["id"], "modality": modality, "source": r["source"], "group": r["group"],
                        "category": r["category"], "instrument": r["positive"], "score": round(float(s), 6),
                        "saysNoInstrument": int(not p), "rule": r["rule"] or ""}
                       for r, s, p in zip(sub, score, present))
        m = rates(sub, present)
        m["foldThresholds"] = [round(t, 4) for t in thresholds]
        m["foldC"] = fold_c
        m["byRule"] = {k: sum(1 for r in sub if r["rule"] == k) for k in sorted({r["rule"] for r in sub if r["rule"]})}
        m["byKind"] = {k: rates([r for r in sub if r["kind"] == k], present[[r["kind"] == k for r in sub]])
                       for k in sorted({r["kind"] for r in sub})}
        m["byNegativeCategory"] = by([r for r in sub if not r["positive"]], present[[not r["positive"] for r in sub]],
                                     "category")
        m["byNegativeSource"] = by([r for r in sub if not r["positive"]], present[[not r["positive"] for r in sub]],
                                   "source")
        m["byInstrumentSource"] = by([r for r in sub if r["positive"]], present[[bool(r["positive"]) for r in sub]],
                                     "source")
        # The served rule at two more outer-fold seeds: how much the numbers move with the fold assignment.
        m["otherSeeds"] = {}
        for seed in (99, 7):
            _, p, _, _ = evaluate(sub, names, seed=seed)
            m["otherSeeds"][str(seed)] = rates(sub, p)
        # Ablation: without the forest's own top score (the one feature tied to the served forest).
        other = [n for n in names if n != "top_score"]
        _, present_nt, _, _ = evaluate(sub, other)
        m["withoutTopScore"] = rates(sub, present_nt)
        # Levers (issue 18), each under the same nested evaluation (C chosen on inner folds unless it says so).
        levers = {}
        levers["round 2's fit (C = 1)"] = evaluate(sub, names, C=1.0)
        levers["without top_score (head-independent)"] = (None, present_nt, None, None)
        levers["plus a probe of all items on the joint vector (stacked)"] = evaluate(sub, names + ["joint_probe"])
        if modality == "audio":
            def without(*dropped):  # the items as if those hard rules did not exist
                return [{**r, "rule": None if r["rule"] in dropped else r["rule"]} for r in sub]
            levers["round 3's rule (no mains-hum or click rule, no music margin)"] = evaluate(
                without("mains hum", "clicks"), [n for n in names if not n.startswith("music_margin_")])
            levers["round 5's rule (no click rule)"] = evaluate(without("clicks"), names)
            levers["without the mains-hum rule"] = evaluate(without("mains hum"), names)
            levers["round 1 features (without mains_hum)"] = evaluate(sub, [n for n in names if n != "mains_hum"])
            levers["plus confuser classes (Speech, Hum, Buzz, Clicking, Tick, Bird, Animal)"] = evaluate(
                sub, names + [f"class_{k}_mean" for k in AUDIO_CONFUSERS])
            levers["without the music-vs-other margin"] = evaluate(
                sub, [n for n in names if not n.startswith("music_margin_")])
        else:
            levers["round 3's rule (no drawing probe, no best instrument class)"] = evaluate(
                sub, [n for n in names if n not in ("drawing_probe", "instrument_best")])
            levers["without the drawing probe"] = evaluate(sub, [n for n in names if n != "drawing_probe"])
            levers["drawing probe on the MobileNetV2 embedding instead of the joint vector"] = evaluate(
                sub, [n for n in names if n != "drawing_probe"] + ["drawing_probe_embedding"])
            levers["plus ImageNet superclass masses"] = evaluate(
                sub, names + [f"imagenet_{g}_sum" for g in [*IMAGENET_GROUPS, "screens", "rest"]])
            levers["plus label-consistent evidence (ImageNet mass of the head's label, whether it has one)"] = evaluate(
                sub, names + LABEL_FEATURES)
            levers["without top_score, plus superclass masses"] = evaluate(
                sub, other + [f"imagenet_{g}_sum" for g in [*IMAGENET_GROUPS, "screens", "rest"]])
            levers["without the best instrument class"] = evaluate(sub, [n for n in names if n != "instrument_best"])
            levers["plus best instrument class's rank"] = evaluate(sub, names + ["instrument_rank"])
            levers["plus instrument-vs-other margin"] = evaluate(sub, names + ["instrument_margin"])
            levers["plus entropy at temperature 4"] = evaluate(sub, names + ["entropy_t4"])
        for extra in ABLATION_FEATURES[modality]:
            levers[f"plus {extra}"] = evaluate(sub, names + [extra])
        if modality == "image":
            levers["plus white_fraction and instrument_sum_white"] = evaluate(sub, names + ABLATION_FEATURES["image"])
        levers["gradient boosting (depth 3, 150 trees)"] = evaluate(sub, names, C="gbm")
        for target in (0.015, 0.02):
            levers[f"fixed inner allowance {target:.1%}"] = evaluate(sub, names, target=target)
        if args.all_levers:  # round 2's slow probes (~20 min more), at round 2's C = 1: their rows are in docs/training.md
            for field in (["embedding", "embeddingMax", "joint"] if modality == "audio" else ["embedding", "joint"]):
                for k in (32, 64, 128):
                    levers[f"plus {field} PCA{k} (C = 1)"] = evaluate(sub, names, embedding=field, k=k, C=1.0)
            levers["allowance calibrated one level deeper (C = 1)"] = evaluate(sub, names, calibrated=True, C=1.0)
        m["ablations"] = {k: {**rates(sub, p),
                              **({"foldThresholds": [round(t, 4) for t in ts], "foldC": cs} if ts else {}),
                              "byNegativeCategory": {c: v["noInstrument"] for c, v in by(
                                  [r for r in sub if not r["positive"]], p[[not r["positive"] for r in sub]],
                                  "category").items()}}
                          for k, (_, p, ts, cs) in levers.items()}
        # Stricter split: every instrument source held out whole (the corpus's leave-one-source-out view).
        _, p_src, _, _ = evaluate(sub, names, group=lambda r: ("source:" + r["source"]) if r["positive"] else r["group"])
        m["instrumentSourcesHeldOut"] = rates(sub, p_src)
        m["instrumentSourcesHeldOut"]["byInstrumentSource"] = by(
            [r for r in sub if r["positive"]], p_src[[bool(r["positive"]) for r in sub]], "source")
        print(f"  source held out: {m['instrumentSourcesHeldOut']['falseNoInstrument']:.2%} / "
              f"{m['instrumentSourcesHeldOut']['noInstrumentOnNegatives']:.2%}")
        for k, v in m["ablations"].items():
            print(f"  ablation {k}: {v['falseNoInstrument']:.2%} / {v['noInstrumentOnNegatives']:.2%}")
        m["curve"] = {"columns": ["threshold", "falseNoInstrument", "noInstrumentOnNegatives"], "points": curve(sub, score)}
        # The ceiling of these held-out scores: the best threshold chosen on them (an oracle, not a rule).
        m["oracleAtTarget"] = max((pt for pt in m["curve"]["points"] if pt[1] <= TARGET), key=lambda pt: pt[2])
        print(f"  other seeds: {m['otherSeeds']}; oracle at <= 2 % false: {m['oracleAtTarget']}")
        figure_data[modality] = (m["curve"]["points"], m["falseNoInstrument"], m["noInstrumentOnNegatives"],
                                 {k: (v["falseNoInstrument"], v["noInstrumentOnNegatives"])
                                  for k, v in m["ablations"].items() if not k.startswith("plus embeddingMax")})

        # Served model: all rule-passed items; threshold from group-wise out-of-fold scores.
        keep = [r for r in sub if r["rule"] is None]
        names = ordered(names)
        y = np.array([r["positive"] for r in keep])
        g = np.array([r["group"] for r in keep])
        everything = np.arange(len(keep))
        stacked, _ = probe_columns(keep, names, everything, everything[:0], g)
        X = np.hstack([np.array([[r["features"][n] for n in plain(names)] for r in keep]), stacked])
        c, threshold, _ = select_c(X, y, g, SEED + 1)
        scaler, model, _ = fit(X, y, C=c)
        probes = {}
        for name in (n for n in names if n in PROBES):
            probe_scaler, probe_model = probe_fit(keep, everything, name)
            probes[name] = {
                "input": PROBES[name]["input"],
                "trainedOn": PROBES[name]["scope"],
                "mean": [round(float(v), 6) for v in probe_scaler.mean_],
                "scale": [round(float(v), 6) for v in probe_scaler.scale_],
                "coef": [round(float(v), 6) for v in probe_model.coef_[0]],
                "intercept": round(float(probe_model.intercept_[0]), 6),
            }
            # What the service computes for each item (the served probe), for the parity fixture.
            values = probe_values((probe_scaler, probe_model), sub, range(len(sub)), name)
            for r, v in zip(sub, values):
                r["features"][name] = float(v)
        card[modality] = {
            "features": names,
            "mean": [round(float(v), 6) for v in scaler.mean_],
            "scale": [round(float(v), 6) for v in scaler.scale_],
            "coef": [round(float(v), 6) for v in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), 6),
            "threshold": round(threshold, 6),
            **({"probes": probes} if probes else {}),
        }
        m["training"] = {
            "C": c, "items": len(sub), "instrumentItems": int(sum(r["positive"] for r in sub)),
            "negativeItems": int(sum(1 - r["positive"] for r in sub)),
            "groups": len({r["group"] for r in sub}),
            "sources": sorted({r["source"] for r in sub}),
        }
        metrics[modality] = m
        print(f"{modality}: false 'no instrument' {m['falseNoInstrument']:.2%} of {m['instrumentItems']} instrument "
              f"items; 'no instrument' {m['noInstrumentOnNegatives']:.2%} of {m['negativeItems']} negatives "
              f"(without top_score: {m['withoutTopScore']['falseNoInstrument']:.2%} / "
              f"{m['withoutTopScore']['noInstrumentOnNegatives']:.2%}); served threshold {card[modality]['threshold']:.4f}")
        for k, v in m["byKind"].items():
            print(f"  {k}: {v}")

    digest = hashlib.sha256(json.dumps([card["audio"], card["image"], classes], sort_keys=True).encode()).hexdigest()
    card["version"] = "presence-" + datetime.date.today().isoformat() + "-" + digest[:8]
    card["metrics"] = {**{k: v for k, v in metrics.items() if k not in ("audio", "image")},
                       **{k: {kk: vv for kk, vv in v.items() if kk != "curve"} for k, v in metrics.items()
                          if k in ("audio", "image")},
                       "report": "reports/presence/metrics.json",
                       "rebuild": "npx --yes deno@2.9.6 run --lock=deno.lock -A scripts/presence/extract.ts && "
                                  "/usr/bin/python3 scripts/presence/train.py"}
    with open(args.out, "w") as f:
        json.dump(card, f, indent=1, allow_nan=False)
        f.write("\n")
    with open(os.path.join(args.reports, "metrics.json"), "w") as f:
        json.dump({"version": card["version"], **metrics}, f, indent=1)
        f.write("\n")
    plot(figure_data, os.path.join(args.reports, "tradeoff.png"))
    # Every item's held-out score and decision (outer fold), for breakdowns the metrics do not have.
    with open(os.path.join(args.reports, "heldout.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(heldout[0].keys()))
        writer.writeheader()
        writer.writerows(heldout)
    write_fixture(rows, card, args.fixture)
    print(f"wrote {args.out} ({card['version']}), {args.reports}/metrics.json, tradeoff.png, heldout.csv, "
          f"{args.fixture}")


def plot(data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    for ax, (modality, (pts, fa, ab, others)) in zip(axes, data.items()):
        pts = np.array(pts)
        ax.plot(pts[:, 2] * 100, pts[:, 1] * 100, lw=1.5, label="served features: held-out scores, all thresholds")
        ax.scatter([ab * 100], [fa * 100], color="C3", zorder=3, label="served: threshold chosen on inner folds")
        for i, (name, (ofa, oab)) in enumerate(others.items()):
            ax.scatter([oab * 100], [ofa * 100], marker="x^sv<>Dp+*hP"[i % 12], s=20, color=plt.cm.tab20(i % 20),
                       zorder=2, label=name)
        ax.axhline(2, color="grey", ls="--", lw=0.8, label="target: <= 2 % false")
        ax.axvline(90, color="grey", ls=":", lw=0.8, label="target: >= 90 % on negatives")
        ax.set_xlabel('"no instrument" on negatives (%)')
        ax.set_ylabel('false "no instrument" on instrument items (%)')
        ax.set_title(modality)
        ax.set_ylim(0, 8)
        ax.set_xlim(5, 100.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=5.5, loc="upper left")
    fig.suptitle("Presence trade-off (nested group-wise CV; hard rules included); x: levers tried, "
                 "each with its own inner-fold threshold")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_fixture(rows, card, path):
    """Two items per modality with Python's features and probability, for the TS parity test."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    picked = []
    for modality in ("audio", "image"):
        model = card[modality]
        sub = [r for r in rows if r["modality"] == modality and r["rule"] is None]
        for want in (1, 0):
            r = next(r for r in sub if r["positive"] == want)
            x = np.array([r["features"][n] for n in model["features"]])
            z = model["intercept"] + float(np.dot(model["coef"], (x - model["mean"]) / np.array(model["scale"])))
            keep = {k: r[k] for k in ("id", "modality", "topScore", "scoresMean", "scoresMax", "scores", "levelDbfs",
                                      "mainsRatio", "clickRatio", "logKurtosis", "pixelStd", "whiteFraction") if k in r}
            if model.get("probes"):
                keep["joint"] = r["joint"]
            features = {n: r["features"][n] for n in model["features"]}
            picked.append({**keep, "features": features, "probability": 1 / (1 + np.exp(-z))})
    with open(path, "w") as f:
        json.dump({"card": card["version"], "items": picked}, f)


if __name__ == "__main__":
    main()
