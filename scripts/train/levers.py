"""Measures training levers by the leave-one-source-out mean (issue 17): each named recipe of a
levers file is trained and tested on every fold of folds.json, exactly as loso.py does for the
served recipe, and the summaries are appended to an output JSON the report's LOSO section shows.

Usage (after `deno task train`, which writes folds.json into its work folder):
  levers.py --audio DIR --image DIR --folds folds.json --labels JSON --levers scripts/train/levers.json
            --out reports/latest/loso_levers.json [--grouped K] [--only name,name]
            [--image-encoder .cache/encoders/mobilenet_v2.onnx --image-classes ../shared/weights/imagenet_labels.txt]
            [--audio-encoder .cache/encoders/yamnet.onnx --audio-classes ../shared/weights/yamnet_class_map.csv]
            [--audio-patches .cache/embeddings/yamnet-patches-<sha8>]

The frame-level levers (recipe `frames`, `finetune`; scripts/train/frames.py) read the per-patch
cache of scripts/embed/extract_patches.ts (--audio-patches) and, to fine-tune, the served YAMNet graph
(--audio-encoder).

A levers file: {"base": {...recipe...}, "levers": [{"name", "what", "recipe": {...overrides of base...}}]}.
A lever already present in --out (same name, same recipe, same grouping) is not re-run. A lever's
optional "kept" (the verdict, written into levers.json once its numbers are read) goes into its row.
`--grouped K` trains K models that each hold out a K-th of the folds (round-robin by size) instead
of one per fold: cheaper and slightly pessimistic, for screening; the table says which was used.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import frames  # noqa: E402
import loso as L  # noqa: E402
from common import write_json  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--audio", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--folds", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--levers", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--grouped", type=int, default=0)
    p.add_argument("--only", default="")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--audio-patches", default="", help="per-patch cache (extract_patches.ts), for frames/finetune")
    L.add_prior_args(p)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    labels = json.loads(args.labels)
    lab = {l: i for i, l in enumerate(labels)}
    with open(args.levers) as f:
        spec = json.load(f)
    with open(args.folds) as f:
        folds = json.load(f)
    done = {"format": "amodal-loso-levers/1", "rows": []}
    if os.path.exists(args.out):
        with open(args.out) as f:
            done = json.load(f)
    only = [s for s in args.only.split(",") if s]
    pa, pv = L.Pool(args.audio, lab), L.Pool(args.image, lab)
    if any({**spec["base"], **lever["recipe"]}.get("imagenetPrior") for lever in spec["levers"]):
        L.IMAGENET_PRIOR = L.load_imagenet_prior(args.image_encoder, args.image_classes, labels)
    if any({**spec["base"], **lever["recipe"]}.get("audiosetPrior") for lever in spec["levers"]):
        L.AUDIOSET_PRIOR = L.load_audioset_prior(args.audio_encoder, args.audio_classes, labels)
    chosen = [lv for lv in spec["levers"] if not only or lv["name"] in only]
    if any({**spec["base"], **lever["recipe"]}.get("frames") or lever["recipe"].get("finetune") for lever in chosen):
        if not args.audio_patches:
            raise SystemExit("levers: a frame-level lever needs --audio-patches")
        frames.PATCHES = frames.PatchPool(args.audio_patches, lab, L.ROLES)
        frames.ENCODER_ONNX = args.audio_encoder or None
    for lever in spec["levers"]:
        if only and lever["name"] not in only:
            continue
        recipe = {**L.DEFAULTS, **spec["base"], **lever["recipe"]}
        same = [r for r in done["rows"]
                if r["name"] == lever["name"] and r.get("recipe") == recipe and r["grouped"] == args.grouped]
        if same:
            # The verdict is the levers file's (written after reading the numbers): refresh it.
            same[0]["kept"] = lever.get("kept", same[0].get("kept", ""))
            write_json(args.out, done)
            continue
        t = time.time()
        res = L.run_folds(pa, pv, folds, recipe, labels, args.seed, log=lambda m: None, grouped=args.grouped)
        summary = L.summarise(res)
        row = {"name": lever["name"], "what": lever.get("what", ""), "recipe": recipe, "grouped": args.grouped,
               "summary": summary, "per_source": {r["name"]: round(r["macro_f1"], 4) for r in res},
               "seconds": round(time.time() - t, 1), "kept": lever.get("kept", "")}
        done["rows"] = [r for r in done["rows"] if not (r["name"] == lever["name"] and r["grouped"] == args.grouped)]
        done["rows"].append(row)
        write_json(args.out, done)
        print(f"levers: {lever['name']:30s} " + " ".join(f"{k} {v['mean']:.3f}" for k, v in summary.items())
              + f" ({row['seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
