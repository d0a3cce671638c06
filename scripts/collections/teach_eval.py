"""Teaching a label from one modality and recognising it in the other, measured on the corpus.

Protocol (reports/collections/teach.md says it in words):

1. Candidates: labels with >= 30 recordings and >= 30 photos in the corpus. They are split into FOLDS folds; in turn
   each fold's labels are the "new instruments".
2. Each fold label's files are split at random in half per modality (the labels have 1-3 source groups per modality,
   too few to split by group); teaching items and queries come from the *test half* only.
3. Three joint spaces, all evaluated on the same test rows:
   - "held-out": the paper's translator (scripts/train/translate.py: Head, hinge_loss, make_pairs; hyper-parameters
     from scripts/train/params.json) trained here on corpus rows of the other labels only: it never saw the new
     instruments;
   - "control": the same training on the same corpus, with the fold labels' *train halves* added: it saw the new
     instruments (other files of them), on the same data budget, so held-out vs control isolates label novelty;
   - "deployed": models/translator_*.onnx, trained on the full dataset (rendered audio, augmentation, corpus files
     that may be among the queries): optimistic.
4. For N in (1, 5, 20) and DRAWS random draws: teach each fold label with N test-half items of one modality and query
   every test-half item of the other modality of the fold labels; the nearest taught label must be right (closed
   set, chance 1 / labels per fold). Both directions. Two rules: prototype (mean unit vector per label) and k-NN
   (mean cosine of a label's k nearest).
5. "None" threshold, in the deployed space over all candidates: leave one label out of the taught set and choose the
   cosine that best separates right answers for taught labels from queries of the left-out label (balanced
   accuracy), at N = 5. Written to models/teach.json with the rule that won in the held-out space.

Writes reports/collections/teach.json, teach.md, teach.png and models/teach.json.

Usage: /usr/bin/python3 scripts/collections/teach_eval.py [--cache .cache/collections] [--out reports/collections]
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
from translate import Head, hinge_loss, make_pairs  # noqa: E402

FOLDS = 3
SPACES = ["held-out", "control", "deployed"]
NS = [1, 5, 20]
DRAWS = 30
K = 5
SEED = 1234


def load(cache):
    with open(os.path.join(cache, "items.json")) as f:
        dirs = json.load(f)["dirs"]
    out = {}
    for modality, folder in dirs.items():
        with open(os.path.join(folder, "retrieval.jsonl")) as f:
            rows = [json.loads(l) for l in f if l.strip()]
        dim = json.load(open(os.path.join(folder, "meta.json")))["dim"]
        x = np.fromfile(os.path.join(folder, "retrieval.f32"), dtype="<f4")[: len(rows) * dim].reshape(len(rows), dim)
        z = np.fromfile(os.path.join(cache, f"joint-{modality}.f32"), dtype="<f4").reshape(len(rows), -1)
        out[modality] = {"x": x, "z": z, "labels": np.array([r["label"] for r in rows]),
                         "groups": np.array([r["group"] for r in rows])}
    return out


def train_translator(data, exclude, params, log):
    """The paper's translator on corpus rows not excluded (`exclude`: modality -> bool mask)."""
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    a, v = data["audio"], data["image"]
    labels = sorted(set(a["labels"]) | set(v["labels"]))
    lab = {l: i for i, l in enumerate(labels)}

    def split(d, excluded):
        # 15 % of each label's kept rows for early stopping (by file: some labels have a single source group).
        is_val = np.zeros(len(d["labels"]), bool)
        for l in np.unique(d["labels"][~excluded]):
            idx = np.where(~excluded & (d["labels"] == l))[0]
            is_val[rng.choice(idx, int(0.15 * len(idx)), replace=False)] = True
        return np.where(~excluded & ~is_val)[0], np.where(~excluded & is_val)[0]

    (ta, va), (tv, vv) = split(a, exclude["audio"]), split(v, exclude["image"])
    ya = np.array([lab[l] for l in a["labels"]])
    yv = np.array([lab[l] for l in v["labels"]])
    p = params["translator"]
    ha, hv = Head(a["x"].shape[1], p["hidden"], p["dim"]), Head(v["x"].shape[1], p["hidden"], p["dim"])
    opt = torch.optim.Adam(list(ha.parameters()) + list(hv.parameters()), lr=p["lr"])
    xa, xv = torch.from_numpy(a["x"]), torch.from_numpy(v["x"])
    tya, tyv = torch.from_numpy(ya), torch.from_numpy(yv)
    vai, vvi = make_pairs(ya[va], yv[vv], np.random.default_rng(SEED + 1))
    vai, vvi = va[vai], vv[vvi]

    def val_loss():
        ha.eval(), hv.eval()
        with torch.no_grad():
            return hinge_loss(ha(xa[vai]), hv(xv[vvi]), tya[vai], p["margin"]).item()

    best, best_epoch, state = float("inf"), 0, None
    for epoch in range(p["maxEpochs"]):
        ha.train(), hv.train()
        ai, vi = make_pairs(ya[ta], yv[tv], rng)
        ai, vi = ta[ai], tv[vi]
        for s in range(0, len(ai), p["batch"]):
            bi, bv = ai[s : s + p["batch"]], vi[s : s + p["batch"]]
            if len(bi) < 2:
                continue
            loss = hinge_loss(ha(xa[bi]), hv(xv[bv]), tya[bi], p["margin"])
            opt.zero_grad()
            loss.backward()
            opt.step()
        vl = val_loss()
        if vl < best - 1e-6:
            best, best_epoch = vl, epoch + 1
            state = ({k: t.clone() for k, t in ha.state_dict().items()}, {k: t.clone() for k, t in hv.state_dict().items()})
        elif epoch + 1 - best_epoch >= p["patience"]:
            break
    ha.load_state_dict(state[0])
    hv.load_state_dict(state[1])
    ha.eval(), hv.eval()
    log(f"translator: {len(ta)} audio / {len(tv)} image training rows, best epoch {best_epoch}, val {best:.4f}")
    with torch.no_grad():
        return {"audio": ha(xa).numpy(), "image": hv(xv).numpy()}, {"best_epoch": best_epoch, "val_loss": best,
                                                                    "train_rows": [len(ta), len(tv)]}


def unit(m):
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12)


def scores(taught, query, method):
    """taught: {label: (n, d)}; query: (q, d) -> (labels, (q, L) scores)."""
    names = sorted(taught)
    cols = []
    for l in names:
        t = unit(taught[l])
        if method == "prototype":
            cols.append(query @ unit(t.mean(0)))
        else:
            sims = query @ t.T
            k = min(K, t.shape[0])
            cols.append(np.sort(sims, axis=1)[:, -k:].mean(1))
    return names, np.stack(cols, 1)


def evaluate(z, labels_of, test, heldout, n, source, target, method, rng):
    """Accuracy per label (mean over draws), teaching from `source` test rows and querying `target` test rows."""
    per_label = {l: [] for l in heldout}
    tq = unit(z[target])
    mask = test[target] & np.isin(labels_of[target], heldout)
    q, ql = tq[mask], labels_of[target][mask]
    for _ in range(DRAWS):
        taught = {}
        for l in heldout:
            idx = np.where(test[source] & (labels_of[source] == l))[0]
            taught[l] = z[source][rng.choice(idx, min(n, len(idx)), replace=False)]
        names, s = scores(taught, q, method)
        pred = np.array(names)[s.argmax(1)]
        for l in heldout:
            per_label[l].append(float((pred[ql == l] == l).mean()))
    return {l: float(np.mean(v)) for l, v in per_label.items()}


def calibrate(z, labels_of, candidates, method, rng, n=5):
    """Threshold separating right answers for taught labels from queries of an untaught label."""
    known, unknown = [], []
    for left_out in candidates:
        taught_labels = [l for l in candidates if l != left_out]
        for source, target in (("audio", "image"), ("image", "audio")):
            taught = {}
            for l in taught_labels:
                idx = np.where(labels_of[source] == l)[0]
                taught[l] = z[source][rng.choice(idx, min(n, len(idx)), replace=False)]
            tq = unit(z[target])
            mask = np.isin(labels_of[target], candidates)
            names, s = scores(taught, tq[mask], method)
            best = s.max(1)
            pred = np.array(names)[s.argmax(1)]
            ql = labels_of[target][mask]
            known += list(best[(ql != left_out) & (pred == ql)])
            unknown += list(best[ql == left_out])
    known, unknown = np.array(known), np.array(unknown)
    grid = np.linspace(-1, 1, 401)
    bal = [((known >= t).mean() + (unknown < t).mean()) / 2 for t in grid]
    i = int(np.argmax(bal))
    return {"threshold": float(round(grid[i], 3)), "balanced_accuracy": float(bal[i]),
            "known_kept": float((known >= grid[i]).mean()), "unknown_rejected": float((unknown < grid[i]).mean()),
            "known_queries": int(len(known)), "unknown_queries": int(len(unknown))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=".cache/collections")
    ap.add_argument("--out", default="reports/collections")
    ap.add_argument("--models", default="models")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.time()
    data = load(args.cache)
    labels_of = {m: d["labels"] for m, d in data.items()}
    counts = {l: (int((labels_of["audio"] == l).sum()), int((labels_of["image"] == l).sum()))
              for l in sorted(set(labels_of["audio"]) | set(labels_of["image"]))}
    candidates = [l for l, (na, ni) in counts.items() if na >= 30 and ni >= 30]
    rng = np.random.default_rng(SEED)
    order = list(rng.permutation(candidates))
    folds = [sorted(order[i::FOLDS]) for i in range(FOLDS)]
    # Test half of every candidate's files, per modality.
    test = {m: np.zeros(len(labels_of[m]), bool) for m in labels_of}
    for m in labels_of:
        for l in candidates:
            idx = np.where(labels_of[m] == l)[0]
            test[m][rng.choice(idx, len(idx) // 2, replace=False)] = True
    params = json.load(open(os.path.join(HERE, "..", "train", "params.json")))
    deployed = {m: d["z"] for m, d in data.items()}
    per_label = {}  # space | method | direction | N -> {label: accuracy}
    training = []
    for f, fold in enumerate(folds):
        in_fold = {m: np.isin(labels_of[m], fold) for m in labels_of}
        held_z, held_rec = train_translator(data, in_fold, params, print)
        ctrl_z, ctrl_rec = train_translator(data, {m: in_fold[m] & test[m] for m in labels_of}, params, print)
        training.append({"fold": fold, "held-out": held_rec, "control": ctrl_rec})
        for space, z in (("held-out", held_z), ("control", ctrl_z), ("deployed", deployed)):
            for method in ("prototype", "knn"):
                for source, target in (("audio", "image"), ("image", "audio")):
                    for n in NS:
                        key = f"{space} | {method} | {source}->{target} | N={n}"
                        acc = evaluate(z, labels_of, test, fold, n, source, target, method,
                                       np.random.default_rng(SEED + 100 * f + n))
                        per_label.setdefault(key, {}).update(acc)
        print(f"fold {f + 1}/{FOLDS} {fold} done ({time.time() - t0:.0f} s)", flush=True)
    results = {k: {"mean": float(np.mean(list(v.values()))), "per_label": v} for k, v in per_label.items()}
    for k, r in results.items():
        print(f"{k}: {r['mean']:.3f}", flush=True)
    mean_of = lambda m: np.mean([r["mean"] for k, r in results.items() if k.startswith(f"held-out | {m} |")])
    method = "prototype" if mean_of("prototype") >= mean_of("knn") else "knn"
    cal = calibrate(deployed, labels_of, candidates, method, np.random.default_rng(SEED))
    print(f"method {method}; threshold {cal}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    record = {"folds": folds, "candidates": candidates, "counts": counts, "draws": DRAWS, "k": K,
              "chance": 1 / min(len(f) for f in folds), "training": training, "results": results,
              "method": method, "calibration": cal, "seconds": round(time.time() - t0, 1)}
    json.dump(record, open(os.path.join(args.out, "teach.json"), "w"), indent=1)
    json.dump({"method": method, "k": K, "threshold": cal["threshold"],
               "calibration": {k: v for k, v in cal.items() if k != "threshold"},
               "source": "scripts/collections/teach_eval.py (reports/collections/teach.md)"},
              open(os.path.join(args.models, "teach.json"), "w"), indent=1)
    figure(record, os.path.join(args.out, "teach.png"))
    markdown(record, os.path.join(args.out, "teach.md"))


def figure(record, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = record["results"]
    colors = {"held-out": "tab:red", "control": "tab:blue", "deployed": "tab:green"}
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4), gridspec_kw={"width_ratios": [1, 1, 1.6]})
    for ax, method in zip(axes[:2], ("prototype", "knn")):
        for space in SPACES:
            for direction, style in (("audio->image", "-"), ("image->audio", "--")):
                ys = [res[f"{space} | {method} | {direction} | N={n}"]["mean"] for n in NS]
                ax.plot(NS, ys, style, color=colors[space], marker="o", label=f"{space}, taught {direction}")
        ax.axhline(record["chance"], color="grey", lw=0.8, ls=":", label="chance")
        ax.set_xscale("log")
        ax.set_xticks(NS, [str(n) for n in NS])
        ax.set_ylim(0, 1)
        ax.set_xlabel("items taught per label (N)")
        ax.set_ylabel("accuracy on the other modality")
        ax.set_title(f"{method}: mean over {len(record['candidates'])} labels")
        ax.legend(fontsize=6.5, loc="lower right")
    ax = axes[2]
    m = record["method"]
    labels = record["candidates"]
    width = 0.27
    for j, space in enumerate(SPACES):
        vals = [np.mean([res[f"{space} | {m} | {d} | N=5"]["per_label"][l] for d in ("audio->image", "image->audio")])
                for l in labels]
        ax.bar(np.arange(len(labels)) + (j - 1) * width, vals, width, color=colors[space], label=space)
    ax.axhline(record["chance"], color="grey", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(labels)), labels, rotation=40, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(f"per label, N = 5, {m}, mean of both directions")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(record, path):
    res = record["results"]
    m = record["method"]
    lines = ["# Teaching a label from one modality", "",
             f"{len(record['candidates'])} labels with >= 30 recordings and photos in the corpus, in {len(record['folds'])} "
             f"folds ({'; '.join(', '.join(f) for f in record['folds'])}); each fold's labels are the new instruments "
             f"in turn (chance {record['chance']:.2f}). Accuracy of the nearest taught label on the test half of the "
             f"other modality, mean over labels of the mean of {record['draws']} random draws of the taught items. "
             "Spaces: **held-out** = translator trained without the fold's labels; **control** = the same training with "
             "the other half of their files (same corpus-only budget, labels seen); **deployed** = models/ (full "
             "dataset; optimistic). "
             f"`scripts/collections/teach_eval.py` ({record['seconds']} s on 2 shared CPU cores).", "",
             "| space | rule | taught -> queried | " + " | ".join(f"N={n}" for n in NS) + " |",
             "| --- | --- | --- | " + " | ".join("---:" for _ in NS) + " |"]
    for space in SPACES:
        for method in ("prototype", "knn"):
            for d in ("audio->image", "image->audio"):
                row = ["%.3f" % res[f"{space} | {method} | {d} | N={n}"]["mean"] for n in NS]
                lines.append(f"| {space} | {method} | {d} | " + " | ".join(row) + " |")
    lines += ["", f"Per label ({m}, N = 5):", "",
              "| label | " + " | ".join(f"{s} {d}" for s in SPACES for d in ("audio->image", "image->audio")) + " |",
              "| --- |" + " ---: |" * (2 * len(SPACES))]
    for l in record["candidates"]:
        cells = ["%.3f" % res[f"{s} | {m} | {d} | N=5"]["per_label"][l]
                 for s in SPACES for d in ("audio->image", "image->audio")]
        lines.append(f"| {l} | " + " | ".join(cells) + " |")
    c = record["calibration"]
    lines += ["", f"Rule chosen: **{m}** (higher mean in the held-out space). \"None\" threshold "
              f"{c['threshold']} (deployed space, leave-one-label-out over {len(record['candidates'])} labels, N = 5): "
              f"keeps {c['known_kept']:.1%} of right answers for taught labels and rejects {c['unknown_rejected']:.1%} "
              f"of queries of an untaught label (balanced accuracy {c['balanced_accuracy']:.3f}).", "",
              "![teach](teach.png)", ""]
    open(path, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
