"""Leave-one-source-out (LOSO) evaluation and the served joint model, with one training recipe.

One recipe ("config", a JSON object; scripts/train/params.json "joint") trains the translator
heads and the classifier head on the joint space from a pool of embedding rows:

  translator  per modality Linear -> BatchNorm -> ELU -> Linear, L2-normalised outputs (translate.py's
              Head); the paper's contrastive hinge over label-level audio/image pairs, plus (when
              `prototypeWeight` > 0) a cross-entropy of every row against 18 learned label
              prototypes in the joint space, which also places labels that have no image;
              a fixed number of epochs (no early stopping: LOSO folds have no validation split);
  balance     rows weighted so that every label weighs the same and, within a label, every source
              the same (`balance`: "none" | "label" | "source-label"); pairs are drawn with
              those weights and the head is fitted with them as sample weights;
  head        "forest" (the paper's random forest), "logreg" (multinomial logistic regression) or
              "mlp" (one hidden layer) on the joint embeddings of both modalities.

`--folds` (folds.json from scripts/train/loso_folds.ts) lists the folds: for each, the recipe is
trained on every row of the other sources (except never-trained splits and the fold's sample
family) and tested on the held-out source's original items; macro-F1 over the labels present.
`--serve` trains the recipe on every trainable row and writes the served artifacts.

Outputs in --work: loso.json (per fold and means; predictions for the confusion matrices) and,
with --serve, translator_{audio,image}.onnx, head.json, serve.json and parity dumps.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

sys.path.insert(0, os.path.dirname(__file__))
from common import f32_list, load_scores, load_split, seed_everything, write_json  # noqa: E402
from translate import Head, hinge_loss  # noqa: E402
import frames  # noqa: E402

ROLES = ["translation-train", "translation-val", "retrieval", "classify-train", "classify-test", "heldout"]

DEFAULTS = {
    "hidden": 256, "dim": 128, "batch": 1024, "lr": 0.001, "margin": 1.0, "epochs": 20, "inputDim": 0, "cap": 0, "imagenetPrior": 0.0,
    "audiosetPrior": 0.0, "audiosetFrom": "scores", "audiosetMass": "max",
    "prototypeWeight": 0.0, "prototypeScale": 10.0, "balance": "none", "views": 0,
    "head": "forest", "trees": 100, "depth": 32, "C": 1.0, "mlpHidden": 128, "mlpEpochs": 60,
}


class Pool:
    """Every cached row of one modality (all roles), with label ids and row metadata as arrays."""

    def __init__(self, folder, lab, roles=ROLES):
        xs, rows, ss = [], [], []
        for role in roles:
            x, r = load_split(folder, role)
            for row in r:
                row["role"] = role
            xs.append(x)
            ss.append(load_scores(folder, role, len(r)))
            rows += r
        self.x = np.concatenate(xs).astype(np.float32)
        # The encoder's own class scores of the same rows (audio: YAMNet's AudioSet), when cached.
        self.s = None if any(v is None for v in ss) else np.concatenate(ss).astype(np.float32)
        self.rows = rows
        self.y = np.array([lab[r["label"]] for r in rows], dtype=np.int64)
        self.source = np.array([r["source"] for r in rows])
        self.domain = np.array([r["domain"] for r in rows])
        self.role = np.array([r["role"] for r in rows])
        self.view = np.array([r["view"] for r in rows], dtype=np.int64)

    def take(self, mask):
        p = object.__new__(Pool)
        idx = np.nonzero(mask)[0]
        p.x, p.y, p.source, p.domain, p.role, p.view = (self.x[idx], self.y[idx], self.source[idx],
                                                        self.domain[idx], self.role[idx], self.view[idx])
        p.rows = [self.rows[i] for i in idx]
        p.s = None if self.s is None else self.s[idx]
        return p


SOURCE_VIEW_BASE = 100  # scripts/embed/augment_source.ts: views 101.. are the second augmentation family


def train_mask(pool, exclude, never_train, views, source_views=0):
    """Rows a model may train on: not from an excluded source, not in a never-trained split, and
    view <= views (originals and augment_audio.ts's views) or one of the first `source_views` views
    of the second family (augment_source.ts, views 101..)."""
    in_views = (pool.view <= views) | ((pool.view > SOURCE_VIEW_BASE) & (pool.view <= SOURCE_VIEW_BASE + source_views))
    return ~np.isin(pool.source, list(exclude)) & ~np.isin(pool.role, list(never_train)) & in_views


def recipe_mask(pool, exclude, folds, cfg):
    """train_mask with the recipe's views ("sourceViews" and "augmentDomains" are absent from recipes
    written before them). With "augmentDomains" (e.g. ["rendered"]) only items of those domains
    keep their augmented views."""
    mask = train_mask(pool, exclude, folds["neverTrain"], cfg["views"], cfg.get("sourceViews", 0))
    if cfg.get("augmentDomains"):
        mask &= (pool.view == 0) | np.isin(pool.domain, cfg["augmentDomains"])
    return mask


def cap_mask(pool, mask, cap, seed):
    """mask, keeping at most `cap` original items per (source, label) (a seeded choice; an item's
    augmented views follow it). cap 0 keeps all. Renders repeat one sample library hundreds of
    times per label; capping them costs little and makes every fold several times cheaper."""
    if not cap:
        return mask
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(mask), bool)
    ids = np.array([r["id"] for r in pool.rows])
    originals = mask & (pool.view == 0)
    chosen = set()
    for key in sorted(set(zip(pool.source[originals], pool.y[originals]))):
        idx = np.nonzero(originals & (pool.source == key[0]) & (pool.y == key[1]))[0]
        if len(idx) > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        chosen.update(ids[idx].tolist())
    keep = mask & np.isin(ids, list(chosen))
    return keep


def test_mask(pool, sources, view=0):
    """Original items (view 0) of the given sources, from every split; or, to test robustness, one
    augmented view of the sources' training-split items (e.g. 101: augment_source.ts's degradations)."""
    return np.isin(pool.source, list(sources)) & (pool.view == view)


def balance_weights(y, source, mode):
    """Per-row weights with mean 1.

    "label": every label the same total weight. "source-label": every label the same total
    weight, shared equally by the sources that have it (so the largest source does not define a
    label). "none": all 1.
    """
    n = len(y)
    if mode == "none" or n == 0:
        return np.ones(n)
    w = np.zeros(n)
    for l in np.unique(y):
        in_l = y == l
        if mode == "label":
            w[in_l] = 1.0 / in_l.sum()
        elif mode == "source-label":
            srcs = np.unique(source[in_l])
            for s in srcs:
                m = in_l & (source == s)
                w[m] = 1.0 / (m.sum() * len(srcs))
        else:
            raise ValueError(f"unknown balance mode {mode!r}")
    return w * n / w.sum()


def sample_pairs(ya, wa, yv, wv, n, rng):
    """n (audio row, image row) pairs of equal label: audio rows drawn with weights wa among labels
    that have images, the image row drawn from the audio row's label with weights wv."""
    labels_v = np.unique(yv)
    ok = np.isin(ya, labels_v)
    pa = np.where(ok, wa, 0.0)
    ai = rng.choice(len(ya), size=n, p=pa / pa.sum())
    vi = np.empty(n, dtype=np.int64)
    for l in np.unique(ya[ai]):
        cand = np.nonzero(yv == l)[0]
        p = wv[cand] / wv[cand].sum()
        where = ya[ai] == l
        vi[where] = rng.choice(cand, size=int(where.sum()), p=p)
    return ai, vi


def pca_basis(x, k):
    """Mean and the top-k principal directions (k x dim) of the rows of x (float64 SVD)."""
    mean = x.mean(axis=0, dtype=np.float64)
    # Covariance eigenvectors: cheaper than an SVD of the rows for 20k x 1024.
    cov = np.cov((x - mean).T)
    vals, vecs = np.linalg.eigh(cov)
    return mean, vecs[:, ::-1][:, :k].T.copy()


def fold_input_projection(head, mean, comps, dim_in):
    """A Head on the raw embedding equal to `head` applied to comps @ (x - mean): the projection is
    folded into the first Linear layer (W' = W comps, b' = b - W comps mean), so the exported graph
    is the paper's architecture unchanged."""
    full = Head(dim_in, head.net[0].out_features, head.net[3].out_features)
    full.load_state_dict({k: v for k, v in head.state_dict().items() if not k.startswith("net.0.")}, strict=False)
    w = head.net[0].weight.detach().double().numpy()
    b = head.net[0].bias.detach().double().numpy()
    wf = w @ comps
    with torch.no_grad():
        full.net[0].weight.copy_(torch.from_numpy(wf.astype(np.float32)))
        full.net[0].bias.copy_(torch.from_numpy((b - wf @ mean).astype(np.float32)))
    full.eval()
    return full


# The image encoder's own ImageNet classifier (weights read from its ONNX graph) and which of its
# classes name each of our labels: set by main() when the recipe's `imagenetPrior` is > 0.
IMAGENET_PRIOR = None


def load_imagenet_prior(onnx_path, class_names_path, labels):
    """(W [classes, dim_in], b [classes], M [classes, labels]) of MobileNetV2's logits layer.

    The logits are a 1x1 convolution of the pooled features (= our image embedding) with
    uint8-quantised weights; they are dequantised here. M[c, l] = 1 when ImageNet class c names
    label l (scripts/report/off_the_shelf.py IMAGENET, the off-the-shelf baseline's mapping)."""
    import onnx
    from onnx import numpy_helper

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "report"))
    from off_the_shelf import IMAGENET

    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    with open(class_names_path) as f:
        names = [line.rstrip("\n") for line in f if line.strip()]
    for node in g.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        q = inits[node.input[0]]
        if q.shape[0] != len(names) or q.ndim != 4:
            continue
        scale, zp = inits[node.input[1]], inits[node.input[2]]
        shape = (-1, 1, 1, 1) if np.ndim(scale) == 1 else ()
        w = (q.astype(np.float64) - np.reshape(zp, shape).astype(np.float64)) * np.reshape(scale, shape)
        conv = next(n for n in g.node if n.op_type == "Conv" and node.output[0] in n.input)
        b = inits[conv.input[2]].astype(np.float64)
        m = np.zeros((len(names), len(labels)), np.float32)
        for l, classes in IMAGENET.items():
            for c in classes:
                m[names.index(c), labels.index(l)] = 1
        return w.reshape(len(names), -1).astype(np.float32), b.astype(np.float32), m
    raise SystemExit(f"loso: no {len(names)}-class logits layer in {onnx_path}")


def imagenet_label_mass(x, prior):
    """[n, labels]: the ImageNet softmax probability mass on each label's classes (torch in, torch out)."""
    w, b, m = prior
    p = torch.softmax(x @ w.t() + b, dim=1)
    return p @ m


class PriorHead(torch.nn.Module):
    """The image head plus the zero-shot prior: normalize(head(x) + beta * mass(x) @ prototypes).

    A photo of a label no training photo showed still lands near that label's prototype when the
    image encoder's ImageNet classifier names it (pipe organ -> organ, cornet -> trumpet, ...)."""

    def __init__(self, head, prior, protos, beta):
        super().__init__()
        self.head, self.beta = head, beta
        w, b, m = (torch.from_numpy(t) for t in prior)
        self.register_buffer("w", w)
        self.register_buffer("b", b)
        self.register_buffer("m", m)
        self.register_buffer("protos", protos.detach().clone())

    def forward(self, x):
        z = self.head(x) + self.beta * (imagenet_label_mass(x, (self.w, self.b, self.m)) @ self.protos)
        return z / torch.sqrt(torch.clamp((z * z).sum(dim=1, keepdim=True), min=1e-24))


# YAMNet's own AudioSet classifier (its last Gemm, read from the ONNX graph) and which of its
# classes name each of our labels: set by main() when the recipe's `audiosetPrior` is > 0.
AUDIOSET_PRIOR = None


def load_audioset_prior(onnx_path, class_map_path, labels):
    """(W [classes, 1024], b [classes], cols) of YAMNet's logits layer and, per label, the AudioSet
    score columns that name it (scripts/report/off_the_shelf.py AUDIOSET, the off-the-shelf
    baseline's mapping). The scores are sigmoid(W e + b) of each 0.96 s patch embedding e."""
    import onnx
    from onnx import numpy_helper

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "report"))
    from off_the_shelf import AUDIOSET, read_class_names

    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    names = read_class_names(class_map_path)
    for node in g.node:
        if node.op_type != "Gemm":
            continue
        deq = next((n for n in g.node if n.op_type == "DequantizeLinear" and n.output[0] == node.input[1]), None)
        if deq is None or inits[deq.input[0]].shape[0] != len(names):
            continue
        q, scale, zp = (inits[deq.input[k]] for k in range(3))
        shape = (-1, 1) if np.ndim(scale) == 1 else ()
        w = (q.astype(np.float64) - np.reshape(zp, shape).astype(np.float64)) * np.reshape(scale, shape)
        b = inits[node.input[2]].astype(np.float64)
        cols = [[names.index(c) for c in AUDIOSET.get(l, [])] for l in labels]
        return w.astype(np.float32), b.astype(np.float32), cols
    raise SystemExit(f"loso: no {len(names)}-class Gemm in {onnx_path}")


def audioset_label_mass(scores, cols, mode):
    """[n, labels] from AudioSet scores [n, classes] (torch): per label the largest ("max") or the
    summed, clipped at 1 ("sum"), score of its classes; 0 for a label no class names."""
    out = []
    for c in cols:
        if not c:
            out.append(torch.zeros(scores.shape[0], dtype=scores.dtype))
        elif mode == "max":
            out.append(scores[:, c].amax(dim=1))
        else:
            out.append(torch.clamp(scores[:, c].sum(dim=1), max=1.0))
    return torch.stack(out, dim=1)


class AudioPriorHead(torch.nn.Module):
    """The audio head plus YAMNet's AudioSet prior: normalize(head(x) + beta * mass @ prototypes).

    `source` "scores": mass from the window-mean AudioSet scores the encoder run already gives (a
    second input); "embedding": from sigmoid(W x + b) of the clip-mean embedding itself (YAMNet's
    own last layer, folded in here; one input, like the ImageNet prior)."""

    def __init__(self, head, prior, protos, beta, source, mode):
        super().__init__()
        self.head, self.beta, self.source, self.mode = head, beta, source, mode
        self.takes_scores = source == "scores"
        w, b, self.cols = prior
        self.register_buffer("w", torch.from_numpy(w))
        self.register_buffer("b", torch.from_numpy(b))
        self.register_buffer("protos", protos.detach().clone())

    def forward(self, x, s=None):
        if self.source == "embedding":
            s = torch.sigmoid(x @ self.w.t() + self.b)
        z = self.head(x) + self.beta * (audioset_label_mass(s, self.cols, self.mode) @ self.protos)
        return z / torch.sqrt(torch.clamp((z * z).sum(dim=1, keepdim=True), min=1e-24))


def audio_mass(pool, cfg):
    """The AudioSet label mass of every row of an audio pool (torch [n, labels])."""
    w, b, cols = AUDIOSET_PRIOR
    if cfg["audiosetFrom"] == "embedding":
        s = torch.sigmoid(torch.from_numpy(pool.x) @ torch.from_numpy(w).t() + torch.from_numpy(b))
    else:
        if pool.s is None:
            raise SystemExit("loso: audiosetFrom 'scores' needs the AudioSet scores beside the audio embeddings")
        s = torch.from_numpy(pool.s)
    with torch.no_grad():
        return audioset_label_mass(s, cols, cfg["audiosetMass"])


def train_translator(a, v, cfg, n_labels, seed, log=None):
    """The translator heads (audio, image) trained on pools a and v (train rows only).

    With `inputDim` > 0 each modality's rows are first projected on their top principal
    directions (fitted on these training rows only), which cuts the cost of the first layer
    several-fold on this CPU; the projection is folded into the first layer afterwards.

    With `finetune` > 0 (frames.py) `a` holds patch rows with their block activations, and the
    audio side is YAMNet's last block(s) -> (projection) -> head, the blocks trained with it."""
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    proj = {}
    if cfg.get("inputDim", 0):
        for name, pool in (("audio", a), ("image", v)):
            proj[name] = pca_basis(pool.x, cfg["inputDim"])
    xa = a.x if not proj else ((a.x - proj["audio"][0]) @ proj["audio"][1].T).astype(np.float32)
    xv = v.x if not proj else ((v.x - proj["image"][0]) @ proj["image"][1].T).astype(np.float32)
    encoder = frames.make_encoder(cfg) if cfg.get("finetune") else None
    if encoder is not None:
        t_block = torch.from_numpy(a.block)
        if proj:
            p_mean = torch.from_numpy(proj["audio"][0].astype(np.float32))
            p_comps = torch.from_numpy(proj["audio"][1].astype(np.float32))
    ha = Head(xa.shape[1], cfg["hidden"], cfg["dim"])
    hv = Head(xv.shape[1], cfg["hidden"], cfg["dim"])
    params = list(ha.parameters()) + list(hv.parameters())
    protos = None
    beta = cfg.get("imagenetPrior", 0.0) if IMAGENET_PRIOR is not None else 0.0
    mass_v = None
    if beta:
        prior_t = tuple(torch.from_numpy(t) for t in IMAGENET_PRIOR)
        with torch.no_grad():
            mass_v = imagenet_label_mass(torch.from_numpy(v.x), prior_t)
    beta_a = cfg.get("audiosetPrior", 0.0) if AUDIOSET_PRIOR is not None else 0.0
    mass_a = audio_mass(a, cfg) if beta_a else None
    if cfg["prototypeWeight"] > 0 or beta or beta_a:
        protos = torch.nn.Parameter(torch.randn(n_labels, cfg["dim"]) * 0.1)
        params.append(protos)
    groups = [{"params": params}]
    if encoder is not None:
        groups.append({"params": [q for q in encoder.parameters() if q.requires_grad], "lr": cfg.get("finetuneLr", 1e-4)})
    opt = torch.optim.Adam(groups, lr=cfg["lr"])

    def audio_rows(bi):
        if encoder is None:
            return ta[bi]
        e = encoder(t_block[bi])
        return (e - p_mean) @ p_comps.t() if proj else e

    wa = balance_weights(a.y, a.source, cfg["balance"])
    wv = balance_weights(v.y, v.source, cfg["balance"])
    ta, tv = torch.from_numpy(xa), torch.from_numpy(xv)
    tya, tyv = torch.from_numpy(a.y), torch.from_numpy(v.y)
    n_pairs = 2 * (len(a.y) + len(v.y)) if cfg["balance"] == "none" else len(a.y) + len(v.y)
    bs = cfg["batch"]
    for epoch in range(cfg["epochs"]):
        ha.train(), hv.train()
        if cfg["balance"] == "none":
            ai, vi = _label_pairs(a.y, v.y, rng)
        else:
            ai, vi = sample_pairs(a.y, wa, v.y, wv, n_pairs, rng)
        total = 0.0
        for s in range(0, len(ai), bs):
            bi, bv = ai[s : s + bs], vi[s : s + bs]
            if len(bi) < 2:
                continue
            za, zv = ha(audio_rows(bi)), hv(tv[bv])
            if beta_a:
                za = za + beta_a * (mass_a[bi] @ (protos / protos.norm(dim=1, keepdim=True)))
                za = za / za.norm(dim=1, keepdim=True).clamp(min=1e-12)
            if beta:
                zv = zv + beta * (mass_v[bv] @ (protos / protos.norm(dim=1, keepdim=True)))
                zv = zv / zv.norm(dim=1, keepdim=True).clamp(min=1e-12)
            loss = hinge_loss(za, zv, tya[bi], cfg["margin"])
            if protos is not None and cfg["prototypeWeight"] > 0:
                p = protos / protos.norm(dim=1, keepdim=True)
                ce = torch.nn.functional.cross_entropy
                k = cfg["prototypeScale"]
                loss = loss + cfg["prototypeWeight"] * 0.5 * (ce(k * za @ p.t(), tya[bi]) + ce(k * zv @ p.t(), tyv[bv]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(bi)
        if log:
            log(f"epoch {epoch + 1} loss {total / len(ai):.4f}")
    ha.eval(), hv.eval()
    if proj:
        ha = fold_input_projection(ha, *proj["audio"], a.x.shape[1])
        hv = fold_input_projection(hv, *proj["image"], v.x.shape[1])
    if beta:
        hv = PriorHead(hv, IMAGENET_PRIOR, protos / protos.norm(dim=1, keepdim=True), beta).eval()
    if beta_a:
        ha = AudioPriorHead(ha, AUDIOSET_PRIOR, protos / protos.norm(dim=1, keepdim=True), beta_a,
                            cfg["audiosetFrom"], cfg["audiosetMass"]).eval()
    if encoder is not None:
        ha = frames.EncodedHead(encoder.eval(), ha).eval()
    return ha, hv


def _label_pairs(ya, yv, rng):
    """translate.py's pairing: every row of either side once, with a random partner of its label."""
    from translate import make_pairs
    return make_pairs(ya, yv, rng)


def embed(head, x, s=None):
    """Joint embeddings of rows x (s: their encoder class scores, for a head that reads them)."""
    with torch.no_grad():
        if getattr(head, "takes_scores", False):
            return head(torch.from_numpy(x), torch.from_numpy(s)).numpy()
        return head(torch.from_numpy(x)).numpy()


class TorchMlp:
    """One-hidden-layer MLP head (ReLU), weighted cross-entropy, Adam, fixed epochs."""

    def __init__(self, hidden, epochs, seed):
        self.hidden, self.epochs, self.seed = hidden, epochs, seed

    def fit(self, x, y, w, n_labels):
        torch.manual_seed(self.seed)
        self.net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], self.hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(self.hidden, n_labels))
        opt = torch.optim.Adam(self.net.parameters(), lr=1e-3, weight_decay=1e-4)
        tx, ty, tw = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y), torch.from_numpy(w.astype(np.float32))
        g = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            order = torch.randperm(len(y), generator=g)
            for s in range(0, len(y), 256):
                b = order[s : s + 256]
                loss = (torch.nn.functional.cross_entropy(self.net(tx[b]), ty[b], reduction="none") * tw[b]).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return self

    def predict_proba(self, x):
        with torch.no_grad():
            return torch.softmax(self.net(torch.from_numpy(x.astype(np.float32))), dim=1).numpy()


def fit_head(cfg, z, y, w, n_labels, seed):
    """The classifier head on joint embeddings; returns f(z) -> [n, n_labels] probabilities."""
    kind = cfg["head"]
    if kind == "mlp":
        m = TorchMlp(cfg["mlpHidden"], cfg["mlpEpochs"], seed).fit(z, y, w, n_labels)
        return m, m.predict_proba
    if kind == "forest":
        m = RandomForestClassifier(n_estimators=cfg["trees"], max_depth=cfg["depth"], random_state=seed, n_jobs=2)
    elif kind == "logreg":
        m = LogisticRegression(C=cfg["C"], max_iter=2000)
    else:
        raise ValueError(f"unknown head {kind!r}")
    m.fit(z, y, sample_weight=w)

    def proba(x):
        out = np.zeros((len(x), n_labels))
        out[:, m.classes_] = m.predict_proba(x)
        return out

    return m, proba


def train_recipe(a, v, cfg, n_labels, seed):
    """Translator + head on training pools a, v. Returns (ha, hv, head model, proba function)."""
    ha, hv = train_translator(a, v, cfg, n_labels, seed)
    za = frames.embed_rows(ha, a, cfg, embed) if cfg.get("finetune") else embed(ha, a.x, a.s)
    z = np.concatenate([za, embed(hv, v.x)])
    y = np.concatenate([a.y, v.y])
    src = np.concatenate([a.source, v.source])
    # Balanced per modality first (audio rows outnumber image rows ~6:1), then each modality's
    # rows weigh as much in total as they number.
    w = np.concatenate([balance_weights(a.y, a.source, cfg["balance"]), balance_weights(v.y, v.source, cfg["balance"])])
    del src
    model, proba = fit_head(cfg, z, y, w, n_labels, seed)
    return ha, hv, model, proba


def macro_f1(y, pred, labels):
    per = f1_score(y, pred, labels=labels, average=None, zero_division=0)
    return float(np.mean(per)), {int(l): float(f) for l, f in zip(labels, per)}


def fold_groups(folds, only, grouped):
    """Folds to run, as lists trained together. grouped=0: one fold per training run (true LOSO);
    grouped=K: K runs, each holding out every fold assigned to it (round-robin by test size, so
    each run holds out a similar share) -- a cheaper, slightly pessimistic screen for levers."""
    chosen = [f for f in folds["folds"]
              if not only or f["name"] in only or f["modality"] in only or f["domain"] in only]
    if not grouped:
        return [[f] for f in chosen]
    order = sorted(chosen, key=lambda f: -f["items"])
    return [g for g in (order[i::grouped] for i in range(grouped)) if g]


def run_folds(pa, pv, folds, cfg, labels, seed, only=None, log=print, grouped=0):
    n_labels = len(labels)
    lab = {l: i for i, l in enumerate(labels)}
    out = []
    for group in fold_groups(folds, only, grouped):
        t = time.time()
        exclude = sorted({s for f in group for s in f["exclude"]})
        a = pa.take(cap_mask(pa, recipe_mask(pa, exclude, folds, cfg), cfg["cap"], seed))
        v = pv.take(cap_mask(pv, recipe_mask(pv, exclude, folds, cfg), cfg["cap"], seed))
        if not len(set(a.y.tolist()) & set(v.y.tolist())):
            # Only on tiny slices (the smoke run): nothing left to pair the modalities with.
            log(f"loso: skipped {[f['name'] for f in group]}: no label has training rows in both modalities")
            continue
        by_patch = bool(cfg.get("frames") or cfg.get("finetune"))
        # Frame-level levers (frames.py): the same capped items, trained on their patch rows.
        ha, hv, _, proba = train_recipe(frames.train_rows(a, cfg) if by_patch else a, v, cfg, n_labels, seed)
        for fold in group:
            test_pool = pa if fold["modality"] == "audio" else pv
            view = cfg.get("testView", 0) if fold["modality"] == "audio" else 0
            te = test_pool.take(test_mask(test_pool, fold["test"], view))
            if view and len(te.y) == 0:
                log(f"loso: {fold['name']}: no view {view} rows (no training-split items) to test")
                continue
            if by_patch and fold["modality"] == "audio":
                y, pred = frames.test_predictions(ha, proba, te, cfg, embed)
            else:
                y, pred = te.y, np.argmax(proba(embed(ha if fold["modality"] == "audio" else hv, te.x, te.s)), axis=1)
            present = sorted({lab[l] for l in fold["labels"]} & set(y.tolist()))
            mf, per = macro_f1(y, pred, present)
            res = {"name": fold["name"], "modality": fold["modality"], "domain": fold["domain"], "n": int(len(y)),
                   "macro_f1": mf, "accuracy": float(np.mean(pred == y)),
                   "per_label": {labels[l]: round(f, 4) for l, f in per.items()},
                   "train_rows": {"audio": int(len(a.y)), "image": int(len(v.y))}, "excluded": exclude,
                   "y": y.tolist(), "pred": pred.tolist(), "seconds": round(time.time() - t, 1)}
            out.append(res)
            log(f"loso: {fold['name']:32s} {fold['domain']:9s} n={len(y):5d} macro-F1 {mf:.3f} "
                f"acc {res['accuracy']:.3f} ({res['seconds']}s)")
    return out


def summarise(results):
    """Means of the per-fold macro-F1: audio, recordings, renders, photos, drawings."""
    groups = {"audio": lambda r: r["modality"] == "audio", "recording": lambda r: r["domain"] == "recording",
              "rendered": lambda r: r["domain"] == "rendered", "photo": lambda r: r["domain"] == "photo",
              "drawing": lambda r: r["domain"] == "drawing"}
    out = {}
    for k, f in groups.items():
        v = [r["macro_f1"] for r in results if f(r)]
        if v:
            out[k] = {"mean": round(float(np.mean(v)), 4), "folds": len(v)}
    return out


def dense_json(model, kind, labels, dim, cfg):
    """An `amodal-dense/1` head (lib/classify/dense_head.ts) from a fitted logreg or TorchMlp."""
    if kind == "logreg":
        w = np.zeros((len(labels), dim), np.float32)
        b = np.zeros(len(labels), np.float32)
        # A label absent from training gets a very low logit (probability ~0), as in proba().
        b[:] = -1e4
        w[model.classes_] = model.coef_
        b[model.classes_] = model.intercept_
        layers = [{"in": dim, "out": len(labels), "weight": f32_list(w), "bias": f32_list(b), "activation": "softmax"}]
        params = {"C": cfg["C"]}
    else:
        l1, l2 = model.net[0], model.net[2]
        layers = [
            {"in": dim, "out": l1.out_features, "weight": f32_list(l1.weight.detach().numpy()),
             "bias": f32_list(l1.bias.detach().numpy()), "activation": "relu"},
            {"in": l1.out_features, "out": len(labels), "weight": f32_list(l2.weight.detach().numpy()),
             "bias": f32_list(l2.bias.detach().numpy()), "activation": "softmax"},
        ]
        params = {"hidden": cfg["mlpHidden"], "epochs": cfg["mlpEpochs"]}
    return {"format": "amodal-dense/1", "labels": labels, "nFeatures": dim, "kind": kind,
            "params": {**params, "balance": cfg["balance"]}, "layers": layers}


def eval_dense(head, x):
    """numpy re-implementation of lib/classify/dense_head.ts (float64 over float32 parameters)."""
    h = x.astype(np.float32).astype(np.float64)
    for layer in head["layers"]:
        w = np.array(layer["weight"], np.float32).astype(np.float64).reshape(layer["out"], layer["in"])
        h = h @ w.T + np.array(layer["bias"], np.float32).astype(np.float64)
        if layer["activation"] == "relu":
            h = np.maximum(h, 0)
    h = np.exp(h - h.max(axis=1, keepdims=True))
    return h / h.sum(axis=1, keepdims=True)


def serve(pa, pv, folds, cfg, labels, seed, work):
    """Trains the recipe on every trainable row and writes the served artifacts to `work`."""
    from forests import eval_exported, export_forest

    n_labels = len(labels)
    lab = {l: i for i, l in enumerate(labels)}
    t = time.time()
    a = pa.take(cap_mask(pa, recipe_mask(pa, [], folds, cfg), cfg["cap"], seed))
    v = pv.take(cap_mask(pv, recipe_mask(pv, [], folds, cfg), cfg["cap"], seed))
    if cfg["audiosetPrior"] and cfg["audiosetFrom"] != "embedding":
        # The served translator takes the embedding only (one ONNX input, as every caller gives it).
        raise SystemExit("loso: --serve needs audiosetFrom 'embedding' (the prior folded into the audio translator)")
    ha, hv, model, proba = train_recipe(a, v, cfg, n_labels, seed)
    fit_seconds = time.time() - t
    os.makedirs(os.path.join(work, "parity"), exist_ok=True)
    # Secondary numbers: classify-test (same sources as training), original items.
    tests, x_parity, ids = {}, [], []
    for name, pool, head in (("audio", pa, ha), ("image", pv, hv)):
        te = pool.take((pool.role == "classify-test") & (pool.view == 0))
        z = embed(head, te.x)
        x_parity.append(z)
        ids += [r["id"] for r in te.rows]
        pred = np.argmax(proba(z), axis=1)
        for key, m in [(name, np.ones(len(te.y), bool))] + [(f"{name}/{d}", te.domain == d) for d in sorted(set(te.domain))]:
            if m.sum():
                present = sorted(set(te.y[m].tolist()))
                mf, per = macro_f1(te.y[m], pred[m], present)
                tests[key] = {"macro_f1": mf, "n": int(m.sum()), "per_label": {labels[l]: round(f, 4) for l, f in per.items()}}
        # Translator parity: real rows and a few extreme synthetic ones, as translate.py writes them.
        dim_in = pool.x.shape[1]
        xin = np.concatenate([te.x[:64], np.random.default_rng(7).normal(0, 3, (4, dim_in)).astype(np.float32)])
        xin.astype("<f4").tofile(os.path.join(work, "parity", f"translator_{name}_in.f32"))
        embed(head, xin).astype("<f4").tofile(os.path.join(work, "parity", f"translator_{name}_out.f32"))
        torch.onnx.export(
            head, torch.zeros(2, dim_in), os.path.join(work, f"translator_{name}.onnx"), input_names=[name],
            output_names=[f"{name}_joint"], dynamic_axes={name: {0: "n"}, f"{name}_joint": {0: "n"}},
            opset_version=17, do_constant_folding=True,
        )
    x_parity = np.concatenate(x_parity).astype("<f4")
    want = proba(x_parity)
    if cfg["head"] == "forest":
        args = argparse.Namespace(trees=cfg["trees"], depth=cfg["depth"], seed=seed)
        head_json = export_forest(model, labels, args)
        mine = eval_exported(head_json, x_parity)
        tol = 1e-9
    else:
        head_json = dense_json(model, cfg["head"], labels, cfg["dim"], cfg)
        mine = eval_dense(head_json, x_parity)
        tol = 1e-5
    err = float(np.abs(want - mine).max()) if len(x_parity) else 0.0
    same = bool((np.argmax(want, 1) == np.argmax(mine, 1)).all())
    print(f"loso: served head export vs Python on {len(x_parity)} rows: max |dp| {err:.2e}, argmax equal {same}", flush=True)
    if err > tol or not same:
        raise SystemExit("loso: the exported head does not reproduce Python's probabilities")
    x_parity.tofile(os.path.join(work, "parity", "head_test_in.f32"))
    want.astype("<f4").tofile(os.path.join(work, "parity", "head_test_proba.f32"))
    write_json(os.path.join(work, "parity", "head_test.json"), {
        "rows": len(x_parity), "dim": int(x_parity.shape[1]), "labels": labels, "ids": ids, "tolerance": max(tol, 1e-6),
        "note": "classify-test rows (audio then image), joint features; proba = the Python head's predict_proba",
    })
    write_json(os.path.join(work, "head.json"), head_json, compact=True)
    summary = {k: round(v["macro_f1"], 4) for k, v in tests.items()}
    print("loso: served model classify-test " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()), flush=True)
    return {"classify_test": tests, "rows": {"audio": int(len(a.y)), "image": int(len(v.y))},
            "fit_seconds": round(fit_seconds, 1), "export_max_abs_diff": err, "head": cfg["head"]}



def add_prior_args(p):
    """The encoders' graphs and class names the recipe's priors read (imagenetPrior, audiosetPrior); levers.py too."""
    p.add_argument("--image-encoder", default="", help="the image encoder's ONNX graph (for the recipe's imagenetPrior)")
    p.add_argument("--audio-encoder", default="", help="the audio encoder's ONNX graph (for the recipe's audiosetPrior)")
    p.add_argument("--audio-classes", default="", help="its class map (yamnet_class_map.csv)")
    p.add_argument("--image-classes", default="", help="its class names, one per line")

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--audio", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--folds", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--config", default="{}", help="JSON recipe overriding DEFAULTS")
    p.add_argument("--out", required=True, help="loso.json to write (with --serve: serve.json)")
    p.add_argument("--serve", default="", help="train on every trainable row and write the served artifacts to this folder")
    p.add_argument("--only", default="", help="comma-separated fold names, modalities or domains")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--grouped", type=int, default=0, help="screening: K runs holding out several folds each")
    p.add_argument("--threads", type=int, default=2)
    add_prior_args(p)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    labels = json.loads(args.labels)
    lab = {l: i for i, l in enumerate(labels)}
    cfg = {**DEFAULTS, **json.loads(args.config)}
    if cfg["imagenetPrior"]:
        global IMAGENET_PRIOR
        IMAGENET_PRIOR = load_imagenet_prior(args.image_encoder, args.image_classes, labels)
    if cfg["audiosetPrior"]:
        global AUDIOSET_PRIOR
        AUDIOSET_PRIOR = load_audioset_prior(args.audio_encoder, args.audio_classes, labels)
    with open(args.folds) as f:
        folds = json.load(f)
    pa, pv = Pool(args.audio, lab), Pool(args.image, lab)
    t = time.time()
    if args.serve:
        res = serve(pa, pv, folds, cfg, labels, args.seed, args.serve)
        write_json(args.out, {"format": "amodal-serve/1", "config": cfg, "seed": args.seed, **res,
                              "seconds": round(time.time() - t, 1)})
        return
    res = run_folds(pa, pv, folds, cfg, labels, args.seed, [s for s in args.only.split(",") if s], grouped=args.grouped)
    summary = summarise(res)
    print("loso: " + ", ".join(f"{k} {v['mean']:.3f} ({v['folds']})" for k, v in summary.items()), flush=True)
    write_json(args.out, {"format": "amodal-loso/1", "config": cfg, "seed": args.seed, "grouped": args.grouped, "summary": summary,
                          "folds": res, "labels": labels, "seconds": round(time.time() - t, 1)})


if __name__ == "__main__":
    main()
