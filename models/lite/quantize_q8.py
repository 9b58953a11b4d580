"""Our own int8 pass in the node layout of onnxruntime's dynamic quantiser (the public `_quantized` files).

What onnxruntime.quantization's `quantize_dynamic` (QuantizationMode.IntegerOps, operators/matmul.py)
writes for a MatMul whose B is an initializer, with the options transformers.js' scripts/quantize.py
passes for its `q8` files (`*_quantized.onnx`): weight type QInt8 (it takes QUInt8 only when the graph
has Conv / GroupQueryAttention / MultiHeadAttention; the decoders have none), per tensor (per_channel
unset), no reduced range, activations uint8 (DynamicQuantizeLinear only makes uint8):

    A ──DynamicQuantizeLinear (`A_QuantizeLinear`)──> A_quantized, A_scale, A_zero_point
    MatMulInteger(A_quantized, W_quantized, A_zero_point, W_zero_point) (`<node>_quant`) -> `<Y>_output_quantized`
    Cast to float (`<Y>_output_quantized_cast`)                                           -> `<Y>_output_quantized_cast_output`
    Mul(A_scale, W_scale) (`<node>_quant_scales_mul`)                                     -> `<node>_quant_scales_mul:0`
    Mul(cast, scales) (`<node>_quant_output_scale_mul`)                                   -> Y (the MatMul's own output)

The weight rule (symmetric int8, quant_utils.compute_scale_zp): r = max(|min(W, 0)|, |max(W, 0)|),
scale = 2r / 254 (= r / 127; 1 where r = 0), zero point 0, W_quantized = clip(round_half_even(W / scale),
-127, 127). One DynamicQuantizeLinear serves every MatMul that reads the same A (q/k/v share theirs),
as the quantiser's `A_QuantizeLinear` lookup does. Only MatMuls of the main graph are touched (the
fixture's decoders have no subgraphs); every other node, the graph's inputs and outputs stay as they were.

numpy + onnx only. usage: /usr/bin/python3 models/lite/quantize_q8.py IN.onnx OUT.onnx
"""
from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QMAX = 127  # symmetric int8: [-127, 127]


def quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.float32, np.int8]:
    """(int8 weight, float32 scale, int8 zero point) of one weight tensor, per tensor and symmetric."""
    w = np.asarray(w, np.float32)
    r = np.maximum(np.abs(np.minimum(w.min(), np.float32(0))), np.abs(np.maximum(w.max(), np.float32(0))))
    scale = np.float32(2 * r) / np.float32(2 * QMAX)
    if not scale > 0:
        scale = np.float32(1)
    q = np.clip(np.round(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, np.float32(scale), np.int8(0)


def rewrite_const_matmuls(model: onnx.ModelProto, rewrite) -> onnx.ModelProto:
    """A copy of `model` in which every main-graph MatMul whose B is an initializer is replaced by
    the nodes of `rewrite(node, weight TensorProto) -> (nodes, new initializers)`. A replaced float
    weight is dropped unless a node still reads it (a tied embedding's Gather); every other node
    and initializer stays, in order, the new initializers after them."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, new_inits, dropped = [], [], set()
    for node in g.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        nodes, tensors = rewrite(node, inits[node.input[1]])
        new_nodes += nodes
        new_inits += tensors
        dropped.add(node.input[1])
    still_read = {i for n in new_nodes for i in n.input}
    kept = [t for t in g.initializer if t.name not in dropped or t.name in still_read]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    return out


def quantize_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` with every MatMul whose B is an initializer replaced by the int8 layout."""
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        raise ValueError("MatMulInteger and DynamicQuantizeLinear need opset 11 or later (DynamicQuantizeLinear: 11)")
    done_inputs: set[str] = set()
    done_weights: set[str] = set()

    def rewrite(node, weight):
        a, w, y = node.input[0], node.input[1], node.output[0]
        nodes, tensors = [], []
        if a not in done_inputs:
            nodes.append(helper.make_node("DynamicQuantizeLinear", [a], [f"{a}_quantized", f"{a}_scale", f"{a}_zero_point"], f"{a}_QuantizeLinear"))
            done_inputs.add(a)
        if w not in done_weights:
            q, scale, zp = quantize_weight(numpy_helper.to_array(weight))
            tensors = [numpy_helper.from_array(q, f"{w}_quantized"), numpy_helper.from_array(np.array(scale, np.float32), f"{w}_scale"),
                       numpy_helper.from_array(np.array(zp, np.int8), f"{w}_zero_point")]
            done_weights.add(w)
        name = f"{node.name}_quant"
        mm_out = f"{y}_output_quantized"
        nodes += [
            helper.make_node("MatMulInteger", [f"{a}_quantized", f"{w}_quantized", f"{a}_zero_point", f"{w}_zero_point"], [mm_out], name),
            helper.make_node("Cast", [mm_out], [f"{mm_out}_cast_output"], f"{mm_out}_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{a}_scale", f"{w}_scale"], [f"{name}_scales_mul:0"], f"{name}_scales_mul"),
            helper.make_node("Mul", [f"{mm_out}_cast_output", f"{name}_scales_mul:0"], [y], f"{name}_output_scale_mul"),
        ]
        return nodes, tensors

    return rewrite_const_matmuls(model, rewrite)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    onnx.save(quantize_model(onnx.load(argv[0])), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
