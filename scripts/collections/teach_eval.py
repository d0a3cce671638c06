"""Teaching a label from one modality and recognising it in the other, measured on the corpus.

Protocol (reports/collections/teach.md says it in words):

1. Labels with both recordings and photos in the corpus (>= 30 of each) are the candidates; HELD_OUT of them
   are "new instruments".
2. Two joint spaces:
   - "held-out translator": the paper's translator (scripts/train/translate.py: Head, hinge_loss, make_pairs,
     params.json hyper-parameters) trained here on corpus rows of the *other* labels only, so the new
     instruments were never seen by it (trained on the corpus alone: no rendered audio, no augmentation, so
     smaller than the deployed one);
   - "deployed translator": models/translator_*.onnx, which saw all 18 labels in training (optimistic).
3. For N in (1, 5, 20) and R random draws: teach each held-out label with N items of one modality (the
   collection holds only those), query every item of the other modality of the held-out labels, and count the
   nearest taught label right (closed set, chance 1/len(HELD_OUT)). Both directions: audio -> image, image ->
   audio. Two rules: prototype (mean unit vector per label) and k-NN (mean cosine of a label's k nearest).
4. "None" threshold, in the deployed space over all candidates: leave one label out of the taught set, and
   choose the cosine that best separates queries of taught labels (answered right) from queries of the left-out
   label (balanced accuracy), at N = 5. Written to models/teach.json with the method that won in step 3.

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

HELD_OUT = ["banjo", "cello", "flute", "trumpet", "ukulele"]
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
    """The paper's translator on corpus rows of labels not in `exclude`; validation by group (15 %)."""
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    a, v = data["audio"], data["image"]
    labels = sorted(set(a["labels"]) | set(v["labels"]))
    lab = {l: i for i, l in enumerate(labels)}

    def split(d):
        keep = ~np.isin(d["labels"], exclude)
        groups = np.unique(d["groups"][keep])
        val_groups = set(rng.choice(groups, max(1, int(0.15 * len(groups))), replace=False))
        is_val = np.array([g in val_groups for g in d["groups"]])
        return np.where(keep & ~is_val)[0], np.where(keep & is_val)[0]

    (ta, va), (tv, vv) = split(a), split(v)
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
    log(f"held-out translator: {len(ta)} audio / {len(tv)} image training rows, best epoch {best_epoch}, val {best:.4f}")
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


def evaluate(z, labels_of, heldout, n, source, target, method, rng):
    """Mean accuracy over draws, per label, teaching from `source` and querying `target`."""
    per_label = {l: [] for l in heldout}
    tq = unit(z[target])
    mask = np.isin(labels_of[target], heldout)
    q, ql = tq[mask], labels_of[target][mask]
    for _ in range(DRAWS):
        taught = {}
        for l in heldout:
            idx = np.where(labels_of[source] == l)[0]
            taught[l] = z[source][rng.choice(idx, min(n, len(idx)), replace=False)]
        names, s = scores(taught, q, method)
        pred = np.array(names)[s.argmax(1)]
        for l in heldout:
            per_label[l].append(float((pred[ql == l] == l).mean()))
    per = {l: float(np.mean(v)) for l, v in per_label.items()}
    return {"mean": float(np.mean(list(per.values()))), "per_label": per}


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
    params = json.load(open(os.path.join(HERE, "..", "train", "params.json")))
    held_z, train_record = train_translator(data, HELD_OUT, params, print)
    spaces = {"held-out translator": held_z, "deployed translator": {m: d["z"] for m, d in data.items()}}
    results = {}
    for space, z in spaces.items():
        for method in ("prototype", "knn"):
            for source, target in (("audio", "image"), ("image", "audio")):
                for n in NS:
                    rng = np.random.default_rng(SEED + n)
                    key = f"{space} | {method} | {source}->{target} | N={n}"
                    results[key] = evaluate(z, labels_of, HELD_OUT, n, source, target, method, rng)
                    print(f"{key}: {results[key]['mean']:.3f}", flush=True)
    # The method: the better mean over both directions and all N in the held-out space.
    mean_of = lambda m: np.mean([r["mean"] for k, r in results.items() if k.startswith(f"held-out translator | {m} |")])
    method = "prototype" if mean_of("prototype") >= mean_of("knn") else "knn"
    cal = calibrate(spaces["deployed translator"], labels_of, candidates, method, np.random.default_rng(SEED))
    print(f"method {method}; threshold {cal}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    record = {"held_out": HELD_OUT, "candidates": candidates, "counts": counts, "draws": DRAWS, "k": K,
              "chance": 1 / len(HELD_OUT), "held_out_translator": train_record, "results": results,
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
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, space in zip(axes[:2], ("held-out translator", "deployed translator")):
        for method, style in (("prototype", "-"), ("knn", "--")):
            for direction, color in (("audio->image", "tab:blue"), ("image->audio", "tab:orange")):
                ys = [res[f"{space} | {method} | {direction} | N={n}"]["mean"] for n in NS]
                ax.plot(NS, ys, style, color=color, marker="o", label=f"{method}, taught {direction}")
        ax.axhline(record["chance"], color="grey", lw=0.8, ls=":", label="chance")
        ax.set_xscale("log")
        ax.set_xticks(NS, [str(n) for n in NS])
        ax.set_ylim(0, 1)
        ax.set_xlabel("items taught per label (N)")
        ax.set_ylabel("accuracy on the other modality")
        ax.set_title(space + (" (never saw these labels)" if space.startswith("held") else " (saw all 18)"))
        ax.legend(fontsize=7, loc="lower right")
    ax = axes[2]
    m = record["method"]
    labels = record["held_out"]
    width = 0.2
    for j, (space, direction) in enumerate([(s, d) for s in ("held-out translator", "deployed translator")
                                            for d in ("audio->image", "image->audio")]):
        per = res[f"{space} | {m} | {direction} | N=5"]["per_label"]
        ax.bar(np.arange(len(labels)) + (j - 1.5) * width, [per[l] for l in labels], width,
               label=f"{space.split()[0]}, {direction}")
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylim(0, 1)
    ax.set_title(f"per label, N = 5, {m}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(record, path):
    res = record["results"]
    lines = ["# Teaching a label from one modality", "",
             f"Held-out labels (the new instruments): {', '.join(record['held_out'])}; chance {record['chance']:.2f}. "
             f"Accuracy of the nearest taught label on every item of the other modality of those labels, mean of "
             f"{record['draws']} random draws of the taught items. `scripts/collections/teach_eval.py` "
             f"({record['seconds']} s on 2 CPU cores).", "",
             "| space | rule | taught -> queried | " + " | ".join(f"N={n}" for n in NS) + " |",
             "| --- | --- | --- | " + " | ".join("---:" for _ in NS) + " |"]
    for space in ("held-out translator", "deployed translator"):
        for method in ("prototype", "knn"):
            for d in ("audio->image", "image->audio"):
                row = ["%.3f" % res[f"{space} | {method} | {d} | N={n}"]["mean"] for n in NS]
                lines.append(f"| {space} | {method} | {d} | " + " | ".join(row) + " |")
    lines += ["", f"Per label ({record['method']}, N = 5):", "",
              "| label | " + " | ".join(f"{s.split()[0]} {d}" for s in ("held-out translator", "deployed translator")
                                        for d in ("audio->image", "image->audio")) + " |",
              "| --- |" + " ---: |" * 4]
    for l in record["held_out"]:
        m = record["method"]
        cells = ["%.3f" % res[f"{s} | {m} | {d} | N=5"]["per_label"][l]
                 for s in ("held-out translator", "deployed translator") for d in ("audio->image", "image->audio")]
        lines.append(f"| {l} | " + " | ".join(cells) + " |")
    c = record["calibration"]
    lines += ["", f"Rule chosen: **{record['method']}** (higher mean in the held-out space). \"None\" threshold "
              f"{c['threshold']} (deployed space, leave-one-label-out over {len(record['candidates'])} labels, N = 5): "
              f"keeps {c['known_kept']:.1%} of right answers for taught labels and rejects {c['unknown_rejected']:.1%} "
              f"of queries of an untaught label (balanced accuracy {c['balanced_accuracy']:.3f}).", "",
              "![teach](teach.png)", ""]
    open(path, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
