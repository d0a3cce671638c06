"""Writes report.md and the figures from metrics.json (after experiments.py).

Usage: report.py CONFIG.json META.json TOTAL_SECONDS_SO_FAR
"""

import time

T_START = time.time()  # before matplotlib's import, which takes seconds

import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import figures  # noqa: E402
import loso_section  # noqa: E402
import presence_section  # noqa: E402
from figures import test_name  # noqa: E402
from ontology import LABEL_NODES  # noqa: E402

# Why each label maps to its ontology node (see ontology.py for the distance rule).
NODE_REASONS = {
    "cymbals": "hi-hats, crash, ride, china and splash are all cymbals; AudioSet's Hi-hat and Crash cymbal sit under Cymbal",
    "drums": "our drums are kit pieces (bass drums, snares, toms) and photos of drum kits; Drum kit and Drum are siblings "
             "under Percussion, so either gives the same distances",
    "guitar": "parent of Acoustic, Electric and Steel guitar, which our GM programs and photos cover",
    "organ": "parent of Electronic and Hammond organ (GM drawbar, rock and church organs)",
    "piano": "parent of Electric piano (GM electric pianos are in our piano label)",
    "violin": "AudioSet names violin and fiddle as one class (GM Fiddle is in our violin label)",
    "voice": "our voice is singing (a singer's vowels and improvisations, GM Choir Aahs / Voice Oohs, a singer emoji); "
             "Human voice is abstract and includes speech; Singing is the parent of Choir and Male/Female singing. "
             "With the root classes removed, Singing reaches the instruments only through Choir, "
             "which AudioSet also files under Musical instrument",
    "synthesizer": "the instrument (Keyboard (musical) > Synthesizer), not Speech synthesizer",
}


def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, dict):
        if v.get("mean") is None:
            return "–"
        return f"{v['mean']:.{digits}f} ± {v['std']:.{digits}f}" if v.get("n", 1) > 1 else f"{v['mean']:.{digits}f}"
    return f"{v:.{digits}f}"


def pct(v):
    if not v or v.get("mean") is None:
        return "–"
    return f"{100 * v['mean']:.0f} % ± {100 * v['std']:.0f}"


def versions():
    out = {"python": platform.python_version()}
    for mod in ("numpy", "sklearn", "torch", "matplotlib", "onnx"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def main():
    cfg = json.load(open(sys.argv[1]))
    meta = json.load(open(sys.argv[2]))
    seconds_before = float(sys.argv[3])
    t0 = T_START
    out = cfg["out"]
    mpath = os.path.join(out, "metrics.json")
    m = json.load(open(mpath))
    labels = cfg["labels"]
    figs = figures.all_figures(m, out, labels)
    figure_seconds = time.time() - t0
    total = round(seconds_before + figure_seconds)
    v = versions()
    m["meta"] = {**meta, "versions": v, "total_seconds": total, "figure_seconds": round(figure_seconds, 1), "figures": figs}
    with open(mpath, "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")

    P, C, Z, H, O, S = m["pairs"], m["classifiers"], m["curves"], m["half_label"], m["off_the_shelf"], m["spaces"]
    seeds = cfg["seeds"]
    L = []
    w = L.append
    w("# amodal: experiment report")
    w("")
    w(f"Generated {meta['date'][:16].replace('T', ' ')} UTC by `{meta['command']}` in {total // 60} min {total % 60} s "
      f"({meta['machine']}; embeddings {meta['embedSeconds']} s of it, mostly cached). "
      "Reproduces the experiments of Wu, Fuentes & Bello (2021), *Exploring modality-agnostic representations for music "
      f"classification*, on this project's dataset. Seeds {seeds} (translator, forests, batch sampling); "
      "numbers are mean ± std over them. Every number here is also in `metrics.json`.")
    if cfg.get("smoke"):
        w("")
        w("**Smoke run**: a tiny corpus slice, few epochs and trees; the numbers mean nothing.")
    w("")

    # Headline.
    t = C["table"]
    w("## Headline")
    w("")
    w(table(["classifier", "audio (classify-test)", "photos (classify-test)"],
            [[n, fmt(t[n].get("audio")), fmt(t[n].get("image/photo"))] for n in ("SMA", "SMI", "MMP", "MMT")]))
    w("")
    zp, za = Z["zero_shot"].get("photo", {}), Z["zero_shot"].get("audio", {})
    w(f"Macro-F1 of random forests on PCA features of one modality (SMA audio, SMI image), on both modalities' PCA features "
      f"(MMP) and on the translated joint space (MMT). Zero-shot MMT (trained on audio only) reaches "
      f"{fmt(zp.get('zero_shot_mmt'))} on photos = **{pct(zp.get('fraction_of_best'))}** of the best classifier; trained on images "
      f"only it reaches {fmt(za.get('zero_shot_mmt'))} on audio = **{pct(za.get('fraction_of_best'))}** of the best "
      f"(the paper: about 70 %). Our translation pairs are matched by label, so this zero-shot is not label-free; "
      f"see the half-label analogue below. Best encoder pair by NDCG@30: **{P['best_pair']}**.")
    w("")

    # Provenance.
    w("## How this was produced")
    w("")
    w(f"* Command: `{meta['command']}` at commit `{meta['gitCommit']}`{' (with uncommitted changes)' if meta['gitDirty'] else ''}; "
      f"Deno {meta['deno']}, Python {v['python']}, PyTorch {v['torch']}, scikit-learn {v['sklearn']}, numpy {v['numpy']}, "
      f"matplotlib {v['matplotlib']}.")
    w(f"* Run time: {total} s in all: embeddings {meta['embedSeconds']} s (rows cached in `.cache/embeddings/` are reused), "
      f"experiments {m['timings']['python_seconds']} s ({m['timings']['forest_fits']} forests, stage seconds "
      f"{json.dumps(m['timings']['stages'])}; finished translator/PCA runs in `.cache/report/` are reused), figures "
      f"{figure_seconds:.0f} s; the machine's load average was {os.getloadavg()[1]:.1f} over the last 5 minutes (the 2 "
      "cores were shared with other jobs, so wall time varies). Extracting every encoder's rows into an empty cache "
      "(`--embed-only`) took about 25 min more on this machine, under similar load.")
    w(f"* Dataset: `{meta['dataset']['path']}` ({meta['dataset']['items']} items, sha256 `{meta['dataset']['sha256'][:16]}…`). "
      f"Encoders: " + ", ".join(f"`{n}` ({e['file']}, sha256 `{e['sha256'][:12]}…`)" for n, e in meta["encoders"].items()) + ".")
    tr = cfg["translator"]
    w(f"* Translator: scripts/train/translate.py as in training (Linear-BatchNorm-ELU-Linear per modality, 128-d, "
      f"contrastive hinge margin {tr['margin']}, Adam lr {tr['lr']}, batch {tr['batch']}, early stopping patience "
      f"{tr['patience']}, at most {tr['maxEpochs']} epochs); training views: {meta['views']['audio']} augmented audio and "
      f"{meta['views']['image']} image views per training item. PCA: scripts/train/pca.py (128-d per modality, fitted on "
      f"classify-train). Forests: scikit-learn RandomForestClassifier({cfg['forest']['trees']} trees, max depth "
      f"{cfg['forest']['depth']}).")
    if meta["failedItems"]:
        w(f"* {len(meta['failedItems'])} items could not be embedded and are left out: "
          + "; ".join(meta["failedItems"][:5]) + ("…" if len(meta["failedItems"]) > 5 else ""))
    w("")

    # 1. Pairs.
    w("## 1. Which embedding pair (paper 4.1)")
    w("")
    rr = next(iter(P["pairs"].values()))["retrieval_rows"]
    w(f"A translator per (audio, image) encoder pair and seed, trained on the original items (no augmented views, the same "
      f"protocol for every pair) of `translation-train`; every `retrieval` item of one "
      f"modality queries all `retrieval` items of the other ({rr['audio']} audio, {rr['image']} images: photos and drawings), "
      f"ranked by cosine similarity in the joint space. NDCG@{P['k']} uses graded relevance rel = 1 − d/d_max, d = hops "
      f"between the two labels' nodes in the AudioSet ontology with the root classes removed (d_max = {P['ontology']['d_max']:.0f}). "
      "Baselines: a random order (its exact expectation) and the untranslated embeddings, each modality PCA-reduced to "
      "128-d and compared directly. `log_mel_stats` is the non-learned audio baseline: per-band mean and standard "
      "deviation of the 64-band log-mel spectrogram (128-d). The MMT columns train a forest on each pair's joint space.")
    w("")
    rows = []
    for name, p in P["pairs"].items():
        rows.append([f"**{name}**" if name == P["best_pair"] else name, fmt(p["ndcg_a2i"]), fmt(p["ndcg_i2a"]), fmt(p["pca_a2i"]),
                     fmt(p["pca_i2a"]), fmt(p["random_a2i"]), fmt(p["random_i2a"]), fmt(p["mmt_audio"]), fmt(p["mmt_photo"])])
    w(table(["audio + image encoder", "NDCG@30 audio→image", "image→audio", "PCA a→i", "PCA i→a", "random a→i", "random i→a",
             "MMT F1 audio", "MMT F1 photos"], rows))
    w("")
    w(f"![NDCG@30 per encoder pair]({figs['ndcg']})")
    w("")
    agree = "agrees" if P["classification_agrees"] else "does not agree"
    w(f"*Left: retrieval NDCG@30 per encoder pair in both directions against the random and untranslated-PCA baselines; right: "
      f"MMT macro-F1 with the same pairs.* By mean NDCG@30 over both directions the best pair is **{P['best_pair']}** "
      f"(ranking: {', '.join(P['ranking_ndcg'])}); classification {agree} (best MMT macro-F1, mean of audio and photos: "
      f"{P['ranking_mmt'][0]}; ranking {', '.join(P['ranking_mmt'])}). The service uses {P['served_pair']}.")
    w("")
    w("**Label → ontology node** (`scripts/report/ontology.py`; names are checked against the ontology file):")
    w("")
    w(table(["label", "AudioSet node", "why"],
            [[l, f"{LABEL_NODES[l][1]} (`{LABEL_NODES[l][0]}`)", NODE_REASONS.get(l, "the class of that name")] for l in labels]))
    w("")
    rel_levels = sorted({x for row in P["ontology"]["relevance"] for x in row}, reverse=True)
    w(f"Relevance values that occur: {', '.join(f'{x:g}' for x in rel_levels)} — e.g. trumpet for trombone "
      f"{P['ontology']['relevance'][labels.index('trombone')][labels.index('trumpet')]:g} (both Brass instrument), "
      f"cello for violin {P['ontology']['relevance'][labels.index('violin')][labels.index('cello')]:g}, accordion for anything "
      f"{P['ontology']['relevance'][labels.index('accordion')][labels.index('piano')]:g} (a direct child of Musical instrument), "
      f"piano for violin {P['ontology']['relevance'][labels.index('violin')][labels.index('piano')]:g}.")
    w("")

    # 2. Classifiers.
    w("## 2. Translation vs PCA vs single modality (paper 4.2)")
    w("")
    tr_rows = C["train_rows"]
    eps = [t["epochs_run"] for t in C["translators"].values()]
    w(f"Translators of the served pair {P['served_pair']} trained with `deno task train`'s script and settings on the "
      f"original items plus {meta['views']['audio']} augmented audio / {meta['views']['image']} image view(s) per training "
      f"item (training uses 4 / 2, so these are close to, not the same as, the served translator; {min(eps)}-{max(eps)} "
      "epochs with early stopping). "
      f"Forests trained on `classify-train` ({tr_rows['audio_items']} audio and {tr_rows['image_items']} image items, "
      f"{tr_rows['audio']} / {tr_rows['image']} rows with augmented views), tested on "
      "`classify-test` (original items only) per domain and on the held-out sources. Macro-F1 is over the labels present "
      "in each test set.")
    w("")
    keys = list(C["tests"])
    w(table(["test set", "items", "labels", "SMA", "SMI", "MMP", "MMT"],
            [[test_name(k).replace("\n", " "), C["tests"][k]["n"], len(C["tests"][k]["labels"]),
              *[fmt(t[n].get(k)) for n in ("SMA", "SMI", "MMP", "MMT")]] for k in keys]))
    w("")
    w(f"![macro-F1 per classifier and test set]({figs['classifiers']})")
    w("")
    w("*Macro-F1 of the four classifiers on each test set (bars: mean over seeds, whiskers: std).*")
    w("")
    w("### Zero-shot and added target data")
    w("")
    w("Multi-modal forests trained on all of one modality's `classify-train` data plus k items per label of the target "
      "modality's `classify-train` (class-balanced batches drawn in a seeded order, nested, with their augmented views), "
      "k = 0 (zero-shot) up to all of it; the single-modality forest of the target modality from the first batch on.")
    w("")
    rows = []
    for target, single in (("photo", "SMI"), ("audio", "SMA")):
        seeds_c = list(Z[target])
        if not seeds_c:
            continue
        first = Z[target][seeds_c[0]]
        for i, pt in enumerate(first["MMT"]):
            row = [target, pt["per_label"], pt["items"]]
            for name in ("MMP", "MMT", single):
                vals = [c[name][i - (0 if name != single else 1)]["macro_f1"] for c in Z[target].values()
                        if (name != single or i > 0)]
                row.append(fmt({"mean": sum(vals) / len(vals), "std": (sum((x - sum(vals) / len(vals)) ** 2 for x in vals) / len(vals)) ** 0.5,
                                "n": len(vals)}) if vals else "–")
            rows.append(row)
    w(table(["target", "k per label", "target items", "MMP", "MMT", "single modality (SMI / SMA)"], rows))
    w("")
    w(f"![zero-shot and added-data curves]({figs['curves']})")
    w("")
    w(f"*Macro-F1 against the number of target-modality training items (0 = zero-shot), mean ± std over seeds.* "
      f"Zero-shot MMT: photos {fmt(zp.get('zero_shot_mmt'))} = {pct(zp.get('fraction_of_best'))} of the best classifier "
      f"with all data ({', '.join(sorted(set(zp.get('best', []))))}); audio {fmt(za.get('zero_shot_mmt'))} = "
      f"{pct(za.get('fraction_of_best'))} ({', '.join(sorted(set(za.get('best', []))))}). Zero-shot MMP (PCA spaces are "
      f"not aligned): photos {fmt(zp.get('zero_shot_mmp'))}, audio {fmt(za.get('zero_shot_mmp'))}.")
    w("")
    w("### The honest analogue: labels the translator never paired")
    w("")
    hs = H["summary"]
    s0 = H["seeds"][str(seeds[0])]
    w("Our pairs are not co-occurring audio and video frames, as in the paper, but any audio and any image *of the same "
      "label*: the translator is told which labels match, so the zero-shot above is not label-free. The analogue: the "
      f"labels that have both audio and photos are split in two halves per seed (seed {seeds[0]}: paired "
      f"{', '.join(s0['paired_labels'])}; unpaired {', '.join(s0['unpaired_labels'])}); a translator is trained on pairs of the "
      "first half only (the images, photos and drawings, of every other label are removed from its training data); a "
      "forest is trained on the "
      "translated audio of *all* labels and tested on photos of the *unpaired* labels (and the reverse: images of all "
      "labels, tested on audio of the unpaired labels).")
    w("")
    w(table(["direction", "test labels", "half translator", "full translator (label-paired)", "chance"],
            [["audio → photos", "unpaired", fmt(hs.get("half/audio->photo/unpaired")), fmt(hs.get("full/audio->photo/unpaired")), fmt(H["chance_macro_f1"])],
             ["audio → photos", "paired", fmt(hs.get("half/audio->photo/paired")), fmt(hs.get("full/audio->photo/paired")), "–"],
             ["images → audio", "unpaired", fmt(hs.get("half/image->audio/unpaired")), fmt(hs.get("full/image->audio/unpaired")), fmt(H["chance_macro_f1"])],
             ["images → audio", "paired", fmt(hs.get("half/image->audio/paired")), fmt(hs.get("full/image->audio/paired")), "–"]]))
    w("")
    w(f"![half-label analogue]({figs['half_label']})")
    w("")
    hu = hs.get("half/audio->photo/unpaired", {}).get("mean")
    fu = hs.get("full/audio->photo/unpaired", {}).get("mean")
    w("*Zero-shot macro-F1 with a translator that paired only half of the labels.* What the numbers mean: "
      f"\"full translator\" is the zero-shot of the previous section restricted to the same labels ({fmt(fu)} for audio → photos): "
      "the translator saw those labels' audio and photos as pairs. \"half translator, unpaired\" "
      f"({fmt(hu)}) is what transfers to labels whose audio and images were never matched: only what the encoders' "
      "embeddings share on their own plus what the mapping learnt from other labels. Chance is a uniform guess over all "
      f"{len(labels)} labels (macro-F1 = 2/(18 + n) on a balanced test of n labels). A value near chance means the "
      "label-paired zero-shot owes its score to the label matching, not to a modality-free representation.")
    w("")

    # 3. Off-the-shelf.
    w("## 3. Off-the-shelf baselines")
    w("")
    w("The encoders' own classifiers, no training on our data: YAMNet's AudioSet scores and MobileNetV2's ImageNet scores, "
      "each label scored by its best-matching class (listed below), predicting the best-scoring covered label. Macro-F1 "
      "over the labels covered, on test items of those labels; our forests' per-label F1 averaged over the same labels "
      "for comparison.")
    w("")
    rows = []
    for modality, res in O.items():
        single = "SMA" if modality == "audio" else "SMI"
        for k, r in res["tests"].items():
            rows.append([res["model"], test_name(k).replace("\n", " "), r["n"], len(r["labels"]), fmt(r["macro_f1"]),
                         fmt(r.get("ours_MMT")), fmt(r.get(f"ours_{single}"))])
    w(table(["model", "test set", "items", "labels covered", "macro-F1", "ours MMT (same labels)", "ours SMA/SMI (same labels)"], rows))
    w("")
    for modality, res in O.items():
        uncovered = [l for l in labels if l not in res["covered"]]
        w(f"* {res['model']}: " + "; ".join(f"{l} ← {', '.join(c)}" for l, c in res["classes"].items())
          + (f". Not covered: {', '.join(uncovered)}." if uncovered else "."))
    w("")

    # 4. What translation does.
    w("## 4. What translation does (paper 4.3)")
    w("")
    for space, name in (("pca", "PCA"), ("joint", "translated")):
        s = S[space]
        w(f"* {name} space: mean cosine distance between audio and photo centroids of the same label "
          f"{fmt(s['cross_modal_same_label'])}, of different labels {fmt(s['cross_modal_other_label'])}; between audio "
          f"centroids of different labels {fmt(s['audio_between_labels'])}.")
    w("")
    w(f"![centroid distance matrices]({figs['centroids']})")
    w("")
    w(f"*Cosine distance between the centroids of the (modality, label) clusters of the `retrieval` split (audio and photos; "
      f"translator seed {S['seed']}), PCA spaces left, translated space right.* In the PCA spaces the two modalities are "
      "unrelated coordinate systems; after translation an audio cluster should be closest to the photo cluster of its "
      "own label (a dark diagonal in the off-diagonal blocks).")
    w("")
    w(f"![per-label F1]({figs['per_label']})")
    w("")
    w("*Per-label F1 of MMP and MMT on audio and on photos (classify-test, mean ± std over seeds)*: which instruments each "
      "classifier gets right.")
    w("")
    w(f"![confusion matrices]({figs['confusion']})")
    w("")
    w("*Confusion matrices of MMP and MMT on audio and photos (classify-test, counts summed over seeds, colour = share of the "
      "true label's items)*: where instruments are confused.")
    w("")
    w(f"![label distribution of translation-train]({figs['translation_labels']})")
    w("")
    cnt = S["translation_train_items"]
    no_photo = [l for l in labels if not cnt.get("photo", {}).get(l)]
    w(f"*Items per label in `translation-train` by kind.* Labels without photos ({', '.join(no_photo)}) are paired only "
      "through drawings, if at all; the label imbalance carries over to the pairs, since every item is paired once per epoch.")
    w("")

    # 5. Held out.
    w("## 5. Held out by source")
    w("")
    ho = [k for k in keys if k.startswith("heldout/")]
    w("The dataset's `heldout` split holds whole sources that no split trained on (a soundfont for audio, a photo collection "
      "for images). Next to `classify-test`, photos and drawings apart:")
    w("")
    comp = ["audio", "audio/rendered", "audio/recording", "image/photo", "image/drawing"] + ho
    w(table(["test set", "items", "SMA", "SMI", "MMP", "MMT"],
            [[test_name(k).replace("\n", " "), C["tests"][k]["n"], *[fmt(t[n].get(k)) for n in ("SMA", "SMI", "MMP", "MMT")]]
             for k in comp if k in C["tests"]]))
    w("")
    w("Drawings are few (the data card lists them), so their scores are indicative only.")
    w("")

    # 6. Leave-one-source-out, from the training run (models/loso.json; the smoke report has none).
    loso_path = os.path.join(HERE, "..", "..", "models", "loso.json")
    if not cfg.get("smoke") and os.path.exists(loso_path):
        with open(loso_path) as f:
            loso = json.load(f)
        levers = os.path.join(out, "loso_levers.json")
        if os.path.exists(levers):
            with open(levers) as f:
                loso["levers"] = loso_section.levers_block(json.load(f))
        L += ["## 6." + line[2:] if line.startswith("## ") else line for line in loso_section.write(loso, out)]
    # 7. (6. without the leave-one-source-out section) Presence ("no instrument"), from scripts/presence/train.py's reports/presence/metrics.json.
    presence_dir = os.path.join(HERE, "..", "..", "reports", "presence")
    if not cfg.get("smoke") and os.path.exists(os.path.join(presence_dir, "metrics.json")):
        with open(os.path.join(presence_dir, "metrics.json")) as f:
            presence = json.load(f)
        section = presence_section.write(presence, out, os.path.join(presence_dir, "tradeoff.png"))
        L = presence_section.splice("\n".join(L), section).split("\n")  # numbered after the last section
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L))
    # The README's headline block (scripts/report/main.ts copies it between its markers).
    sp = P["pairs"][P["served_pair"]]
    hl = [table(["classifier", "audio", "photos"],
                [[n, fmt(t[n].get("audio")), fmt(t[n].get("image/photo"))] for n in ("SMA", "SMI", "MMP", "MMT")]), "",
          f"Macro-F1 on `classify-test` (forests trained on `classify-train`, mean ± std over {len(seeds)} seeds; encoders "
          f"{P['served_pair']}). Zero-shot MMT reaches {pct(zp.get('fraction_of_best'))} of the best classifier on photos "
          f"(trained on audio only) and {pct(za.get('fraction_of_best'))} on audio (trained on images only). Cross-modal "
          f"retrieval NDCG@30: audio→image {fmt(sp['ndcg_a2i'])}, image→audio {fmt(sp['ndcg_i2a'])} (random order "
          f"{fmt(sp['random_a2i'])} / {fmt(sp['random_i2a'])}). Everything else, with figures: "
          "[reports/latest/report.md](reports/latest/report.md) (`npx --yes deno@2.9.6 task report`)."]
    with open(os.path.join(out, "headline.md"), "w") as f:
        f.write("\n".join(hl) + "\n")
    print(f"report: wrote {os.path.join(out, 'report.md')} and {len(figs)} figures", flush=True)


if __name__ == "__main__":
    main()
