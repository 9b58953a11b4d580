"""The numpy 4-bit quantiser (salmonn/quant.py) against onnxruntime-node's MatMulNBits and
GatherBlockQuantized (PIPELINE §9 layout), bit-exact where the kernel's arithmetic is exact."""
import os

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

from salmonn.ort import run_many
from salmonn.quant import BLOCK, dequantize_q4, quant_error_bound, quantize_q4, unpack_q4


def _save(tmp, name, nodes, ins, outs, inits):
    g = helper.make_graph(nodes, name, ins, outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                          ir_version=8)
    p = os.path.join(str(tmp), name + ".onnx")
    onnx.save(m, p)
    return p


def _mnb_graph(tmp, name, packed, scales, k, n, elem, accuracy_level):
    node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain="com.microsoft", K=k, N=n, bits=4,
                            block_size=BLOCK, accuracy_level=accuracy_level)
    return _save(tmp, name, [node], [helper.make_tensor_value_info("A", elem, ["M", k])],
                 [helper.make_tensor_value_info("Y", elem, ["M", n])],
                 [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "scales")])


def test_packing_rule():
    """Independent of the quantiser: bytes and scales are what the §9 rule says."""
    w = np.zeros((1, 32), np.float32)
    w[0, :] = np.arange(32) - 16.0  # max magnitude -16 -> scale 2, q = w/2 + 8
    packed, scales = quantize_q4(w)
    assert packed.shape == (1, 1, 16) and scales.shape == (1, 1) and scales[0, 0] == 2.0
    q = np.clip(np.rint(w[0] / 2) + 8, 0, 15).astype(np.uint8)
    assert list(packed[0, 0]) == [int(q[2 * i]) | (int(q[2 * i + 1]) << 4) for i in range(16)]
    assert q[0] == 0  # the max-magnitude element sits on the -8 level
    assert np.array_equal(unpack_q4(packed)[0, 0], q)
    z, zs = quantize_q4(np.zeros((2, 40), np.float32))  # all-zero blocks, K padded to 64
    assert z.shape == (2, 2, 16) and np.all(zs == 0) and np.all(z == 0x88)


def test_quantisation_error_bound():
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float16):
        w = (rng.standard_normal((64, 200)) * rng.uniform(0.01, 3, (64, 1))).astype(np.float32)
        deq = dequantize_q4(*quantize_q4(w, dt), 200)
        bound = quant_error_bound(w) * (1 + 8 * 2.0 ** -11)  # fp16 scale: 8 levels x its rounding (2^-11)
        assert np.all(np.abs(w - deq) <= bound)
        # most elements are within half a step
        assert np.mean(np.abs(w - deq) <= bound / 2) > 0.99


def test_matmulnbits_bit_exact(tmp_path):
    """A = identity: Y = dequantised W^T exactly (accuracy_level 1 = float compute), for fp32 and
    fp16 scales, K a multiple of 32 and not."""
    rng = np.random.default_rng(1)
    runs, refs = [], []
    for k, n, dt, elem in ((64, 9, np.float32, TP.FLOAT), (24, 5, np.float32, TP.FLOAT),
                           (96, 7, np.float16, TP.FLOAT16), (40, 3, np.float16, TP.FLOAT16)):
        w = rng.standard_normal((n, k)).astype(np.float32)
        packed, scales = quantize_q4(w, dt)
        p = _mnb_graph(tmp_path, f"mnb_{k}_{n}", packed, scales, k, n, elem, 1)
        runs.append((p, {"A": np.eye(k, dtype=dt)}))
        refs.append(dequantize_q4(packed, scales, k).T.astype(dt))
    for out, ref in zip(run_many(runs), refs):
        assert out["Y"].dtype == ref.dtype and np.array_equal(out["Y"], ref)


def test_matmulnbits_accuracy_level_4(tmp_path):
    """The bundles' setting (accuracy_level 4: int8 activations on CPU) stays close to the
    float product with the dequantised weight."""
    rng = np.random.default_rng(2)
    k, n = 128, 16
    w = rng.standard_normal((n, k)).astype(np.float32)
    packed, scales = quantize_q4(w)
    a = rng.standard_normal((6, k)).astype(np.float32)
    p = _mnb_graph(tmp_path, "mnb_acc4", packed, scales, k, n, TP.FLOAT, 4)
    y = run_many([(p, {"A": a})])[0]["Y"]
    ref = a.astype(np.float64) @ dequantize_q4(packed, scales, k).T.astype(np.float64)
    assert np.abs(y - ref).max() <= 0.02 * np.abs(ref).max()


def test_gather_block_quantized_bit_exact(tmp_path):
    rng = np.random.default_rng(3)
    v, h = 50, 72
    w = rng.standard_normal((v, h)).astype(np.float32)
    runs, refs = [], []
    ids = np.array([[3, 0, 49, 7, 3]], np.int64)
    for dt, elem in ((np.float32, TP.FLOAT), (np.float16, TP.FLOAT16)):
        packed, scales = quantize_q4(w, dt)
        node = helper.make_node("GatherBlockQuantized", ["data", "ids", "scales"], ["Y"], domain="com.microsoft",
                                gather_axis=0, quantize_axis=1, block_size=BLOCK, bits=4)
        p = _save(tmp_path, f"gbq_{dt.__name__}", [node], [helper.make_tensor_value_info("ids", TP.INT64, [1, "n"])],
                  [helper.make_tensor_value_info("Y", elem, [1, "n", 96])],
                  [numpy_helper.from_array(packed.reshape(v, -1), "data"), numpy_helper.from_array(scales, "scales")])
        runs.append((p, {"ids": ids}))
        refs.append(dequantize_q4(packed, scales, h)[ids[0]][None].astype(dt))
    for out, ref in zip(run_many(runs), refs):
        # H = 72 is padded to 3 blocks (96): the padding reads as zeros (graphs slice it off)
        assert out["Y"].shape == (1, 5, 96) and np.all(out["Y"][..., h:] == 0)
        assert np.array_equal(out["Y"][..., :h], ref)
