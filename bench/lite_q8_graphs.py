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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "export"))
from salmonn.quant import BLOCK, quantize_q4  # noqa: E402

DECODERS = {"llm": "onnx/decoder_model_merged", "whisper": "whisper/onnx/decoder_model_merged"}


def to_nbits(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    nodes, used = [], set()
    for n in g.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(inits[n.input[1]])  # [K, N]
        k, m = w.shape
        packed, scales = quantize_q4(w.T)
        b, s = f"{n.input[1]}_Q4", f"{n.input[1]}_scales"
        if b not in used:
            g.initializer.extend([numpy_helper.from_array(packed, b), numpy_helper.from_array(scales.reshape(-1), s)])
            used.add(b)
        nodes.append(helper.make_node("MatMulNBits", [n.input[0], b, s], list(n.output), n.name + "_Q4", domain="com.microsoft",
                                      K=k, N=m, bits=4, block_size=BLOCK, accuracy_level=4))
    read = {i for x in nodes for i in x.input}
    keep = [t for t in g.initializer if t.name in read]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep)
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
