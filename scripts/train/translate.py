"""Trains the audio/image translator into the 128-d joint space and exports one ONNX per head.

The paper's model (Wu, Fuentes, Bello 2021): per modality Linear(in, 256) -> BatchNorm -> ELU ->
Linear(256, 128), outputs L2-normalised, contrastive hinge loss on cosine similarity with in-batch
negatives and margin 1.0, Adam lr 1e-3, early stopping on the validation loss.

Pairs are label-level (no videos here): each epoch every audio row of a label that has images is
paired with a random image row of that label, and every image row with a random audio row. A batch
item of the *same* label is not used as a negative (it is a true match at label level; counting it
as a negative would push same-label items apart).

Writes to --work: translator_audio.onnx, translator_image.onnx, translator.json (training record),
joint/<modality>/<role>.f32 (every cached row mapped through its head, for forests.py) and
parity/translator_<modality>_{in,out}.f32 (inputs and PyTorch outputs the TS test compares the
ONNX runtime against).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from common import load_split, seed_everything, write_json  # noqa: E402

ROLES = ["translation-train", "translation-val", "retrieval", "classify-train", "classify-test", "heldout"]


class Head(nn.Module):
    """One modality's translator head."""

    def __init__(self, dim_in, hidden=256, dim_out=128, input_norm=False):
        super().__init__()
        self.input_norm = input_norm
        self.net = nn.Sequential(
            nn.Linear(dim_in, hidden), nn.BatchNorm1d(hidden), nn.ELU(), nn.Linear(hidden, dim_out)
        )

    def forward(self, x):
        if self.input_norm:
            # Per-clip L2 normalisation of the encoder embedding: invariance to overall level.
            x = x / torch.sqrt(torch.clamp((x * x).sum(dim=1, keepdim=True), min=1e-24))
        y = self.net(x)
        # Written out (not F.normalize) so the ONNX graph is plain ReduceSumSquare/Sqrt/Div.
        return y / torch.sqrt(torch.clamp((y * y).sum(dim=1, keepdim=True), min=1e-24))


def hinge_loss(a, v, labels, margin):
    """Mean contrastive hinge over in-batch negatives of another label, both directions."""
    s = a @ v.t()
    pos = torch.diagonal(s)
    neg_mask = labels[:, None] != labels[None, :]
    l_av = torch.clamp(margin - pos[:, None] + s, min=0)  # anchor audio i, negative image j
    l_va = torch.clamp(margin - pos[None, :] + s, min=0)  # anchor image j, negative audio i
    m = neg_mask.float()
    n = m.sum().clamp(min=1)
    return ((l_av * m).sum() + (l_va * m).sum()) / (2 * n)


def make_pairs(a_labels, v_labels, rng):
    """Index pairs (audio row, image row) of equal label, one per row of either side."""
    by_label_a, by_label_v = {}, {}
    for i, l in enumerate(a_labels):
        by_label_a.setdefault(l, []).append(i)
    for i, l in enumerate(v_labels):
        by_label_v.setdefault(l, []).append(i)
    ai, vi = [], []
    for l in sorted(set(by_label_a) & set(by_label_v)):
        aa, vv = np.array(by_label_a[l]), np.array(by_label_v[l])
        ai.append(aa)
        vi.append(rng.choice(vv, len(aa)))
        ai.append(rng.choice(aa, len(vv)))
        vi.append(vv)
    ai, vi = np.concatenate(ai), np.concatenate(vi)
    order = rng.permutation(len(ai))
    return ai[order], vi[order]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--audio", required=True, help="audio embedding cache folder")
    p.add_argument("--image", required=True, help="image embedding cache folder")
    p.add_argument("--work", required=True)
    p.add_argument("--labels", required=True, help="JSON list of the label names")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--margin", type=float, required=True)
    p.add_argument("--patience", type=int, required=True)
    p.add_argument("--max-epochs", type=int, required=True)
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--input-norm", action="store_true", help="L2-normalise encoder embeddings inside each head")
    args = p.parse_args()

    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    labels = json.loads(args.labels)
    lab = {l: i for i, l in enumerate(labels)}
    rng = np.random.default_rng(args.seed)
    t0 = time.time()

    xa, ra = load_split(args.audio, "translation-train")
    xv, rv = load_split(args.image, "translation-train")
    va, rva = load_split(args.audio, "translation-val")
    vv, rvv = load_split(args.image, "translation-val")
    # Validation on original views only: augmented copies would flatter it.
    keep_a = [i for i, r in enumerate(rva) if r["view"] == 0]
    keep_v = [i for i, r in enumerate(rvv) if r["view"] == 0]
    va, rva = va[keep_a], [rva[i] for i in keep_a]
    vv, rvv = vv[keep_v], [rvv[i] for i in keep_v]
    ya = np.array([lab[r["label"]] for r in ra])
    yv = np.array([lab[r["label"]] for r in rv])
    yva = np.array([lab[r["label"]] for r in rva])
    yvv = np.array([lab[r["label"]] for r in rvv])
    print(f"translate: train {len(ra)} audio / {len(rv)} image rows, val {len(rva)} / {len(rvv)}, device {device}", flush=True)

    ha = Head(xa.shape[1], args.hidden, args.dim, input_norm=args.input_norm).to(device)
    hv = Head(xv.shape[1], args.hidden, args.dim, input_norm=args.input_norm).to(device)
    opt = torch.optim.Adam(list(ha.parameters()) + list(hv.parameters()), lr=args.lr)
    t_xa, t_xv = torch.from_numpy(xa).to(device), torch.from_numpy(xv).to(device)
    t_ya, t_yv = torch.from_numpy(ya).to(device), torch.from_numpy(yv).to(device)
    val_ai, val_vi = make_pairs(yva, yvv, np.random.default_rng(args.seed + 1))
    t_va, t_vv = torch.from_numpy(va).to(device), torch.from_numpy(vv).to(device)
    t_yva = torch.from_numpy(yva).to(device)

    def val_loss():
        ha.eval(), hv.eval()
        total, n = 0.0, 0
        with torch.no_grad():
            for s in range(0, len(val_ai), args.batch):
                ai, vi = val_ai[s : s + args.batch], val_vi[s : s + args.batch]
                loss = hinge_loss(ha(t_va[ai]), hv(t_vv[vi]), t_yva[ai], args.margin)
                total += loss.item() * len(ai)
                n += len(ai)
        return total / max(n, 1)

    best, best_epoch, best_state, history = float("inf"), -1, None, []
    for epoch in range(args.max_epochs):
        ha.train(), hv.train()
        ai, vi = make_pairs(ya, yv, rng)
        train_total = 0.0
        for s in range(0, len(ai), args.batch):
            bi, bv = ai[s : s + args.batch], vi[s : s + args.batch]
            if len(bi) < 2:
                continue  # BatchNorm needs more than one row
            loss = hinge_loss(ha(t_xa[bi]), hv(t_xv[bv]), t_ya[bi], args.margin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            train_total += loss.item() * len(bi)
        vl = val_loss()
        history.append({"epoch": epoch + 1, "train_loss": train_total / len(ai), "val_loss": vl})
        print(f"translate: epoch {epoch + 1} train {train_total / len(ai):.4f} val {vl:.4f}", flush=True)
        if vl < best - 1e-6:
            best, best_epoch = vl, epoch + 1
            best_state = ({k: v.clone() for k, v in ha.state_dict().items()}, {k: v.clone() for k, v in hv.state_dict().items()})
        elif epoch + 1 - best_epoch >= args.patience:
            break
    ha.load_state_dict(best_state[0])
    hv.load_state_dict(best_state[1])
    ha.eval(), hv.eval()
    ha.cpu(), hv.cpu()
    train_seconds = time.time() - t0

    os.makedirs(os.path.join(args.work, "parity"), exist_ok=True)
    for name, head, dim_in, folder in (("audio", ha, xa.shape[1], args.audio), ("image", hv, xv.shape[1], args.image)):
        path = os.path.join(args.work, f"translator_{name}.onnx")
        torch.onnx.export(
            head, torch.zeros(2, dim_in), path, input_names=[name], output_names=[f"{name}_joint"],
            dynamic_axes={name: {0: "n"}, f"{name}_joint": {0: "n"}}, opset_version=17, do_constant_folding=True,
        )
        os.makedirs(os.path.join(args.work, "joint", name), exist_ok=True)
        with torch.no_grad():
            for role in ROLES:
                x, rows = load_split(folder, role)
                y = head(torch.from_numpy(x)).numpy().astype("<f4") if len(rows) else np.zeros((0, 128), "<f4")
                y.tofile(os.path.join(args.work, "joint", name, role + ".f32"))
            # Parity fixture: real held-out rows plus a few extreme synthetic ones.
            x, _ = load_split(folder, "classify-test")
            x = np.concatenate([x[:64], np.random.default_rng(7).normal(0, 3, (4, dim_in)).astype(np.float32)])
            x.astype("<f4").tofile(os.path.join(args.work, "parity", f"translator_{name}_in.f32"))
            head(torch.from_numpy(x)).numpy().astype("<f4").tofile(os.path.join(args.work, "parity", f"translator_{name}_out.f32"))

    write_json(os.path.join(args.work, "translator.json"), {
        "best_epoch": best_epoch, "best_val_loss": best, "epochs_run": len(history), "history": history,
        "train_seconds": train_seconds, "device": device, "torch": torch.__version__,
        "rows": {"train_audio": len(ra), "train_image": len(rv), "val_audio": len(rva), "val_image": len(rvv)},
        "hyper": {"hidden": args.hidden, "dim": args.dim, "batch": args.batch, "lr": args.lr, "margin": args.margin,
                  "patience": args.patience, "max_epochs": args.max_epochs, "seed": args.seed, "opset": 17,
                  "input_norm": args.input_norm},
    })
    print(f"translate: best epoch {best_epoch} val {best:.4f} in {train_seconds:.1f}s", flush=True)


if __name__ == "__main__":
    main()
