"""The presence section of the report ("no instrument", issue 18): the trade-off curve, the served point, its
breakdown and the levers tried, from reports/presence/metrics.json (written by scripts/presence/train.py). No
recomputation.

report.py includes it in report.md; alone it redraws the section of an existing report folder:
  presence_section.py METRICS.json OUT_DIR   -> OUT_DIR/report.md's presence section (OUT_DIR/presence.md when there
                                                is no report.md), OUT_DIR/presence_tradeoff.png
"""

import json
import os
import shutil
import sys

FIGURE = "presence_tradeoff.png"


def pct(v):
    return "" if v is None else f"{100 * v:.1f} %"


def pair(r):
    return f"{pct(r['falseNoInstrument'])} / {pct(r['noInstrumentOnNegatives'])}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def write(metrics, out, figure=None):
    """Markdown lines of the section (first line "## Presence ..."); copies the trade-off figure into out."""
    if figure and os.path.exists(figure):
        shutil.copyfile(figure, os.path.join(out, FIGURE))
    L = ['## Presence: "no instrument"', ""]
    L.append(f"Model `{metrics['version']}` (`models/presence.json`; the rule and the data: docs/training.md, section "
             "Presence). Evaluation: " + metrics["evaluation"] + ". Targets (issue 18): <= 2 % false \"no instrument\" "
             "on instrument items, >= 90 % \"no instrument\" on negatives, per modality.")
    L.append("")
    rows = []
    for mod in ("audio", "image"):
        m = metrics[mod]
        seeds = "; ".join(f"{pair(v)}" for v in m.get("otherSeeds", {}).values())
        oracle = m.get("oracleAtTarget")
        rows.append([mod, f"{pct(m['falseNoInstrument'])} ({m['instrumentItems']})",
                     f"{pct(m['noInstrumentOnNegatives'])} ({m['negativeItems']})",
                     pair(m["instrumentSourcesHeldOut"]), seeds,
                     pct(oracle[2]) + f" (at {pct(oracle[1])})" if oracle else ""])
    L += table(["modality", "false \"no instrument\" (items)", "\"no instrument\" on negatives (items)",
                "instrument sources held out whole", "other outer-fold seeds (99; 7)",
                "oracle: best on these held-out scores at <= 2 % false"], rows)
    L += ["", f"![presence trade-off]({FIGURE})", "",
          "The curve: every threshold over the held-out scores (an oracle's view, not a rule); the red dot: the served "
          "rule, with thresholds chosen on inner folds; the other points: the levers below, each with its own "
          "inner-fold thresholds.", ""]
    for mod in ("audio", "image"):
        m = metrics[mod]
        kinds = ", ".join(f"{k} " + " and ".join(
            ([f"{pct(v['falseNoInstrument'])} false on {v['instrumentItems']} instrument items"] if v["instrumentItems"] else [])
            + ([f"{pct(v['noInstrumentOnNegatives'])} of {v['negativeItems']} negatives"] if v["negativeItems"] else []))
            for k, v in m["byKind"].items())
        L.append(f"**{mod}** by kind: {kinds}.")
        L.append("")
        L += table([f"{mod} lever (not served)", "false / on negatives"],
                   [[name, pair(v)] for name, v in m["ablations"].items()])
        L.append("")
    return L


def splice(report, lines):
    """report (report.md's text) with its presence section replaced by lines, keeping the section's number; the
    section runs to the next "## " heading. Appended, numbered after the last section, when there is none."""
    L = report.split("\n")
    title = lines[0][3:]  # 'Presence: "no instrument"'
    at = next((i for i, line in enumerate(L) if line.startswith("## ") and line.endswith(title)), None)
    if at is None:
        n = 1 + max([int(x[3:].split(".")[0]) for x in L if x[:3] == "## " and x[3:4].isdigit()], default=0)
        return "\n".join(L + [f"## {n}. {title}"] + lines[1:])
    end = next((i for i in range(at + 1, len(L)) if L[i].startswith("## ")), len(L))
    return "\n".join(L[:at + 1] + lines[1:] + L[end:])  # the heading keeps its number


def main():
    metrics_path, out = sys.argv[1], sys.argv[2]
    with open(metrics_path) as f:
        metrics = json.load(f)
    lines = write(metrics, out, os.path.join(os.path.dirname(metrics_path), "tradeoff.png"))
    report = os.path.join(out, "report.md")
    if os.path.exists(report):
        with open(report) as f:
            text = splice(f.read(), lines)
        target = report
    else:
        text, target = "\n".join(lines) + "\n", os.path.join(out, "presence.md")
    with open(target, "w") as f:
        f.write(text)
    print(f"presence section: wrote {target} and {FIGURE}")


if __name__ == "__main__":
    main()
