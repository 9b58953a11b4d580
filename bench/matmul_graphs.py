"""Single-op ONNX graphs for bench/matmul-wasm.ts (`/usr/bin/python3 bench/matmul_graphs.py OUT_DIR [--lm-head]`).

One Linear layer of the Qwen2-0.5B decoder, Y[M, N] = A[M, K] @ W^T, as each export style
writes it, from the same random weight (numpy, seed 0):
  nbits0 / nbits4  MatMulNBits bits 4, block 32, symmetric, no zero points (the exporter's
                   layout, models/export/salmonn/quant.py), accuracy_level 0 / 4;
  fp32             MatMul with the q4 weight dequantised to float32 ([K, N] initializer);
  q8               what a 'q8' (onnxruntime quantize_dynamic) export emits: DynamicQuantizeLinear
                   on A + MatMulInteger with int8 weights (symmetric, one scale per output
                   column) + Cast + Mul by a_scale * w_scale;
  q8u              the same with uint8 weights, one asymmetric scale/zero point per tensor.
Also writes A (32 rows of K, float32) per K and the float64 reference A @ W_deq^T (32 rows of
N, float32) per shape, raw little-endian, and manifest.json. Generated files stay out of git.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models", "export"))
from salmonn.quant import BLOCK, dequantize_q4, n_blocks, quantize_q4  # noqa: E402

ROWS = 32  # A's rows; M = 1 uses the first
SHAPES = [("attn_q_o", 896, 896), ("attn_k_v", 896, 128), ("mlp_gate_up", 896, 4864), ("mlp_down", 4864, 896)]
LM_HEAD = ("lm_head", 896, 151936)


def model(nodes, inits, k, n, name):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", k])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])],
                          [numpy_helper.from_array(v, key) for key, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=8)


def nbits(packed, scales, k, n, level):
    node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=BLOCK, accuracy_level=level)
    return model([node], {"B": packed, "scales": scales}, k, n, f"nbits{level}")


def fp32(w_deq, k, n):
    return model([helper.make_node("MatMul", ["A", "W"], ["Y"])], {"W": np.ascontiguousarray(w_deq.T)}, k, n, "fp32")


def q8(wq, w_scale, w_zp, k, n, name):
    """wq [K, N] int8/uint8; w_scale float32 [N] or scalar; w_zp None (symmetric) or scalar of wq's dtype."""
    inits = {"W": wq, "w_scale": w_scale}
    mm_in = ["Aq", "W", "a_zp"] + (["w_zp"] if w_zp is not None else [])
    if w_zp is not None:
        inits["w_zp"] = w_zp
    nodes = [helper.make_node("DynamicQuantizeLinear", ["A"], ["Aq", "a_scale", "a_zp"]),
             helper.make_node("MatMulInteger", mm_in, ["Yi"]),
             helper.make_node("Cast", ["Yi"], ["Yf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["a_scale", "w_scale"], ["s"]),
             helper.make_node("Mul", ["Yf", "s"], ["Y"])]
    return model(nodes, inits, k, n, name)


def build(out, name, k, n, rng):
    w = (rng.standard_normal((n, k)) * 0.02).astype(np.float32)  # [N, K], a Linear's layout
    packed, scales = quantize_q4(w)
    assert packed.shape == (n, n_blocks(k), BLOCK // 2)
    w_deq = dequantize_q4(packed, scales, k)  # [N, K] float32: what every variant computes with
    files = {}

    def put(variant, m):
        files[variant] = f"{name}_{variant}.onnx"
        save(m, os.path.join(out, files[variant]))

    put("nbits0", nbits(packed, scales, k, n, 0))
    put("nbits4", nbits(packed, scales, k, n, 4))
    put("fp32", fp32(w_deq, k, n))
    amax = np.abs(w_deq).max(axis=1)  # per output column
    s = np.where(amax == 0, 1, amax / 127).astype(np.float32)
    wq = np.clip(np.rint(w_deq / s[:, None]), -127, 127).astype(np.int8).T.copy()  # [K, N]
    put("q8", q8(wq, s, None, k, n, "q8"))
    lo, hi = min(float(w_deq.min()), 0.0), max(float(w_deq.max()), 0.0)
    su = np.float32((hi - lo) / 255 or 1)
    zu = np.uint8(np.clip(np.rint(-lo / su), 0, 255))
    wu = np.clip(np.rint(w_deq / su) + int(zu), 0, 255).astype(np.uint8).T.copy()
    put("q8u", q8(wu, np.array(su, np.float32), np.array(zu, np.uint8), k, n, "q8u"))
    return w_deq, files


def main():
    out = sys.argv[1]
    shapes = SHAPES + ([LM_HEAD] if "--lm-head" in sys.argv else [])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    a_by_k = {}
    manifest = {"rows": ROWS, "shapes": []}
    for name, k, n in shapes:
        if k not in a_by_k:
            a_by_k[k] = rng.standard_normal((ROWS, k)).astype(np.float32)
            a_by_k[k].tofile(os.path.join(out, f"A_K{k}.bin"))
        w_deq, files = build(out, name, k, n, rng)
        ref = (a_by_k[k].astype(np.float64) @ w_deq.T.astype(np.float64)).astype(np.float32)
        ref.tofile(os.path.join(out, f"ref_{name}.bin"))
        entry = {"name": name, "K": k, "N": n, "a": f"A_K{k}.bin", "ref": f"ref_{name}.bin", "graphs": files}
        if name == LM_HEAD[0]:
            entry["ms"] = [1]  # the decoder applies it to the last position only
        manifest["shapes"].append(entry)
        print(f"{name}: K={k} N={n}", flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
