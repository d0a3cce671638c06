"""PCA baseline: each modality's encoder embeddings to 128-d, fitted on training data only.

Fitted on the classify-train rows (augmented views included), never on test or retrieval rows.
Writes --work/pca.json ({"format": "amodal-pca/1", "<modality>": {"dim_in", "dim", "mean",
"components"}}; project(x) = components @ (x - mean), parameters float32), pca/<modality>/<role>.f32
(every cached row projected, for forests.py) and parity/pca_<modality>_{in,out}.f32.
"""

import argparse
import os
import sys

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, os.path.dirname(__file__))
from common import f32_list, load_split, write_json  # noqa: E402

ROLES = ["translation-train", "translation-val", "retrieval", "classify-train", "classify-test", "heldout"]


def project(x, mean, comps):
    """The exact arithmetic the TS side repeats: float64 over float32 parameters."""
    return ((x.astype(np.float64) - mean.astype(np.float64)) @ comps.astype(np.float64).T).astype("<f4")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--audio", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--seed", type=int, default=1234)
    args = p.parse_args()

    out = {"format": "amodal-pca/1", "fit_on": "classify-train"}
    os.makedirs(os.path.join(args.work, "parity"), exist_ok=True)
    for name, folder in (("audio", args.audio), ("image", args.image)):
        x, rows = load_split(folder, "classify-train")
        k = min(args.dim, x.shape[0], x.shape[1])
        pca = PCA(n_components=k, svd_solver="full", random_state=args.seed).fit(x.astype(np.float64))
        comps = np.zeros((args.dim, x.shape[1]), np.float32)
        comps[:k] = pca.components_  # a tiny smoke slice has fewer rows than 128: pad with zeros
        mean = pca.mean_.astype(np.float32)
        comps = comps.astype(np.float32)
        out[name] = {
            "dim_in": int(x.shape[1]), "dim": args.dim, "rows": len(rows),
            "explained_variance_ratio": float(pca.explained_variance_ratio_.sum()),
            "mean": f32_list(mean), "components": f32_list(comps),
        }
        print(f"pca: {name} {len(rows)} rows, {k} components keep {pca.explained_variance_ratio_.sum():.3f} of the variance", flush=True)
        os.makedirs(os.path.join(args.work, "pca", name), exist_ok=True)
        for role in ROLES:
            xr, _ = load_split(folder, role)
            project(xr, mean, comps).tofile(os.path.join(args.work, "pca", name, role + ".f32"))
        xt, _ = load_split(folder, "classify-test")
        xt = xt[:64]
        xt.astype("<f4").tofile(os.path.join(args.work, "parity", f"pca_{name}_in.f32"))
        project(xt, mean, comps).tofile(os.path.join(args.work, "parity", f"pca_{name}_out.f32"))
    write_json(os.path.join(args.work, "pca.json"), out, compact=True)


if __name__ == "__main__":
    main()
