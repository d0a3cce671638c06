"""The report's experiments (issue 5), run by `deno task report` after it has extracted the embeddings.

Reuses the training code rather than repeating it: translators come from scripts/train/translate.py
and the PCA baseline from scripts/train/pca.py (run as subprocesses into work folders keyed by
encoder pair and seed, so a rerun skips finished runs), and forests from forests.py's `fit`.

  1. embedding pair choice: translator per (audio encoder, image encoder) and seed; NDCG@30 on the
     retrieval split both ways, next to random ordering and untranslated PCA embeddings; MMT macro-F1
     per pair to see whether classification agrees.
  2. SMA / SMI / MMP / MMT macro-F1 per test set; zero-shot and added-target-data curves; the
     half-label analogue (translator paired on half the labels, tested on the other half).
  3. off-the-shelf YAMNet / MobileNetV2 classifiers mapped to our labels.
  4. centroid distances, per-label F1, confusion matrices, translation-data label counts.
  5. held-out sources (the `heldout` split) next to classify-test, photos and drawings apart.

Writes <out>/metrics.json; figures.py and write_report.py turn it into figures and report.md.
Usage: experiments.py CONFIG.json (written by scripts/report/main.ts; keys documented there).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "train")
sys.path.insert(0, HERE)
sys.path.insert(0, TRAIN)

import metrics as M  # noqa: E402
import off_the_shelf as OTS  # noqa: E402
import ontology as O  # noqa: E402
from common import load_split, write_json  # noqa: E402
from forests import Data, fit, proba18  # noqa: E402

K = 30


def log(msg):
    print(f"report: {msg}", flush=True)


class Runner:
    """Shared state: config, labels, and the helpers every experiment uses."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.labels = cfg["labels"]
        self.lab = {l: i for i, l in enumerate(self.labels)}
        self.work = cfg["work"]
        self.seeds = cfg["seeds"]
        self.python = sys.executable
        self.timings = {}
        self.fits = 0
        nodes = O.load_ontology(cfg["ontology"])
        self.distances = O.label_distances(nodes, self.labels)
        self.rel, self.d_max = O.relevance_matrix(self.distances)

    # -- training runs (scripts/train) ---------------------------------------------------------

    def _script(self, name, args, done, logfile):
        if os.path.exists(done):
            return 0.0
        t = time.time()
        os.makedirs(os.path.dirname(logfile), exist_ok=True)
        with open(logfile, "w") as f:
            proc = subprocess.run([self.python, os.path.join(TRAIN, name), *args], stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            with open(logfile) as f:
                tail = f.read()[-2000:]
            raise SystemExit(f"report: {name} failed (exit {proc.returncode}), log {logfile}:\n{tail}")
        return time.time() - t

    def pca(self, a_dir, v_dir, folder):
        """pca.py fitted on classify-train of both modalities, once per encoder pair."""
        s = self._script("pca.py", ["--audio", a_dir, "--image", v_dir, "--work", folder,
                                    "--dim", str(self.cfg["pca"]["dim"])],
                         os.path.join(folder, "pca.json"), os.path.join(folder, "pca.log"))
        self.timings["pca"] = self.timings.get("pca", 0) + s

    def translator(self, a_dir, v_dir, folder, seed, pca_folder):
        """translate.py with the training hyper-parameters (max epochs from the config)."""
        t = self.cfg["translator"]
        s = self._script("translate.py", [
            "--audio", a_dir, "--image", v_dir, "--work", folder, "--labels", json.dumps(self.labels),
            "--seed", str(seed), "--batch", str(t["batch"]), "--lr", str(t["lr"]), "--margin", str(t["margin"]),
            "--patience", str(t["patience"]), "--max-epochs", str(t["maxEpochs"]),
            "--hidden", str(t["hidden"]), "--dim", str(t["dim"]),
        ], os.path.join(folder, "translator.json"), os.path.join(folder, "translate.log"))
        self.timings["translate"] = self.timings.get("translate", 0) + s
        # forests.Data reads <work>/{joint,pca}/<modality>/<role>.f32 from one folder.
        link = os.path.join(folder, "pca")
        if not os.path.exists(link):
            os.symlink(os.path.relpath(os.path.join(pca_folder, "pca"), folder), link)
        with open(os.path.join(folder, "translator.json")) as f:
            rec = json.load(f)
        return {"best_epoch": rec["best_epoch"], "epochs_run": rec["epochs_run"], "seconds": round(rec["train_seconds"], 1)}

    def forest(self, x, y, seed):
        t = time.time()
        f = self.cfg["forest"]
        rf = fit(x, y, SimpleNamespace(trees=f["trees"], depth=f["depth"], seed=seed, jobs=f.get("jobs", 2)))
        self.timings["forests"] = self.timings.get("forests", 0) + time.time() - t
        self.fits += 1
        return rf

    def predict(self, rf, x):
        return np.argmax(proba18(rf, x, len(self.labels)), axis=1)

    def data(self, folder, emb_dir, modality, roles, keep=None):
        d = Data(folder, emb_dir, modality, roles, self.lab)
        return d.where(keep) if keep else d

    def evaluate(self, rf, d, space, subset=None):
        """Macro-F1 over the labels present in d (or `subset`), per-label F1, predictions."""
        if d is None or len(d.y) == 0:
            return None
        pred = self.predict(rf, getattr(d, space))
        present = sorted(set(d.y.tolist())) if subset is None else sorted(subset)
        mf, per = M.macro_f1(d.y, pred, present)
        return {"macro_f1": mf, "per_label": {self.labels[l]: f for l, f in zip(present, per)},
                "n": int(len(d.y)), "pred": pred}


def originals(r):
    return r["view"] == 0


def strip(res):
    """A score without its predictions (for metrics.json)."""
    return None if res is None else {k: v for k, v in res.items() if k != "pred"}


def summarise(runs, key="macro_f1"):
    return M.mean_std([r[key] if r else None for r in runs])


# --------------------------------------------------------------------------------------------------
# 1. Embedding pair choice


def pair_experiment(R):
    cfg = R.cfg
    out = {"pairs": {}, "k": K, "views": "original items only (no augmented views) for every pair"}
    # The same protocol for every pair: original items only (the extra encoders have no views).
    orig = lambda name, d: filtered_cache(d, os.path.join(R.work, "originals", name), originals,  # noqa: E731
                                         roles=("translation-train", "translation-val", "classify-train"))
    for a_name, a_src in cfg["audio"].items():
        a_dir = orig(f"audio-{a_name}", a_src)
        for v_name, v_src in cfg["image"].items():
            v_dir = orig(f"image-{v_name}", v_src)
            pair = f"{a_name}+{v_name}"
            base = os.path.join(R.work, "pairs-originals", f"{a_name}__{v_name}")
            pca_folder = os.path.join(base, "pca")
            R.pca(a_dir, v_dir, pca_folder)
            res = {"audio": a_name, "image": v_name, "seeds": {}}
            for seed in R.seeds:
                folder = os.path.join(base, f"seed{seed}")
                tr = R.translator(a_dir, v_dir, folder, seed, pca_folder)
                a_ret = R.data(folder, a_dir, "audio", ["retrieval"], originals)
                v_ret = R.data(folder, v_dir, "image", ["retrieval"], originals)
                sim = M.cosine_similarity(a_ret.joint, v_ret.joint)
                run = {"translator": tr,
                       "ndcg_a2i": float(np.nanmean(M.ndcg_at_k(sim, a_ret.y, v_ret.y, R.rel, K))),
                       "ndcg_i2a": float(np.nanmean(M.ndcg_at_k(sim.T, v_ret.y, a_ret.y, R.rel, K)))}
                if "pca_a2i" not in res:
                    psim = M.cosine_similarity(a_ret.pca, v_ret.pca)
                    res["pca_a2i"] = float(np.nanmean(M.ndcg_at_k(psim, a_ret.y, v_ret.y, R.rel, K)))
                    res["pca_i2a"] = float(np.nanmean(M.ndcg_at_k(psim.T, v_ret.y, a_ret.y, R.rel, K)))
                    res["random_a2i"] = float(np.nanmean(M.random_ndcg_at_k(a_ret.y, v_ret.y, R.rel, K)))
                    res["random_i2a"] = float(np.nanmean(M.random_ndcg_at_k(v_ret.y, a_ret.y, R.rel, K)))
                    res["retrieval_rows"] = {"audio": len(a_ret.y), "image": len(v_ret.y)}
                # Does classification agree? MMT on classify-train, tested on classify-test.
                a_tr = R.data(folder, a_dir, "audio", ["classify-train"])
                v_tr = R.data(folder, v_dir, "image", ["classify-train"])
                a_te = R.data(folder, a_dir, "audio", ["classify-test"], originals)
                v_te = R.data(folder, v_dir, "image", ["classify-test"], lambda r: originals(r) and r["domain"] == "photo")
                rf = R.forest(np.concatenate([a_tr.joint, v_tr.joint]), np.concatenate([a_tr.y, v_tr.y]), seed)
                run["mmt_audio"] = R.evaluate(rf, a_te, "joint")["macro_f1"]
                ph = R.evaluate(rf, v_te, "joint")
                run["mmt_photo"] = ph["macro_f1"] if ph else None
                res["seeds"][str(seed)] = run
                log(f"pair {pair} seed {seed}: NDCG@30 a->i {run['ndcg_a2i']:.3f} i->a {run['ndcg_i2a']:.3f}, "
                    f"MMT audio {run['mmt_audio']:.3f} photo {run['mmt_photo'] or 0:.3f} (translator {tr['epochs_run']} epochs)")
            runs = list(res["seeds"].values())
            for k in ("ndcg_a2i", "ndcg_i2a", "mmt_audio", "mmt_photo"):
                res[k] = M.mean_std([r[k] for r in runs])
            res["ndcg_mean"] = M.mean_std([(r["ndcg_a2i"] + r["ndcg_i2a"]) / 2 for r in runs])
            res["mmt_mean"] = M.mean_std([(r["mmt_audio"] + (r["mmt_photo"] or 0)) / 2 for r in runs])
            out["pairs"][pair] = res
    by_ndcg = sorted(out["pairs"], key=lambda p: -out["pairs"][p]["ndcg_mean"]["mean"])
    by_mmt = sorted(out["pairs"], key=lambda p: -out["pairs"][p]["mmt_mean"]["mean"])
    out["ranking_ndcg"], out["ranking_mmt"] = by_ndcg, by_mmt
    out["best_pair"] = by_ndcg[0]
    out["classification_agrees"] = by_ndcg[0] == by_mmt[0]
    out["served_pair"] = f"{cfg['served']['audio']}+{cfg['served']['image']}"
    out["ontology"] = {
        "mapping": {l: {"id": O.LABEL_NODES[l][0], "name": O.LABEL_NODES[l][1]} for l in R.labels},
        "d_max": R.d_max,
        "distances": [[None if not np.isfinite(v) else int(v) for v in row] for row in R.distances],
        "relevance": [[round(float(v), 4) for v in row] for row in R.rel],
    }
    return out


# --------------------------------------------------------------------------------------------------
# 2, 4, 5. Classifiers on the served pair


def served_folders(R):
    """Embedding caches of the served pair (with augmented views, as in training) and the folder of
    its translator runs, trained here per seed (seed 1234 repeats the training run's translator)."""
    a_name, v_name = R.cfg["served"]["audio"], R.cfg["served"]["image"]
    # The shared cache may hold more augmented views (deno task train adds its own): keep the
    # report's number, so the result does not depend on what else ran.
    views = R.cfg["views"]
    roles = ("translation-train", "translation-val", "classify-train")
    a_dir = filtered_cache(R.cfg["audio"][a_name], os.path.join(R.work, "views", f"audio-{a_name}"),
                           lambda r: r["view"] <= views["audio"], roles)
    v_dir = filtered_cache(R.cfg["image"][v_name], os.path.join(R.work, "views", f"image-{v_name}"),
                           lambda r: r["view"] <= views["image"], roles)
    base = os.path.join(R.work, "served", f"{a_name}__{v_name}")
    R.pca(a_dir, v_dir, os.path.join(base, "pca"))
    for seed in R.seeds:
        R.translator(a_dir, v_dir, os.path.join(base, f"seed{seed}"), seed, os.path.join(base, "pca"))
    return a_dir, v_dir, base


def test_sets(R, folder, a_dir, v_dir):
    """Named test sets: classify-test per modality/domain and the held-out sources."""
    a_te = R.data(folder, a_dir, "audio", ["classify-test"], originals)
    v_te = R.data(folder, v_dir, "image", ["classify-test"], originals)
    tests = {"audio": a_te}
    for dom in sorted({r["domain"] for r in a_te.rows}):
        tests[f"audio/{dom}"] = a_te.where(lambda r, d=dom: r["domain"] == d)
    for dom in sorted({r["domain"] for r in v_te.rows}):
        tests[f"image/{dom}"] = v_te.where(lambda r, d=dom: r["domain"] == d)
    for modality, emb in (("audio", a_dir), ("image", v_dir)):
        h = R.data(folder, emb, modality, ["heldout"], originals)
        for (dom, src) in sorted({(r["domain"], r["source"]) for r in h.rows}):
            tests[f"heldout/{dom}/{src}"] = h.where(lambda r, d=dom, s=src: r["domain"] == d and r["source"] == s)
    return {k: v for k, v in tests.items() if len(v.y)}


def classifier_experiment(R):
    a_dir, v_dir, base = served_folders(R)
    out = {"seeds": {}, "tests": None, "translators": {
        str(seed): R.translator(a_dir, v_dir, os.path.join(base, f"seed{seed}"), seed, os.path.join(base, "pca"))
        for seed in R.seeds}}
    conf = {}
    for si, seed in enumerate(R.seeds):
        folder = os.path.join(base, f"seed{seed}")
        a_tr = R.data(folder, a_dir, "audio", ["classify-train"])
        v_tr = R.data(folder, v_dir, "image", ["classify-train"])
        tests = test_sets(R, folder, a_dir, v_dir)
        if out["tests"] is None:
            out["tests"] = {k: {"n": len(d.y), "labels": sorted({R.labels[i] for i in d.y.tolist()})} for k, d in tests.items()}
            out["train_rows"] = {"audio": len(a_tr.y), "image": len(v_tr.y),
                                 "audio_items": sum(r["view"] == 0 for r in a_tr.rows),
                                 "image_items": sum(r["view"] == 0 for r in v_tr.rows)}
        a_keys = [k for k in tests if k.startswith("audio") or k.startswith("heldout/recording") or k.startswith("heldout/rendered")]
        v_keys = [k for k in tests if k not in a_keys]
        models = {
            "SMA": (R.forest(a_tr.pca, a_tr.y, seed), "pca", a_keys),
            "SMI": (R.forest(v_tr.pca, v_tr.y, seed), "pca", v_keys),
            "MMP": (R.forest(np.concatenate([a_tr.pca, v_tr.pca]), np.concatenate([a_tr.y, v_tr.y]), seed), "pca", a_keys + v_keys),
            "MMT": (R.forest(np.concatenate([a_tr.joint, v_tr.joint]), np.concatenate([a_tr.y, v_tr.y]), seed), "joint", a_keys + v_keys),
        }
        run = {}
        for name, (rf, space, keys) in models.items():
            run[name] = {}
            for k in keys:
                res = R.evaluate(rf, tests[k], space)
                run[name][k] = strip(res)
                if name in ("MMP", "MMT") and k in ("audio", "image/photo"):
                    labs = sorted(set(tests[k].y.tolist()))
                    c = M.confusion(tests[k].y, res["pred"], labs)
                    key = f"{name}|{k}"
                    conf[key] = {"labels": [R.labels[l] for l in labs], "counts": (conf[key]["counts"] + c) if key in conf else c}
        out["seeds"][str(seed)] = run
        log(f"classifiers seed {seed}: " + ", ".join(
            f"{n} {k} {run[n][k]['macro_f1']:.3f}" for n in run for k in ("audio", "image/photo") if k in run[n]))
    # Mean ± std per classifier and test set, per-label F1 means.
    table, per_label = {}, {}
    for name in ("SMA", "SMI", "MMP", "MMT"):
        table[name], per_label[name] = {}, {}
        for k in out["tests"]:
            runs = [out["seeds"][str(s)][name].get(k) for s in R.seeds]
            if all(r is None for r in runs):
                continue
            table[name][k] = summarise(runs)
            labs = runs[0]["per_label"].keys()
            per_label[name][k] = {l: M.mean_std([r["per_label"][l] for r in runs]) for l in labs}
    out["table"], out["per_label"] = table, per_label
    out["confusion"] = {k: {"labels": v["labels"], "counts": v["counts"].tolist()} for k, v in conf.items()}
    return out


def curve_experiment(R, classifiers):
    """Zero-shot and added-target-data curves, target = photos and target = audio."""
    a_dir, v_dir, base = served_folders(R)
    out = {"photo": {}, "audio": {}}
    for seed in R.seeds:
        folder = os.path.join(base, f"seed{seed}")
        a_tr = R.data(folder, a_dir, "audio", ["classify-train"])
        v_tr = R.data(folder, v_dir, "image", ["classify-train"])
        tests = test_sets(R, folder, a_dir, v_dir)
        setups = {
            # target photos: source = all audio; target pool = photo classify-train items (+ their views)
            "photo": (a_tr, v_tr.where(lambda r: r["domain"] == "photo"), tests.get("image/photo"), "SMI"),
            # target audio: source = all images (photos and drawings); target pool = audio classify-train
            "audio": (v_tr, a_tr, tests.get("audio"), "SMA"),
        }
        rng = np.random.default_rng(seed)
        for target, (src, pool, test, single) in setups.items():
            if test is None or not len(pool.y):
                continue
            items = [i for i, r in enumerate(pool.rows) if r["view"] == 0]
            order = M.balanced_order(pool.y[items], rng)
            id_rows = {}
            for i, r in enumerate(pool.rows):
                id_rows.setdefault(r["id"], []).append(i)
            curves = {"MMP": [], "MMT": [], single: []}
            for per in M.curve_steps(order):
                chosen = [items[j] for j in M.balanced_take(order, per)]
                rows = np.array(sorted(i for c in chosen for i in id_rows[pool.rows[c]["id"]]), dtype=np.int64)
                x_items = len(chosen)
                for name, space in (("MMP", "pca"), ("MMT", "joint")):
                    xs = np.concatenate([getattr(src, space), getattr(pool, space)[rows]]) if len(rows) else getattr(src, space)
                    ys = np.concatenate([src.y, pool.y[rows]]) if len(rows) else src.y
                    res = R.evaluate(R.forest(xs, ys, seed), test, space)
                    curves[name].append({"per_label": per, "items": x_items, "macro_f1": res["macro_f1"]})
                if len(rows):
                    res = R.evaluate(R.forest(pool.pca[rows], pool.y[rows], seed), test, "pca")
                    curves[single].append({"per_label": per, "items": x_items, "macro_f1": res["macro_f1"]})
            out[target][str(seed)] = curves
            z = curves["MMT"][0]["macro_f1"]
            log(f"curves seed {seed} target {target}: zero-shot MMT {z:.3f}, MMP {curves['MMP'][0]['macro_f1']:.3f}; "
                f"all data MMT {curves['MMT'][-1]['macro_f1']:.3f}")
    # Zero-shot fraction of the best classifier (with all data, from the classifier table).
    zs = {}
    for target, test_key, candidates in (("photo", "image/photo", ("SMI", "MMP", "MMT")), ("audio", "audio", ("SMA", "MMP", "MMT"))):
        fr, zero, best_names = [], [], []
        for seed in R.seeds:
            c = out[target].get(str(seed))
            if not c:
                continue
            run = classifiers["seeds"][str(seed)]
            best = max(candidates, key=lambda n: run[n][test_key]["macro_f1"])
            z = c["MMT"][0]["macro_f1"]
            zero.append(z)
            fr.append(z / max(run[best][test_key]["macro_f1"], 1e-9))
            best_names.append(best)
        zs[target] = {"zero_shot_mmt": M.mean_std(zero), "fraction_of_best": M.mean_std(fr), "best": best_names,
                      "zero_shot_mmp": M.mean_std([out[target][str(s)]["MMP"][0]["macro_f1"] for s in R.seeds if str(s) in out[target]])}
    out["zero_shot"] = zs
    return out


def half_label_experiment(R):
    """Translator paired on half of the labels; classifier on one modality of all labels; tested on
    the other modality's items of the labels the translator never paired (and of those it did)."""
    a_dir, v_dir, base = served_folders(R)
    out = {"seeds": {}}
    for seed in R.seeds:
        full = os.path.join(base, f"seed{seed}")
        _, ra = load_split(a_dir, "translation-train")
        _, rv = load_split(v_dir, "translation-train")
        # Labels with audio and photos (drawing-only labels are left out of both halves: their
        # images are removed from the half translator's data and they are not tested).
        paired = sorted({r["label"] for r in ra} & {r["label"] for r in rv if r["domain"] == "photo"})
        rng = np.random.default_rng(seed + 100)
        perm = [paired[i] for i in rng.permutation(len(paired))]
        half_a, half_b = sorted(perm[: len(perm) // 2]), sorted(perm[len(perm) // 2:])
        # An image cache in which the translator's splits hold only half_a: pairs exist only there.
        cache = os.path.join(R.work, "half", f"seed{seed}", "image-cache")
        filtered_cache(v_dir, cache, lambda r, keep=set(half_a): r["label"] in keep)
        folder = os.path.join(R.work, "half", f"seed{seed}", "translator")
        tr = R.translator(a_dir, cache, folder, seed, os.path.join(base, "pca"))
        res = {"paired_labels": half_a, "unpaired_labels": half_b, "translator": tr}
        ia, ib = [R.lab[l] for l in half_a], [R.lab[l] for l in half_b]
        for name, f in (("half", folder), ("full", full)):
            a_tr = R.data(f, a_dir, "audio", ["classify-train"])
            v_tr = R.data(f, v_dir, "image", ["classify-train"])
            a_te = R.data(f, a_dir, "audio", ["classify-test"], originals)
            ph = R.data(f, v_dir, "image", ["classify-test"], lambda r: originals(r) and r["domain"] == "photo")
            rf_a = R.forest(a_tr.joint, a_tr.y, seed)  # audio of all labels
            rf_v = R.forest(v_tr.joint, v_tr.y, seed)  # images of all labels
            for lbl, sub in (("unpaired", ib), ("paired", ia)):
                p = ph.where(lambda r, s=set(sub): R.lab[r["label"]] in s)
                a = a_te.where(lambda r, s=set(sub): R.lab[r["label"]] in s)
                res[f"{name}/audio->photo/{lbl}"] = R.evaluate(rf_a, p, "joint")["macro_f1"] if len(p.y) else None
                res[f"{name}/image->audio/{lbl}"] = R.evaluate(rf_v, a, "joint")["macro_f1"] if len(a.y) else None
        out["seeds"][str(seed)] = res
        log(f"half-label seed {seed}: paired {half_a}; audio->photo unpaired {res['half/audio->photo/unpaired']:.3f} "
            f"(full translator {res['full/audio->photo/unpaired']:.3f}), image->audio unpaired "
            f"{res['half/image->audio/unpaired']:.3f} (full {res['full/image->audio/unpaired']:.3f})")
    keys = [k for k in next(iter(out["seeds"].values())) if "/" in k]
    out["summary"] = {k: M.mean_std([out["seeds"][str(s)][k] for s in R.seeds]) for k in keys}
    # Chance: guessing uniformly among all labels on a class-balanced test of n labels gives each
    # label precision 1/n and recall 1/L, so F1 = 2 / (L + n).
    n_b = len(out["seeds"][str(R.seeds[0])]["unpaired_labels"])
    out["chance_macro_f1"] = 2 / (len(R.labels) + n_b)
    return out


def filtered_cache(src, dst, keep, roles=("translation-train", "translation-val")):
    """A copy of an embedding cache in which the splits `roles` hold only the rows for which
    keep(row) is true (other splits are symlinked). Returns dst."""
    if os.path.exists(os.path.join(dst, "meta.json")):
        return dst
    tmp = dst + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    shutil.copy(os.path.join(src, "meta.json"), os.path.join(tmp, "meta.json"))
    with open(os.path.join(src, "meta.json")) as f:
        dim = json.load(f)["dim"]
    for name in os.listdir(src):
        role, ext = os.path.splitext(name)
        if ext not in (".f32", ".jsonl"):
            continue
        if role in roles:
            if ext == ".jsonl":
                x, rows = load_split(src, role)
                idx = [i for i, r in enumerate(rows) if keep(r)]
                x[idx].astype("<f4").tofile(os.path.join(tmp, role + ".f32"))
                with open(os.path.join(tmp, role + ".jsonl"), "w") as f:
                    f.writelines(json.dumps(rows[i]) + "\n" for i in idx)
                assert x.shape[1] == dim
        else:
            os.symlink(os.path.abspath(os.path.join(src, name)), os.path.join(tmp, name))
    shutil.rmtree(dst, ignore_errors=True)
    os.replace(tmp, dst)
    return dst


# --------------------------------------------------------------------------------------------------
# 3. Off-the-shelf classifiers


def off_the_shelf_experiment(R, classifiers):
    out = {}
    for modality, mapping, ours in (("audio", OTS.AUDIOSET, ("audio", "audio/recording", "audio/rendered")),
                                    ("image", OTS.IMAGENET, ("image/photo", "image/drawing"))):
        s = R.cfg["scores"].get(modality)
        if not s:
            continue
        names = OTS.read_class_names(s["classes"])
        cols = OTS.class_columns(names, mapping, R.labels)
        res = {"model": s["model"], "covered": [R.labels[l] for l in sorted(cols)],
               "classes": {R.labels[l]: mapping[R.labels[l]] for l in sorted(cols)}, "tests": {}}
        for role in ("classify-test", "heldout"):
            x, rows = load_split(s["dir"], role)
            idx = [i for i, r in enumerate(rows) if r["view"] == 0 and R.lab[r["label"]] in cols]
            if not idx:
                continue
            x, rows = x[idx], [rows[i] for i in idx]
            y = np.array([R.lab[r["label"]] for r in rows])
            pred = OTS.predict(x, cols)
            groups = {}
            for i, r in enumerate(rows):
                key = (f"{modality}/{r['domain']}" if role == "classify-test" else f"heldout/{r['domain']}/{r['source']}")
                groups.setdefault(key, []).append(i)
                if role == "classify-test" and modality == "audio":
                    groups.setdefault("audio", []).append(i)
            for key, ii in groups.items():
                present = sorted(set(y[ii].tolist()))
                mf, per = M.macro_f1(y[ii], pred[ii], present)
                res["tests"][key] = {"macro_f1": mf, "n": len(ii), "labels": [R.labels[l] for l in present],
                                     "per_label": {R.labels[l]: f for l, f in zip(present, per)}}
        # Ours on the same covered labels: mean per-label F1 of each seed's MMT / best single-modality forest.
        for key, t in res["tests"].items():
            for name in ("MMT", "SMA" if modality == "audio" else "SMI"):
                vals = []
                for seed in R.seeds:
                    r = classifiers["seeds"][str(seed)][name].get(key)
                    if r:
                        vals.append(float(np.mean([r["per_label"][l] for l in t["labels"] if l in r["per_label"]])))
                t[f"ours_{name}"] = M.mean_std(vals)
        out[modality] = res
        log(f"off-the-shelf {s['model']}: " + ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in res["tests"].items()))
    return out


# --------------------------------------------------------------------------------------------------
# 4. What translation does


def space_experiment(R):
    a_dir, v_dir, base = served_folders(R)
    folder = os.path.join(base, f"seed{R.seeds[0]}")
    a = R.data(folder, a_dir, "audio", ["retrieval"], originals)
    v = R.data(folder, v_dir, "image", ["retrieval"], lambda r: originals(r) and r["domain"] == "photo")
    keys = [f"audio:{r['label']}" for r in a.rows] + [f"photo:{r['label']}" for r in v.rows]
    out = {"split": "retrieval", "seed": R.seeds[0]}
    for space in ("pca", "joint"):
        x = np.concatenate([getattr(a, space), getattr(v, space)])
        names, c = M.centroids(x, keys)
        # Audio clusters first, then photo clusters, each in label order.
        order = sorted(range(len(names)), key=lambda i: (names[i].split(":")[0] != "audio", R.lab[names[i].split(":")[1]]))
        names = [names[i] for i in order]
        d = M.cosine_distance_matrix(c[order])
        same, diff = [], []
        for i, ni in enumerate(names):
            for j, nj in enumerate(names):
                mi, li = ni.split(":")
                mj, lj = nj.split(":")
                if mi != mj:
                    (same if li == lj else diff).append(d[i, j])
        within_audio = [d[i, j] for i, ni in enumerate(names) for j, nj in enumerate(names)
                        if i != j and ni.startswith("audio:") and nj.startswith("audio:")]
        out[space] = {"clusters": names, "distance": np.round(d, 4).tolist(),
                      "cross_modal_same_label": float(np.mean(same)) if same else None,
                      "cross_modal_other_label": float(np.mean(diff)) if diff else None,
                      "audio_between_labels": float(np.mean(within_audio)) if within_audio else None}
    # Label distribution of the translator's training data (original items; each item also has views).
    counts = {}
    for modality, emb in (("audio", a_dir), ("image", v_dir)):
        _, rows = load_split(emb, "translation-train")
        for r in rows:
            if r["view"] != 0:
                continue
            key = "audio" if modality == "audio" else r["domain"]
            counts.setdefault(key, {}).setdefault(r["label"], 0)
            counts[key][r["label"]] += 1
    out["translation_train_items"] = counts
    return out


# --------------------------------------------------------------------------------------------------


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    t0 = time.time()
    R = Runner(cfg)
    os.makedirs(R.work, exist_ok=True)
    os.makedirs(cfg["out"], exist_ok=True)
    log(f"{len(cfg['audio'])} audio x {len(cfg['image'])} image encoders, seeds {R.seeds}, work {R.work}")
    result = {"format": "amodal-report/1", "config": {k: cfg[k] for k in ("seeds", "translator", "forest", "served", "smoke")}}
    result["pairs"] = pair_experiment(R)
    result["classifiers"] = classifier_experiment(R)
    result["curves"] = curve_experiment(R, result["classifiers"])
    result["half_label"] = half_label_experiment(R)
    result["off_the_shelf"] = off_the_shelf_experiment(R, result["classifiers"])
    result["spaces"] = space_experiment(R)
    R.timings = {k: round(v, 1) for k, v in R.timings.items()}
    result["timings"] = {"python_seconds": round(time.time() - t0, 1), "stages": R.timings, "forest_fits": R.fits}
    write_json(os.path.join(cfg["out"], "metrics.json"), result)
    log(f"wrote {os.path.join(cfg['out'], 'metrics.json')} in {time.time() - t0:.0f} s ({R.fits} forests)")


if __name__ == "__main__":
    main()
