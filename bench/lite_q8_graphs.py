#!/usr/bin/python3
"""Graphs for bench/lite-q8.ts: the lite fixture's two decoders as fp32 (the fixture's own), q4
(every MatMul with a constant weight as MatMulNBits bits 4, block 32, accuracy_level 4: the
public q4 files' kernel, the exporter's packing rule, models/export/salmonn/quant.py) and q8 (the
fixture's `_quantized` copies, models/lite/quantize_q8.py). Tiny widths (LLM 32 wide, Whisper 16):
what a decode step costs beyond its arithmetic, not the 0.5B's times.

usage: /usr/bin/python3 bench/lite_q8_graphs.py FIXTURE_DIR OUT_DIR
"""
from __future__ import annotations

import os
import shutil
import sys

import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models", "export"))
sys.path.insert(0, os.path.join(HERE, "..", "models", "lite"))
from salmonn.quant import BLOCK, quantize_q4  # noqa: E402
from quantize_q8 import rewrite_const_matmuls  # noqa: E402  (the same MatMul walk as the q8 pass)

DECODERS = {"llm": "onnx/decoder_model_merged", "whisper": "whisper/onnx/decoder_model_merged"}


def to_nbits(model: onnx.ModelProto) -> onnx.ModelProto:
    done: set[str] = set()

    def rewrite(node, weight):
        w = numpy_helper.to_array(weight)  # [K, N]
        k, m = w.shape
        b, s = f"{node.input[1]}_Q4", f"{node.input[1]}_scales"
        tensors = []
        if b not in done:
            packed, scales = quantize_q4(w.T)
            tensors = [numpy_helper.from_array(packed, b), numpy_helper.from_array(scales.reshape(-1), s)]
            done.add(b)
        return [helper.make_node("MatMulNBits", [node.input[0], b, s], list(node.output), node.name + "_Q4", domain="com.microsoft",
                                 K=k, N=m, bits=4, block_size=BLOCK, accuracy_level=4)], tensors

    out = rewrite_const_matmuls(model, rewrite)
    if not any(o.domain == "com.microsoft" for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return out


def main(fixture: str, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name, rel in DECODERS.items():
        src = os.path.join(fixture, rel)
        shutil.copyfile(src + ".onnx", os.path.join(out, f"{name}_fp32.onnx"))
        shutil.copyfile(src + "_quantized.onnx", os.path.join(out, f"{name}_q8.onnx"))
        onnx.save(to_nbits(onnx.load(src + ".onnx")), os.path.join(out, f"{name}_q4.onnx"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
