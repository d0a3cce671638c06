"""Derives YAMNet's per-patch extraction graph from the served one: the same graph with one more
output, `block_in`, the activation that enters its last two depthwise-separable blocks
([N, 512, 6, 4] for a 96 x 64 patch). Frame-level training reads the graph's `embedding` per patch;
fine-tuning (scripts/train/frames.py) trains the last block(s) on `block_in`, so one extraction
serves both levers and the frozen blocks reproduce `embedding` from it.

Usage: patch_graph.py IN.onnx OUT.onnx [--blocks 2]
Prints JSON: the tensor named and the ops of the blocks it feeds.
"""

import argparse
import json

import onnx
from onnx import helper


def depthwise_convs(graph):
    """Conv nodes with group > 1 (the depthwise halves of the separable blocks), in graph order."""
    out = []
    for n in graph.node:
        if n.op_type != "Conv":
            continue
        group = next((helper.get_attribute_value(a) for a in n.attribute if a.name == "group"), 1)
        if group > 1:
            out.append(n)
    return out


def block_input(graph, blocks):
    """The tensor entering the last `blocks` separable blocks (the input of their first depthwise conv)."""
    dw = depthwise_convs(graph)
    if len(dw) < blocks:
        raise SystemExit(f"patch_graph: only {len(dw)} depthwise convolutions, asked for {blocks} blocks")
    return dw[-blocks].input[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--blocks", type=int, default=2)
    args = p.parse_args()
    model = onnx.load(args.src)
    g = model.graph
    name = block_input(g, args.blocks)
    g.node.append(helper.make_node("Identity", [name], ["block_in"]))
    g.output.append(helper.make_tensor_value_info("block_in", onnx.TensorProto.FLOAT, ["N", None, None, None]))
    onnx.checker.check_model(model)
    onnx.save(model, args.dst)
    print(json.dumps({"tensor": name, "blocks": args.blocks, "output": "block_in"}))


if __name__ == "__main__":
    main()
