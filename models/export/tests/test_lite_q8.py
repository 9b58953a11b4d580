"""The lite fixture's q8 decoders (models/lite/quantize_q8.py, the layout of onnxruntime's dynamic int8):
the weight rule on hand-computed values, the graph pass (every MatMul with a constant weight replaced,
nothing else changed, the same inputs and outputs), and the int8 graphs on onnxruntime-node against
the float32 ones within a bound derived from the int8 rounding.

The bound, for one int8 linear y_j = sum_k x_k W_kj: DynamicQuantizeLinear rounds x to a uint8 grid of
step s_a = (max(x, 0) - min(x, 0)) / 255, an error |e_a| <= s_a / 2 inside the range, plus at most
s_a / 2 more where the rounded zero point pushes the top value one step past 255 and it saturates:
|e_a| <= s_a. The weight is rounded to a grid of step s_w = max|W| / 127: |e_w| <= s_w / 2. MatMulInteger
is exact (int32), so
    |y^_j - y_j| <= s_a sum_k |W_kj| + (s_w / 2) sum_k |x_k| + K s_a s_w / 2      (+ float32 rounding)
per output, with s_a of that row of x. For a whole decoder the test takes the logits' linear (the
LM head) and splits the difference by the triangle inequality: its own rounding, bounded as above from
the int8 graph's input h^, plus what the difference of its input carries through W:
    |logits^ - logits| <= bound(h^) + sum_k |h^_k - h_k| |W_kj|.
Where the float32 top-1 logit leads the runner-up by more than twice that bound, the int8 graph must
pick the same token.
"""
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
LITE = os.path.join(HERE, "..", "..", "lite")
sys.path.insert(0, LITE)

from quantize_q8 import quantize_model, quantize_weight  # noqa: E402
from salmonn.ort import run_many  # noqa: E402

F32_EPS = 2.0 ** -23


def test_weight_rule_on_hand_computed_values():
    # max |W| = 127/64, so the scale is exactly 1/64 and W * 64 is exact: 127, 2.5, 3.5, -1.5
    w = np.array([[1.984375, 0.0390625], [0.0546875, -0.0234375]], np.float32)
    q, scale, zp = quantize_weight(w)
    assert scale == np.float32(1 / 64) and zp == 0
    assert q.dtype == np.int8
    assert q.tolist() == [[127, 2], [4, -2]]  # 2.5 -> 2 and 3.5 -> 4, -1.5 -> -2: half to even
    # the negative side sets the range: max |W| = 2.54 -> scale 0.02; 1.0 / 0.02 = 50, 0.345 / 0.02 = 17.25 -> 17
    q, scale, _ = quantize_weight(np.array([[-2.54, 1.0, 0.345]], np.float32))
    assert scale == pytest.approx(0.02, rel=1e-6)
    assert q.tolist() == [[-127, 50, 17]]
    # an all-zero weight gets scale 1 (not a division by zero), all zeros
    q, scale, _ = quantize_weight(np.zeros((2, 3), np.float32))
    assert scale == 1 and not q.any()


def toy_model():
    """x -> MatMul(W1) -> Relu -> MatMul(W2) = y, x also -> MatMul(W3) (shares x's quantiser),
    and y @ z with z a graph input (not a constant weight: stays float)."""
    rng = np.random.default_rng(0)
    w = {n: numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n) for n, s in (("W1", (4, 6)), ("W2", (6, 3)), ("W3", (4, 3)))}
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"], "/l1/MatMul"),
        helper.make_node("Relu", ["h"], ["r"], "/act/Relu"),
        helper.make_node("MatMul", ["r", "W2"], ["y"], "/l2/MatMul"),
        helper.make_node("MatMul", ["x", "W3"], ["y3"], "/l3/MatMul"),
        helper.make_node("MatMul", ["y", "z"], ["yz"], "/scores/MatMul"),
    ]
    g = helper.make_graph(nodes, "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", 4]), helper.make_tensor_value_info("z", TensorProto.FLOAT, [3, 2])],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "y3", "yz")], list(w.values()))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def check_pass(before, after):
    """Every MatMul with an initializer B is replaced, in onnxruntime's names; everything else is unchanged."""
    inits_b = {t.name for t in before.graph.initializer}
    inits_a = {t.name: t for t in after.graph.initializer}
    weighted = [n for n in before.graph.node if n.op_type == "MatMul" and n.input[1] in inits_b]
    assert weighted, "the graph has no MatMul with a constant weight"
    assert not [n for n in after.graph.node if n.op_type == "MatMul" and n.input[1] in inits_a]
    key = lambda n: (n.op_type, tuple(n.input), tuple(n.output), n.name)  # noqa: E731
    others = [key(n) for n in before.graph.node if n not in weighted]
    assert [key(n) for n in after.graph.node if key(n) in set(others)] == others  # unchanged, same order
    new = [n for n in after.graph.node if key(n) not in set(others)]
    inputs = sorted({n.input[0] for n in weighted})
    assert sorted(n.name for n in new if n.op_type == "DynamicQuantizeLinear") == sorted(f"{a}_QuantizeLinear" for a in inputs)  # one per input
    for n in weighted:
        a, w, y, name = n.input[0], n.input[1], n.output[0], n.name + "_quant"
        by_name = {m.name: m for m in new}
        assert list(by_name[name].input) == [f"{a}_quantized", f"{w}_quantized", f"{a}_zero_point", f"{w}_zero_point"]
        assert by_name[name].op_type == "MatMulInteger" and list(by_name[name].output) == [f"{y}_output_quantized"]
        assert by_name[f"{y}_output_quantized_cast"].op_type == "Cast"
        assert list(by_name[f"{name}_scales_mul"].input) == [f"{a}_scale", f"{w}_scale"]
        assert list(by_name[f"{name}_output_scale_mul"].output) == [y]
        assert inits_a[f"{w}_quantized"].data_type == TensorProto.INT8
        assert inits_a[f"{w}_zero_point"].data_type == TensorProto.INT8 and numpy_helper.to_array(inits_a[f"{w}_zero_point"]) == 0
        assert inits_a[f"{w}_scale"].data_type == TensorProto.FLOAT and list(inits_a[f"{w}_scale"].dims) == []
    assert len(new) == len(inputs) + 4 * len(weighted)
    assert before.graph.input == after.graph.input
    assert before.graph.output == after.graph.output


def test_the_pass_replaces_every_constant_weight_matmul_and_nothing_else():
    before = toy_model()
    after = quantize_model(before)
    check_pass(before, after)
    assert {t.name for t in after.graph.initializer} == {f"W{i}_{s}" for i in (1, 2, 3) for s in ("quantized", "scale", "zero_point")}
    assert [n.op_type for n in after.graph.node if n.name == "/scores/MatMul"] == ["MatMul"]  # activation @ activation stays


def linear_bound(x, w):
    """Per-output bound of |int8 linear - float linear| (the module docstring)."""
    x2 = x.reshape(-1, x.shape[-1]).astype(np.float64)
    w = w.astype(np.float64)
    s_a = np.full(x2.shape[0], (max(x2.max(), 0) - min(x2.min(), 0)) / 255)  # one scale per run, over the whole tensor
    s_w = np.abs(w).max() / 127
    k = x2.shape[1]
    b = s_a[:, None] * np.abs(w).sum(0)[None, :] + (s_w / 2) * np.abs(x2).sum(1)[:, None] + k * s_a[:, None] * s_w / 2
    return (b + 4 * F32_EPS * (np.abs(x2) @ np.abs(w)) + 1e-6).reshape(*x.shape[:-1], w.shape[1])


def test_one_int8_linear_on_onnxruntime_node_is_within_the_rounding_bound(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 64)).astype(np.float32)
    w = (rng.standard_normal((64, 40)) * 0.05).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], "/lin/MatMul")], "lin", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 40])], [numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    f32, q8 = str(tmp_path / "f32.onnx"), str(tmp_path / "q8.onnx")
    onnx.save(m, f32)
    onnx.save(quantize_model(m), q8)
    a, b = run_many([(f32, {"x": x}), (q8, {"x": x})])
    err = np.abs(b["y"].astype(np.float64) - a["y"])
    bound = linear_bound(x, w)
    assert (err <= bound).all(), float((err - bound).max())
    assert err.max() > 0  # it really computed in int8


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    import make_fixture
    out = str(tmp_path_factory.mktemp("lite_fixture"))
    make_fixture.build(out, 0, sound_tagger=False)
    return out


def with_probes(src, dst, probes):
    """The graph with extra outputs {probe name: tensor} (through Identity: the tensors' names hold "/")."""
    m = onnx.load(src)
    m.graph.node.extend(helper.make_node("Identity", [t], [p], f"probe_{p}") for p, t in probes.items())
    m.graph.output.extend(helper.make_tensor_value_info(p, TensorProto.FLOAT, None) for p in probes)
    onnx.save(m, dst)


def lm_head(model):
    """The MatMul with the widest constant weight (the logits' linear): (its input, its output, W)."""
    inits = {t.name: t for t in model.graph.initializer}
    n = max((n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits), key=lambda n: inits[n.input[1]].dims[1])
    return n.input[0], n.output[0], numpy_helper.to_array(inits[n.input[1]])


def decoder_feeds(rng, which):
    if which == "llm":
        past, s = 3, 4
        f = {"inputs_embeds": rng.standard_normal((1, s, 32)).astype(np.float32), "attention_mask": np.ones((1, past + s), np.int64),
             "position_ids": np.arange(past, past + s, dtype=np.int64)[None]}
        f.update({f"past_key_values.{i}.{kv}": rng.standard_normal((1, 2, past, 8)).astype(np.float32) for i in range(2) for kv in ("key", "value")})
        return f
    past, enc = 2, 1500
    f = {"input_ids": np.array([[50258, 50259, 50359]], np.int64), "encoder_hidden_states": rng.standard_normal((1, enc, 16)).astype(np.float32),
         "use_cache_branch": np.array([True])}
    for i in range(2):
        for part, length in (("decoder", past), ("encoder", enc)):
            f.update({f"past_key_values.{i}.{part}.{kv}": rng.standard_normal((1, 2, length, 8)).astype(np.float32) for kv in ("key", "value")})
    return f


@pytest.mark.parametrize("which,rel", [("llm", "onnx/decoder_model_merged"), ("whisper", "whisper/onnx/decoder_model_merged")])
def test_fixture_q8_decoders_on_onnxruntime_node_stay_within_the_int8_bound_of_float32(fixture_dir, tmp_path, which, rel):
    f32_path, q8_path = os.path.join(fixture_dir, rel + ".onnx"), os.path.join(fixture_dir, rel + "_quantized.onnx")
    before, after = onnx.load(f32_path), onnx.load(q8_path)
    check_pass(before, after)
    h_name, y_name, w = lm_head(before)
    f32, q8 = str(tmp_path / "f32.onnx"), str(tmp_path / "q8.onnx")
    for src, dst in ((f32_path, f32), (q8_path, q8)):
        with_probes(src, dst, {"head_in": h_name, "head_out": y_name})
    feeds = decoder_feeds(np.random.default_rng(2), which)
    a, b = run_many([(f32, feeds), (q8, feeds)])
    assert set(a) == set(b)
    h, hq = a["head_in"].astype(np.float64), b["head_in"].astype(np.float64)
    bound = linear_bound(b["head_in"], w) + np.abs(hq - h) @ np.abs(w.astype(np.float64))
    err = np.abs(b["head_out"].astype(np.float64) - a["head_out"])
    assert (err <= bound).all(), float((err - bound).max())
    # the logits (the LM head plus the same additive terms in both graphs) differ exactly as its output does
    np.testing.assert_allclose(b["logits"] - a["logits"], b["head_out"] - a["head_out"], atol=1e-4)
    # where float32's top-1 leads by more than twice the bound, the int8 graph picks the same token
    logits = a["logits"].reshape(-1, a["logits"].shape[-1])
    top2 = np.sort(logits, axis=1)[:, -2:]
    sure = (top2[:, 1] - top2[:, 0]) > 2 * bound.reshape(logits.shape).max(axis=1)
    assert (b["logits"].reshape(logits.shape).argmax(1)[sure] == logits.argmax(1)[sure]).all()
    # the presents keep their float32 names and shapes
    for name in a:
        assert a[name].shape == b[name].shape, name
