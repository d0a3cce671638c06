"""Random forests on the projected embeddings: SMA, SMI, MMP, MMT, zero-shot, and the served forest.

As in the paper: scikit-learn RandomForestClassifier(n_estimators=100, max_depth=32).
  SMA  audio PCA features, trained on audio          MMP  both modalities' PCA features together
  SMI  image PCA features, trained on images         MMT  both modalities' translated (joint) features
Zero-shot: MMT trained on one modality only and tested on the other (as a fraction of the best
classifier on that test set). Each is trained twice: on classify-train (the paper's protocol) and,
suffixed "@all", on all labelled training data (classify-train and translation splits). Tests:
classify-test per modality and domain, and the heldout split (whole sources kept out). The served
forest is MMT@all (both modalities, all 18 labels); it is exported to
--work/forest.json (format documented in docs/training.md and lib/classify/forest.ts) after
checking, in numpy, that the exported trees give exactly sklearn's decisions and probabilities.

Inputs: --audio/--image embedding caches (row metadata), --work/{joint,pca}/<modality>/<role>.f32.
Outputs: --work/forest.json, --work/metrics.json, --work/parity/forest_test_{in,proba}.f32 + .json.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, os.path.dirname(__file__))
from common import load_split, write_json  # noqa: E402

TRAIN_ROLES = ["classify-train"]
SERVED_ROLES = ["classify-train", "translation-train", "translation-val"]


def features(work, space, modality, role, n):
    if n == 0:
        return np.zeros((0, 128), np.float32)
    return np.fromfile(os.path.join(work, space, modality, role + ".f32"), dtype="<f4").reshape(n, -1)


class Data:
    """Rows of one modality and role with both feature spaces and their metadata."""

    def __init__(self, work, folder, modality, roles, lab):
        xs_j, xs_p, rows = [], [], []
        for role in roles:
            _, r = load_split(folder, role)
            xs_j.append(features(work, "joint", modality, role, len(r)))
            xs_p.append(features(work, "pca", modality, role, len(r)))
            rows += r
        self.joint, self.pca, self.rows = np.concatenate(xs_j), np.concatenate(xs_p), rows
        self.y = np.array([lab[r["label"]] for r in rows], dtype=np.int64)

    def where(self, keep):
        idx = np.array([i for i, r in enumerate(self.rows) if keep(r)], dtype=np.int64)
        d = object.__new__(Data)
        d.joint, d.pca, d.y, d.rows = self.joint[idx], self.pca[idx], self.y[idx], [self.rows[i] for i in idx]
        return d


def fit(x, y, args):
    rf = RandomForestClassifier(n_estimators=args.trees, max_depth=args.depth, random_state=args.seed, n_jobs=args.jobs)
    return rf.fit(x, y)


def proba18(rf, x, n_labels):
    """predict_proba widened to all labels (a label absent from training gets 0)."""
    out = np.zeros((len(x), n_labels))
    out[:, rf.classes_] = rf.predict_proba(x)
    return out


def score(rf, x, y, labels, subset=None):
    """Macro-F1 over the labels present in y (or `subset`), per-label F1 and accuracy."""
    if len(y) == 0:
        return None
    pred = np.argmax(proba18(rf, x, len(labels)), axis=1)
    present = sorted(set(y.tolist())) if subset is None else subset
    per = f1_score(y, pred, labels=present, average=None, zero_division=0)
    return {
        "macro_f1": float(np.mean(per)), "accuracy": float(accuracy_score(y, pred)), "n": int(len(y)),
        "per_label": {labels[l]: round(float(f), 4) for l, f in zip(present, per)},
    }


def f32_threshold(t):
    """The largest float32 <= t: for float32 inputs x, x <= t exactly when x <= this value."""
    t32 = np.float32(t)
    if float(t32) > t:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    return t32


def export_forest(rf, labels, args):
    trees = []
    for est in rf.estimators_:
        t = est.tree_
        feat, thr, left, right, lc, lw = [], [], [], [], [], []
        for i in range(t.node_count):
            if t.children_left[i] == -1:
                counts = t.value[i, 0]
                nz = np.nonzero(counts)[0]
                start = len(lc)
                for c in nz:
                    lc.append(int(rf.classes_[c]))
                    # A pure leaf's weight does not matter (the reader normalises); 1 is shortest.
                    w = 1.0 if len(nz) == 1 else float(counts[c])
                    lw.append(int(w) if w == int(w) else w)
                feat.append(-1), thr.append(0), left.append(start), right.append(len(lc))
            else:
                feat.append(int(t.feature[i]))
                thr.append(float(str(f32_threshold(t.threshold[i]))))
                left.append(int(t.children_left[i])), right.append(int(t.children_right[i]))
        trees.append({"feature": feat, "threshold": thr, "left": left, "right": right, "leafClass": lc, "leafWeight": lw})
    return {
        "format": "amodal-forest/1", "labels": labels, "nFeatures": int(rf.n_features_in_),
        "params": {"n_estimators": args.trees, "max_depth": args.depth, "random_state": args.seed},
        "trees": trees,
    }


def eval_exported(forest, x):
    """numpy re-implementation of lib/classify/forest.ts, to check the export before writing it."""
    n_labels = len(forest["labels"])
    out = np.zeros((len(x), n_labels))
    x = x.astype(np.float32)
    for tree in forest["trees"]:
        f = np.array(tree["feature"])
        thr = np.array(tree["threshold"], dtype=np.float32)
        left, right = np.array(tree["left"]), np.array(tree["right"])
        lc, lw = np.array(tree["leafClass"]), np.array(tree["leafWeight"], dtype=np.float64)
        for r in range(len(x)):
            i = 0
            while f[i] >= 0:
                i = left[i] if x[r, f[i]] <= thr[i] else right[i]
            s, e = left[i], right[i]
            out[r, lc[s:e]] += lw[s:e] / lw[s:e].sum()
    return out / len(forest["trees"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--audio", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--trees", type=int, required=True)
    p.add_argument("--depth", type=int, required=True)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    labels = json.loads(args.labels)
    lab = {l: i for i, l in enumerate(labels)}
    t0 = time.time()

    a_tr = Data(args.work, args.audio, "audio", TRAIN_ROLES, lab)
    v_tr = Data(args.work, args.image, "image", TRAIN_ROLES, lab)
    a_te = Data(args.work, args.audio, "audio", ["classify-test"], lab).where(lambda r: r["view"] == 0)
    v_te = Data(args.work, args.image, "image", ["classify-test"], lab).where(lambda r: r["view"] == 0)
    tests = {"audio": a_te}
    for dom in sorted({r.get("domain", "") for r in a_te.rows}):
        tests["audio/" + dom] = a_te.where(lambda r, d=dom: r.get("domain", "") == d)
    for dom in sorted({r.get("domain", "") for r in v_te.rows}):
        tests["image/" + dom] = v_te.where(lambda r, d=dom: r.get("domain", "") == d)
    # Whole sources kept out of every split: how the classifiers fare on an unseen source.
    a_ho = Data(args.work, args.audio, "audio", ["heldout"], lab)
    v_ho = Data(args.work, args.image, "image", ["heldout"], lab)
    for dom in sorted({r.get("domain", "") for r in a_ho.rows}):
        tests["audio-heldout/" + dom] = a_ho.where(lambda r, d=dom: r.get("domain", "") == d)
    for dom in sorted({r.get("domain", "") for r in v_ho.rows}):
        tests["image-heldout/" + dom] = v_ho.where(lambda r, d=dom: r.get("domain", "") == d)
    image_tests = [k for k in tests if k.startswith("image")]
    audio_tests = [k for k in tests if k.startswith("audio")]
    print("forests: train rows audio %d image %d; test %s" % (len(a_tr.y), len(v_tr.y), {k: len(d.y) for k, d in tests.items()}), flush=True)

    metrics, timings, fitted = {}, {}, []

    def run(name, x, y, on, space):
        t = time.time()
        rf = fit(x, y, args)
        fitted.append((name, rf))
        timings[name] = round(time.time() - t, 1)
        metrics[name] = {k: score(rf, getattr(tests[k], space), tests[k].y, labels) for k in on}
        print(f"forests: {name} ({timings[name]}s) " + ", ".join(f"{k} {m['macro_f1']:.3f}" for k, m in metrics[name].items() if m), flush=True)
        return rf

    zs = {}

    def evaluate(setting, a_tr, v_tr):
        """The paper's four classifiers and the zero-shot pair, trained on one setting's rows."""
        sfx = "" if setting == "classify-train" else "@all"
        run("SMA" + sfx, a_tr.pca, a_tr.y, audio_tests, "pca")
        run("SMI" + sfx, v_tr.pca, v_tr.y, image_tests, "pca")
        run("MMP" + sfx, np.concatenate([a_tr.pca, v_tr.pca]), np.concatenate([a_tr.y, v_tr.y]), audio_tests + image_tests, "pca")
        mmt = run("MMT" + sfx, np.concatenate([a_tr.joint, v_tr.joint]), np.concatenate([a_tr.y, v_tr.y]), audio_tests + image_tests, "joint")
        # Zero-shot: a forest that never saw the test modality. The image-only forest knows only
        # the labels that have images (photos or drawings) among its training rows, so the audio
        # comparison is over those labels for every classifier.
        image_labels = sorted(set(v_tr.y.tolist()))
        rf_a = fit(a_tr.joint, a_tr.y, args)
        rf_v = fit(v_tr.joint, v_tr.y, args)
        for k in image_tests:
            d = tests[k]
            if not len(d.y):
                continue
            z = score(rf_a, d.joint, d.y, labels)
            best_name = max((n + sfx for n in ("SMI", "MMP", "MMT")), key=lambda n: metrics[n][k]["macro_f1"])
            zs[f"audio->{k}{sfx}"] = {
                "trained_on": "audio", "train_rows": setting, "tested_on": k, "macro_f1": z["macro_f1"],
                "per_label": z["per_label"], "best": best_name, "best_macro_f1": metrics[best_name][k]["macro_f1"],
                "fraction_of_best": z["macro_f1"] / max(metrics[best_name][k]["macro_f1"], 1e-9)}
        for k in audio_tests:
            d = tests[k]
            sub = [l for l in image_labels if l in set(d.y.tolist())]
            if not len(d.y) or not sub:
                continue
            z = score(rf_v, d.joint, d.y, labels, sub)
            sma = next(f for n, f in fitted if n == "SMA" + sfx)
            ref = {"SMA" + sfx: score(sma, d.pca, d.y, labels, sub)["macro_f1"],
                   "MMP" + sfx: score(next(f for n, f in fitted if n == "MMP" + sfx), d.pca, d.y, labels, sub)["macro_f1"],
                   "MMT" + sfx: score(mmt, d.joint, d.y, labels, sub)["macro_f1"]}
            best_name = max(ref, key=ref.get)
            zs[f"image->{k}{sfx}"] = {
                "trained_on": "image", "train_rows": setting, "tested_on": k, "labels": [labels[l] for l in sub],
                "macro_f1": z["macro_f1"], "per_label": z["per_label"], "best": best_name,
                "best_macro_f1": ref[best_name], "fraction_of_best": z["macro_f1"] / max(ref[best_name], 1e-9)}
        return mmt

    evaluate("classify-train", a_tr, v_tr)
    # All labelled training data (classify-train + translation splits): the served forest is this
    # setting's MMT.
    a_all = Data(args.work, args.audio, "audio", SERVED_ROLES, lab)
    v_all = Data(args.work, args.image, "image", SERVED_ROLES, lab)
    served = evaluate("all", a_all, v_all)
    for k, v in zs.items():
        print(f"forests: zero-shot {k}: {v['macro_f1']:.3f} = {v['fraction_of_best']:.2f} of {v['best']}", flush=True)
    forest = export_forest(served, labels, args)
    x_test = np.concatenate([a_te.joint, v_te.joint]).astype("<f4")
    sk = proba18(served, x_test, len(labels))
    mine = eval_exported(forest, x_test)
    err = float(np.abs(sk - mine).max()) if len(x_test) else 0.0
    same = bool((np.argmax(sk, 1) == np.argmax(mine, 1)).all())
    print(f"forests: exported forest vs sklearn on {len(x_test)} test rows: max |dp| {err:.2e}, argmax equal {same}", flush=True)
    if err > 1e-9 or not same:
        raise SystemExit("forests: exported forest does not reproduce sklearn")
    os.makedirs(os.path.join(args.work, "parity"), exist_ok=True)
    x_test.tofile(os.path.join(args.work, "parity", "forest_test_in.f32"))
    sk.astype("<f4").tofile(os.path.join(args.work, "parity", "forest_test_proba.f32"))
    write_json(os.path.join(args.work, "parity", "forest_test.json"), {
        "rows": len(x_test), "dim": int(x_test.shape[1]), "labels": labels,
        "ids": [r["id"] for r in a_te.rows + v_te.rows],
        "note": "classify-test rows (audio then image), joint features; proba = sklearn predict_proba of the served forest",
    })
    write_json(os.path.join(args.work, "forest.json"), forest, compact=True)
    nodes = sum(len(t["feature"]) for t in forest["trees"])
    write_json(os.path.join(args.work, "metrics.json"), {
        "classifiers": metrics, "served": "MMT@all", "zero_shot": zs, "fit_seconds": timings, "total_seconds": round(time.time() - t0, 1),
        "rows": {"train_audio": len(a_tr.y), "train_image": len(v_tr.y), "served_audio": len(a_all.y),
                 "served_image": len(v_all.y), **{"test_" + k: len(d.y) for k, d in tests.items()}},
        "forest": {"nodes": nodes, "export_max_abs_diff": err},
        "hyper": {"n_estimators": args.trees, "max_depth": args.depth, "seed": args.seed},
    })


if __name__ == "__main__":
    main()
