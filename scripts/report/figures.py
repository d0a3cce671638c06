"""Figures of the report, drawn with matplotlib from metrics.json (no recomputation).

Each function writes one PNG into the output folder and returns its file name.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"SMA": "#8c6d31", "SMI": "#e6550d", "MMP": "#6baed6", "MMT": "#08519c"}
DPI = 110


def _save(fig, out, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=DPI)
    plt.close(fig)
    return name


def _ms(v):
    return (v["mean"] if v and v["mean"] is not None else np.nan), (v["std"] if v and v["std"] is not None else 0.0)


def ndcg(metrics, out):
    p = metrics["pairs"]
    pairs = list(p["pairs"])
    x = np.arange(len(pairs))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    w = 0.2
    series = [("translated, audio→image", "ndcg_a2i", "#08519c", None), ("translated, image→audio", "ndcg_i2a", "#6baed6", None),
              ("PCA, untranslated, audio→image", "pca_a2i", "#a1d99b", "//"), ("PCA, untranslated, image→audio", "pca_i2a", "#31a354", "//")]
    for i, (label, key, color, hatch) in enumerate(series):
        vals = [_ms(p["pairs"][q][key]) if isinstance(p["pairs"][q][key], dict) else (p["pairs"][q][key], 0) for q in pairs]
        ax.bar(x + (i - 1.5) * w, [v[0] for v in vals], w, yerr=[v[1] for v in vals], label=label, color=color,
               hatch=hatch, capsize=2, edgecolor="white" if hatch else None)
    r_a2i = np.mean([p["pairs"][q]["random_a2i"] for q in pairs])
    r_i2a = np.mean([p["pairs"][q]["random_i2a"] for q in pairs])
    ax.axhline(r_a2i, color="grey", ls="--", lw=1, label=f"random order, audio→image ({r_a2i:.2f})")
    ax.axhline(r_i2a, color="black", ls=":", lw=1, label=f"random order, image→audio ({r_i2a:.2f})")
    ax.set_xticks(x, [q.replace("+", "\n+ ") for q in pairs], fontsize=8)
    ax.set_ylabel(f"NDCG@{p['k']} (mean over queries)")
    ax.set_ylim(0, 1)
    ax.set_title("Cross-modal retrieval on the retrieval split")
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    for i, (label, key, color) in enumerate((("MMT, audio test", "mmt_audio", "#8c6d31"), ("MMT, photo test", "mmt_photo", "#e6550d"))):
        vals = [_ms(p["pairs"][q][key]) for q in pairs]
        ax2.bar(x + (i - 0.5) * 0.35, [v[0] for v in vals], 0.35, yerr=[v[1] for v in vals], label=label, color=color, capsize=2)
    ax2.set_xticks(x, [q.replace("+", "\n+ ") for q in pairs], fontsize=7, rotation=30)
    ax2.set_ylabel("macro-F1 on classify-test")
    ax2.set_ylim(0, 1)
    ax2.set_title("Classification with each pair (MMT)")
    ax2.legend(fontsize=8)
    return _save(fig, out, "ndcg_pairs.png")


TEST_NAMES = {"audio": "audio (all)", "audio/recording": "audio:\nrecordings", "audio/rendered": "audio:\nrenders",
              "image/photo": "photos", "image/drawing": "drawings"}


def test_name(k):
    if k in TEST_NAMES:
        return TEST_NAMES[k]
    if k.startswith("heldout/"):
        _, dom, src = k.split("/", 2)
        return f"held out:\n{src} ({dom})"
    return k


def classifiers(metrics, out):
    t = metrics["classifiers"]["table"]
    keys = list(metrics["classifiers"]["tests"])
    x = np.arange(len(keys))
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(keys)), 4.5))
    w = 0.2
    for i, name in enumerate(("SMA", "SMI", "MMP", "MMT")):
        vals = [_ms(t[name].get(k)) for k in keys]
        ax.bar(x + (i - 1.5) * w, [v[0] for v in vals], w, yerr=[v[1] for v in vals], label=name, color=COLORS[name], capsize=2)
    ax.set_xticks(x, [test_name(k) for k in keys], fontsize=8)
    ax.set_ylabel("macro-F1 (mean ± std over seeds)")
    ax.set_ylim(0, 1)
    ax.set_title("Single-modality (SMA audio, SMI image) vs multi-modal PCA (MMP) and translated (MMT) forests")
    ax.legend(ncol=4, fontsize=8, loc="upper right")
    return _save(fig, out, "classifiers.png")


def curves(metrics, out):
    c = metrics["curves"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (target, title, single) in zip(axes, (("photo", "Tested on photos: audio + k photos per label", "SMI"),
                                                  ("audio", "Tested on audio: images + k audio clips per label", "SMA"))):
        seeds = list(c[target])
        if not seeds:
            ax.set_visible(False)
            continue
        for name in ("MMP", "MMT", single):
            runs = [c[target][s][name] for s in seeds]
            xs = [pt["items"] for pt in runs[0]]
            ys = np.array([[pt["macro_f1"] for pt in r] for r in runs])
            m, sd = ys.mean(axis=0), ys.std(axis=0)
            ax.plot(xs, m, marker="o", ms=4, label=name, color=COLORS[name])
            ax.fill_between(xs, m - sd, m + sd, color=COLORS[name], alpha=0.2)
        # symlog: 0 (zero-shot) stays on the axis, the larger batches do not crowd; ticks at the data.
        xs = [pt["items"] for pt in c[target][seeds[0]]["MMT"]]
        nonzero = [x for x in xs if x > 0]
        ax.set_xscale("symlog", linthresh=min(nonzero) if nonzero else 1)
        ax.set_xticks(xs, [str(x) for x in xs], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel(f"target-modality training items ({target}; class-balanced batches, 0 = zero-shot)")
        ax.set_ylabel("macro-F1 (mean ± std over seeds)")
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out, "zero_shot_curves.png")


def centroids(metrics, out):
    s = metrics["spaces"]
    fig, axes = plt.subplots(1, 2, figsize=(16, 7.5))
    # One colour scale for both panels, so their distances compare at a glance.
    vmax = max(1.0, *(float(np.max(s[k]["distance"])) for k in ("pca", "joint")))
    for ax, (space, title) in zip(axes, (("pca", "PCA spaces (per modality)"), ("joint", "Translated joint space"))):
        names = s[space]["clusters"]
        d = np.array(s[space]["distance"])
        im = ax.imshow(d, cmap="viridis", vmin=0, vmax=vmax)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        n_audio = sum(n.startswith("audio:") for n in names)
        ax.axhline(n_audio - 0.5, color="white", lw=1)
        ax.axvline(n_audio - 0.5, color="white", lw=1)
        ax.set_title(f"{title}: cosine distance between centroids", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.04, label="1 − cosine similarity")
    return _save(fig, out, "centroid_distances.png")


def per_label(metrics, out):
    pl = metrics["classifiers"]["per_label"]
    fig, axes = plt.subplots(2, 1, figsize=(12, 7))
    for ax, (key, title) in zip(axes, (("audio", "audio (classify-test)"), ("image/photo", "photos (classify-test)"))):
        if key not in pl["MMT"]:
            ax.set_visible(False)
            continue
        labs = list(pl["MMT"][key])
        x = np.arange(len(labs))
        for i, name in enumerate(("MMP", "MMT")):
            vals = [_ms(pl[name][key][l]) for l in labs]
            ax.bar(x + (i - 0.5) * 0.38, [v[0] for v in vals], 0.38, yerr=[v[1] for v in vals], label=name, color=COLORS[name], capsize=2)
        ax.set_xticks(x, labs, rotation=30, fontsize=8)
        ax.set_ylabel("F1 (mean ± std)")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Per-label F1, {title}", fontsize=10)
        ax.legend(fontsize=8)
    return _save(fig, out, "per_label_f1.png")


def confusion(metrics, out):
    conf = metrics["classifiers"]["confusion"]
    panels = [(f"{n}|{k}", f"{n}, {t}") for k, t in (("audio", "audio"), ("image/photo", "photos")) for n in ("MMP", "MMT")]
    panels = [p for p in panels if p[0] in conf]
    fig, axes = plt.subplots(2, 2, figsize=(13, 12))
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (key, title) in zip(axes.flat, panels):
        labs = conf[key]["labels"]
        c = np.array(conf[key]["counts"], np.float64)
        norm = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(labs)):
            for j in range(len(labs)):
                if c[i, j]:
                    ax.text(j, i, int(c[i, j]), ha="center", va="center", fontsize=5.5,
                            color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labs)), labs, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labs)), labs, fontsize=7)
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        ax.set_title(f"{title} (counts summed over seeds; colour = row share)", fontsize=9)
    return _save(fig, out, "confusion.png")


def translation_labels(metrics, out, labels):
    counts = metrics["spaces"]["translation_train_items"]
    kinds = [k for k in ("audio", "photo", "drawing") if k in counts]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(12, 4))
    w = 0.8 / max(len(kinds), 1)
    colors = {"audio": "#8c6d31", "photo": "#e6550d", "drawing": "#fdae6b"}
    for i, k in enumerate(kinds):
        ax.bar(x + (i - (len(kinds) - 1) / 2) * w, [counts[k].get(l, 0) for l in labels], w, label=k, color=colors[k])
    ax.set_xticks(x, labels, rotation=30, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("items in translation-train (log scale)")
    ax.set_title("Label distribution of the translator's training data (original items; augmented views not counted)", fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, out, "translation_labels.png")


def half_label(metrics, out):
    h = metrics["half_label"]["summary"]
    groups = [("audio→photo", "audio->photo"), ("image→audio", "image->audio")]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    bars = [("translator paired on these labels", "half", "paired", "#6baed6"),
            ("translator never paired these labels", "half", "unpaired", "#de2d26"),
            ("translator paired on all labels (label-paired zero-shot)", "full", "unpaired", "#08519c")]
    x = np.arange(len(groups))
    w = 0.25
    for i, (label, tr, sub, color) in enumerate(bars):
        vals = [_ms(h.get(f"{tr}/{g}/{sub}")) for _, g in groups]
        ax.bar(x + (i - 1) * w, [v[0] for v in vals], w, yerr=[v[1] for v in vals], label=label, color=color, capsize=2)
    ax.axhline(metrics["half_label"]["chance_macro_f1"], color="grey", ls="--", lw=1, label="chance (uniform guess)")
    ax.set_xticks(x, [f"{g[0]}\n(train on one modality, test on the other)" for g in groups], fontsize=8)
    ax.set_ylabel("zero-shot macro-F1 (mean ± std)")
    ax.set_ylim(0, 1)
    ax.set_title("Half-label analogue: does translation carry labels it never saw paired?", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, out, "half_label.png")


def all_figures(metrics, out, labels):
    """Draws every figure; returns {key: file name}."""
    return {
        "ndcg": ndcg(metrics, out),
        "classifiers": classifiers(metrics, out),
        "curves": curves(metrics, out),
        "half_label": half_label(metrics, out),
        "centroids": centroids(metrics, out),
        "per_label": per_label(metrics, out),
        "confusion": confusion(metrics, out),
        "translation_labels": translation_labels(metrics, out, labels),
    }
