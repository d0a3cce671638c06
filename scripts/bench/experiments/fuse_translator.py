"""Lever experiment: the image encoder and its translator head fused into one ONNX graph.

Writes .cache/fused/mobilenet_v2+translator_image.onnx (the served encoder graph, as imported by the service into
.cache/encoders, with models/translator_image.onnx appended on its "embedding" output) for
scripts/bench/experiments/fused_forward.ts to time against the two separate sessions the service runs.

    /usr/bin/python3 scripts/bench/experiments/fuse_translator.py
"""
import os

import onnx
import onnx.compose

ENCODER = ".cache/encoders/mobilenet_v2.onnx"
TRANSLATOR = "models/translator_image.onnx"
OUT = ".cache/fused/mobilenet_v2+translator_image.onnx"

encoder = onnx.load(ENCODER)
translator = onnx.load(TRANSLATOR)
# merge_models needs one opset and IR version: the encoder's ops (opset 13) mean the same at the translator's 17.
encoder.opset_import[0].version = translator.opset_import[0].version
translator.ir_version = encoder.ir_version
fused = onnx.compose.merge_models(
    encoder, translator, io_map=[("embedding", "image")], outputs=["image_joint", "embedding"]
)
onnx.checker.check_model(fused)
os.makedirs(os.path.dirname(OUT), exist_ok=True)
onnx.save(fused, OUT)
print(f"wrote {OUT}: outputs {[o.name for o in fused.graph.output]}")
