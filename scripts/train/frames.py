"""Frame-level training and fine-tuning of YAMNet's last blocks: two levers of issue 17 item 3.

Both read the per-patch cache of scripts/embed/extract_patches.ts (one row per 0.96 s patch of every
original audio item; the patch's 1024-d embedding and `block_in`, the activation entering YAMNet's
last two depthwise-separable blocks).

  frames     (recipe `frames`: "mean-prob" | "mean-logprob") the translator and the head are trained
             on patch rows (each carrying its clip's label and source) instead of clip-mean rows;
             a clip's prediction pools the head's per-patch probabilities (their mean, or the mean
             of their logs) and takes the argmax.
  finetune   (recipe `finetune`: 1 or 2 blocks, `finetuneLr`) YAMNet's last block(s), imported
             from the served ONNX graph (weights dequantised) into PyTorch, are trained with the
             translator on the cached `block_in` activations; the earlier block stays frozen.
             Frame-level by construction (activations are per patch).

loso.run_folds calls `train_rows` / `test_predictions` when a recipe has either key; `PATCHES`
(a PatchPool) and `ENCODER_ONNX` are set by levers.py.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from common import load_split  # noqa: E402

# The per-patch pool and the served audio graph, set by levers.py when a recipe needs them.
PATCHES = None
ENCODER_ONNX = None


class PatchPool:
    """Every per-patch row (all roles): embeddings in memory, block activations memory-mapped."""

    def __init__(self, folder, lab, roles):
        import json

        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        self.block_shape = tuple(meta["blockShape"])
        width = int(np.prod(self.block_shape))
        xs, rows, maps, where = [], [], [], []
        for k, role in enumerate(roles):
            x, r = load_split(folder, role)
            path = os.path.join(folder, role + ".block.f32")
            maps.append(np.memmap(path, dtype="<f4", mode="r", shape=(len(r), width)) if r else None)
            where += [(k, i) for i in range(len(r))]
            for row in r:
                row["role"] = role
            xs.append(x)
            rows += r
        self.x = np.concatenate(xs).astype(np.float32)
        self.rows = rows
        self.y = np.array([lab[r["label"]] for r in rows], dtype=np.int64)
        self.source = np.array([r["source"] for r in rows])
        self.item = np.array([r["id"] for r in rows])
        self._maps = maps
        self._where = np.array(where, dtype=np.int64).reshape(-1, 2)

    def of_items(self, ids):
        """Indices of the patch rows of these item ids (original items), in pool order."""
        return np.nonzero(np.isin(self.item, np.asarray(list(ids))))[0]

    def blocks(self, idx):
        """Block activations [len(idx), C, H, W] (float32) of rows idx."""
        out = np.empty((len(idx), int(np.prod(self.block_shape))), np.float32)
        w = self._where[idx]
        for k in np.unique(w[:, 0]):
            m = w[:, 0] == k
            out[m] = self._maps[k][w[m, 1]]
        return out.reshape((len(idx),) + self.block_shape)


class RowsView:
    """The training pool interface loso.train_translator reads (x, y, source, s), over patch rows."""

    def __init__(self, pool, idx, with_blocks):
        self.idx = idx
        self.x, self.y, self.source = pool.x[idx], pool.y[idx], pool.source[idx]
        self.item = pool.item[idx]
        self.s = None
        self.block = pool.blocks(idx) if with_blocks else None


def train_rows(a, cfg):
    """The patch rows of the clip rows `a` (the capped training items), as a RowsView."""
    ids = [r["id"] for r, v in zip(a.rows, a.view) if v == 0]
    return RowsView(PATCHES, PATCHES.of_items(ids), bool(cfg.get("finetune")))


def pool_items(proba, item, mode):
    """Per-item probabilities from per-patch ones: rows of `proba` grouped by `item` (in order of
    first appearance), pooled by the mean ("mean-prob") or the mean of logs ("mean-logprob", a
    geometric mean, renormalised). Returns (items, pooled [n_items, labels])."""
    keys, first, inv = np.unique(item, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    g = rank[inv]
    n = np.bincount(g, minlength=len(keys)).astype(np.float64)[:, None]
    if mode == "mean-prob":
        out = np.zeros((len(keys), proba.shape[1]))
        np.add.at(out, g, proba)
        out /= n
    elif mode == "mean-logprob":
        logs = np.zeros((len(keys), proba.shape[1]))
        np.add.at(logs, g, np.log(np.clip(proba, 1e-12, None)))
        logs /= n
        out = np.exp(logs - logs.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    else:
        raise ValueError(f"unknown frame pooling {mode!r}")
    return keys[order], out


def test_predictions(ha, proba, te, cfg, embed):
    """(y, pred) per held-out item from its patches: translator ha (on embeddings, or on block
    activations when fine-tuned), head proba, per-patch probabilities pooled per item."""
    ids = [r["id"] for r in te.rows]
    rows = RowsView(PATCHES, PATCHES.of_items(ids), bool(cfg.get("finetune")))
    z = embed_rows(ha, rows, cfg, embed)
    items, p = pool_items(proba(z), rows.item, cfg.get("frames") or "mean-prob")
    y_of = dict(zip(ids, te.y.tolist()))
    return np.array([y_of[i] for i in items]), np.argmax(p, axis=1)


def embed_rows(ha, rows, cfg, embed, batch=2048):
    """Joint embeddings of patch rows: from the embedding, or through the fine-tuned blocks."""
    if not cfg.get("finetune"):
        return embed(ha, rows.x)
    return np.concatenate([embed(ha, rows.block[s : s + batch]) for s in range(0, len(rows.y), batch)])


# --- YAMNet's last blocks in PyTorch --------------------------------------------------------------


def _attr(node, name, default=None):
    from onnx import helper

    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


class SeparableBlock(torch.nn.Module):
    """One depthwise-separable block as the ONNX graph computes it: (asymmetric) pad, depthwise conv,
    clip, pointwise conv, clip."""

    def __init__(self, dw_w, dw_b, stride, pads, pw_w, pw_b, lo, hi):
        super().__init__()
        self.dw_w = torch.nn.Parameter(torch.from_numpy(dw_w))
        self.dw_b = torch.nn.Parameter(torch.from_numpy(dw_b))
        self.pw_w = torch.nn.Parameter(torch.from_numpy(pw_w))
        self.pw_b = torch.nn.Parameter(torch.from_numpy(pw_b))
        self.stride = tuple(stride)
        # ONNX pads [top, left, bottom, right] -> F.pad's (left, right, top, bottom).
        self.pad = (pads[1], pads[3], pads[0], pads[2])
        self.lo, self.hi = lo, hi

    def forward(self, x):
        x = F.conv2d(F.pad(x, self.pad), self.dw_w, self.dw_b, stride=self.stride, groups=x.shape[1])
        x = torch.clamp(x, self.lo, self.hi)
        return torch.clamp(F.conv2d(x, self.pw_w, self.pw_b), self.lo, self.hi)


class LastBlocks(torch.nn.Module):
    """YAMNet's last blocks and its mean over time and frequency: block_in [n, C, H, W] -> the
    1024-d patch embedding. Only the last `trainable` blocks get gradients."""

    def __init__(self, blocks, trainable):
        super().__init__()
        self.blocks = torch.nn.ModuleList(blocks)
        for k, b in enumerate(self.blocks):
            b.requires_grad_(k >= len(self.blocks) - trainable)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x.mean(dim=(2, 3))


def load_last_blocks(onnx_path, blocks=2, trainable=None):
    """The last `blocks` separable blocks of an ONNX graph (Conv nodes with DequantizeLinear weights,
    Clip activations, as scripts/embed/patch_graph.py finds them), weights dequantised, as LastBlocks."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def weight(name):
        deq = producer[name]
        if deq.op_type != "DequantizeLinear":
            return inits[name].astype(np.float32)
        q, scale, zp = (inits[deq.input[k]] for k in range(3))
        axis = _attr(deq, "axis", 1)
        shape = [1] * q.ndim
        if np.ndim(scale) == 1:
            shape[axis] = -1
        w = (q.astype(np.float64) - np.reshape(zp, shape).astype(np.float64)) * np.reshape(scale, shape)
        return w.astype(np.float32)

    def clip_after(conv):
        (clip,) = consumers[conv.output[0]]
        if clip.op_type != "Clip":
            raise SystemExit(f"frames: {conv.name} is not followed by a Clip")
        return clip, float(inits[clip.input[1]]), float(inits[clip.input[2]])

    convs = [n for n in g.node if n.op_type == "Conv"]
    dws = [n for n in convs if _attr(n, "group", 1) > 1]
    out = []
    for dw in dws[-blocks:]:
        clip, lo, hi = clip_after(dw)
        (pw,) = consumers[clip.output[0]]
        if pw.op_type != "Conv" or _attr(pw, "group", 1) != 1:
            raise SystemExit(f"frames: {dw.name} is not followed by a pointwise Conv")
        out.append(SeparableBlock(
            weight(dw.input[1]), inits[dw.input[2]].astype(np.float32), _attr(dw, "strides", [1, 1]),
            _attr(dw, "pads", [0, 0, 0, 0]), weight(pw.input[1]), inits[pw.input[2]].astype(np.float32), lo, hi))
    return LastBlocks(out, blocks if trainable is None else trainable)


class EncodedHead(torch.nn.Module):
    """The fine-tuned blocks followed by the audio translator: block_in -> joint space."""

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x):
        return self.head(self.encoder(x))


def make_encoder(cfg):
    """The fine-tuned part for a recipe: YAMNet's last 2 blocks from the served graph, the last
    `finetune` of them trainable."""
    if ENCODER_ONNX is None:
        raise SystemExit("frames: recipe `finetune` needs --audio-encoder (the served YAMNet graph)")
    return load_last_blocks(ENCODER_ONNX, 2, int(cfg["finetune"]))
