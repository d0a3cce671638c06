"""The leave-one-source-out section of the report: per-source bars, the confusion matrix of real
recordings, the lever table and the zero-shot photo labels, from models/loso.json (written by
`deno task train`, scripts/train/loso.py). No recomputation.

report.py includes it in report.md; `deno task train` also writes it alone:
  loso_section.py LOSO.json OUT_DIR   -> OUT_DIR/loso.md, OUT_DIR/loso_sources.png, OUT_DIR/loso_confusion.png
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DOMAIN_COLORS = {"recording": "#1f77b4", "rendered": "#aec7e8", "photo": "#2ca02c", "drawing": "#98df8a"}
# Labels no photo source has: their photo numbers can only be zero-shot.
NO_PHOTO = ["cymbals", "organ", "synthesizer", "voice"]


def sources_figure(loso, out):
    folds = sorted(loso["folds"], key=lambda f: (f["modality"], f["domain"], -f["macro_f1"]))
    fig, ax = plt.subplots(figsize=(max(8, 0.32 * len(folds)), 4.8))
    x = np.arange(len(folds))
    ax.bar(x, [f["macro_f1"] for f in folds], color=[DOMAIN_COLORS.get(f["domain"], "grey") for f in folds])
    for dom, c in DOMAIN_COLORS.items():
        s = loso["summary"].get(dom)
        if s:
            ax.bar([0], [0], color=c, label=f"{dom} (mean {s['mean']:.2f}, {s['folds']} sources)")
    ax.axhline(0.70, color="#d62728", lw=0.8, ls="--")
    ax.axhline(0.95, color="#2ca02c", lw=0.8, ls="--")
    ax.set_xticks(x, [f"{f['name']} ({f['n']})" for f in folds], rotation=90, fontsize=6.5)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("macro-F1 on the held-out source")
    ax.set_title("Leave-one-source-out: each source tested by a model trained without it (dashed: targets 0.70 audio, 0.95 photos)",
                 fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loso_sources.png"), dpi=110)
    plt.close(fig)
    return "loso_sources.png"


def confusion_figure(loso, out):
    c = loso.get("confusion", {}).get("recording")
    if not c:
        return None
    labs, counts = c["labels"], np.array(c["counts"], np.float64)
    norm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    rows = [i for i in range(len(labs)) if counts[i].sum() > 0]
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(rows) + 2))
    ax.imshow(norm[rows], cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for r, i in enumerate(rows):
        for j in range(len(labs)):
            if counts[i, j]:
                ax.text(j, r, int(counts[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labs)), labs, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), [labs[i] for i in rows], fontsize=7)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title("Real recordings, each source predicted by the model trained without it (colour = row share)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loso_confusion.png"), dpi=110)
    plt.close(fig)
    return "loso_confusion.png"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def _m(s, key):
    v = s.get(key)
    return f"{v['mean']:.3f}" if v else "–"


def section(loso, figs):
    """Markdown lines of the section (## level)."""
    s = loso["summary"]
    L = ["## Leave-one-source-out (unseen sources)", ""]
    L.append(
        "Each source (each recording source, each sound bank, each photo source; the icon sets together as "
        "`drawings`) is tested by a model trained without it: translator and head retrained from scratch on every other "
        "source's rows (never on `classify-test`), the fold's sample family kept out too "
        f"({', '.join('+'.join(f) for f in loso.get('families', [])) or 'none'}). Macro-F1 over the labels present in "
        "the held-out source; means are over sources, unweighted. This is the number that predicts what a user with "
        "new material gets; `classify-test` shares sources with training.")
    L.append("")
    L.append(_table(["", "audio", "recordings", "renders", "photos", "drawings"],
                    [["LOSO mean macro-F1 (served recipe)", _m(s, "audio"), _m(s, "recording"), _m(s, "rendered"),
                      _m(s, "photo"), _m(s, "drawing")],
                     ["target", "0.70", "", "", "0.95", ""]]))
    L.append("")
    if figs.get("sources"):
        L += [f"![LOSO per source]({figs['sources']})", ""]
    rows = [[f["name"], f["domain"], f["n"], len(f["per_label"]), f"{f['macro_f1']:.3f}",
             ", ".join(f"{k} {v:.2f}" for k, v in sorted(f["per_label"].items(), key=lambda kv: kv[1])[:3])]
            for f in sorted(loso["folds"], key=lambda f: (f["modality"], f["domain"], f["name"]))]
    L.append(_table(["held-out source", "domain", "items", "labels", "macro-F1", "weakest labels"], rows))
    L.append("")
    if figs.get("confusion"):
        L += ["Real recordings, predicted by the model that never heard their source:", "",
              f"![LOSO confusion, recordings]({figs['confusion']})", ""]
    levers = loso.get("levers")
    if levers:
        L += ["### What each lever gave", "", levers.get("note", ""), ""]
        L.append(_table(["recipe", "audio", "recordings", "renders", "photos", "drawings", "kept"],
                        [[r["name"], _m(r["summary"], "audio"), _m(r["summary"], "recording"), _m(r["summary"], "rendered"),
                          _m(r["summary"], "photo"), _m(r["summary"], "drawing"), r.get("kept", "")]
                         for r in levers["rows"]]))
        L.append("")
    z = loso.get("zero_shot_photo_labels")
    if z:
        L += ["### Labels without photos (zero-shot)", "", z.get("note", ""), ""]
        L.append(_table(["label", "photo F1 (zero-shot)", "drawing F1 (drawings held out)", "photos called this label"],
                        [[l, "– (no photo exists)" if v.get("photo_f1") is None else f"{v['photo_f1']:.3f} ({v['photo_fold']} held out)",
                          "–" if v.get("drawing_f1") is None else f"{v['drawing_f1']:.3f}", v.get("photos_predicted", 0)]
                         for l, v in z["labels"].items()]))
        L.append("")
    return L


def levers_block(doc):
    """The lever table's rows from loso_levers.json (scripts/train/levers.py)."""
    rows = []
    for r in doc["rows"]:
        name = r["name"] + (f" (grouped {r['grouped']})" if r.get("grouped") else "")
        rows.append({"name": name, "summary": r["summary"], "kept": r.get("kept", "")})
    return {"note": doc.get("note", "Each row: one recipe trained and tested on the leave-one-source-out folds "
                                      "(\"grouped K\": K models each holding out a K-th of the sources, a cheaper screen)."),
            "rows": rows}


def write(loso, out):
    os.makedirs(out, exist_ok=True)
    figs = {"sources": sources_figure(loso, out), "confusion": confusion_figure(loso, out)}
    return section(loso, figs)


def main():
    with open(sys.argv[1]) as f:
        loso = json.load(f)
    out = sys.argv[2]
    levers = os.path.join(out, "loso_levers.json")
    if os.path.exists(levers):
        with open(levers) as f:
            loso["levers"] = levers_block(json.load(f))
    lines = write(loso, out)
    with open(os.path.join(out, "loso.md"), "w") as f:
        f.write("\n".join(["# amodal: leave-one-source-out", ""] + lines[2:]) + "\n")
    print(f"loso_section: wrote {os.path.join(out, 'loso.md')}")


if __name__ == "__main__":
    main()
