"""The directly-built Qwen2 decoder and embed_tokens (salmonn/qwen2_onnx.py), run by
onnxruntime-node, against the PyTorch reference (salmonn/qwen2.py) loaded with the weights
the bundle computes with (4-bit round trip / fp16 rounding): prefill, KV-cache steps, a
chunked prefill with a past, greedy tokens; streaming into several chunks."""
import json
import os

import numpy as np
import onnx
import pytest
import torch

from salmonn.config import tiny_q4_config
from salmonn.generate import greedy as torch_greedy
from salmonn.model import VideoSalmonn2
from salmonn.onnx_writer import chunk_name
from salmonn.ort import greedy as ort_greedy
from salmonn.ort import run_many
from salmonn.quant import dequantize_q4, quant_error_bound
from salmonn.qwen2_onnx import LlmPlan, build_decoder, build_embed, effective_fn
from salmonn.weights import DictSource

SEED = 0


@pytest.fixture(scope="module")
def tiny_llm():
    cfg = tiny_q4_config()
    model = VideoSalmonn2(cfg).init_random(SEED)
    return cfg, {k: v.numpy() for k, v in model.state_dict().items()}


def _export(tmp, cfg, sd, dtype, accuracy_level=4, max_chunk=None):
    kw = {"accuracy_level": accuracy_level}
    if max_chunk:
        kw["max_chunk_bytes"] = max_chunk
    plan = LlmPlan(dtype, **kw)
    out = str(tmp / f"{dtype}_{accuracy_level}_{max_chunk}")
    os.makedirs(out)
    src = DictSource(sd)
    chunks = build_decoder(cfg, src, out, plan) + build_embed(cfg, src, out, plan)
    ref = VideoSalmonn2(cfg)
    eff = effective_fn(cfg, plan)
    ref.load_state_dict({k: torch.from_numpy(eff(k, v)) for k, v in sd.items()})
    return out, plan, ref.graphs(), chunks


def _feeds(cfg, emb, total, past, act):
    f = {"inputs_embeds": emb.astype(act), "attention_mask": np.ones((1, total), np.int64)}
    for i in range(cfg.layers):
        f[f"past_key_values.{i}.key"] = past[2 * i].astype(act)
        f[f"past_key_values.{i}.value"] = past[2 * i + 1].astype(act)
    return f


@torch.no_grad()
@pytest.mark.parametrize("dtype,level,tol", [("q4", 0, 1e-4), ("q4", 4, None), ("q4f16", 0, None), ("q4f16", 4, None)])
def test_decoder_steps_match_reference(tmp_path, tiny_llm, dtype, level, tol):
    """Prefill 4 (empty past), a 3-token chunk with past 4, then 2 single-token steps: last-row
    logits and the KV cache against the dequantised reference. accuracy_level 0 with float32
    activations is the same math (<= 1e-4); int8 activations (level 4) and fp16 activations
    stay within a few percent of the logit range."""
    cfg, sd = tiny_llm
    out, plan, g, _ = _export(tmp_path, cfg, sd, dtype, level)
    dec = g["decoder_model_merged"]
    path = os.path.join(out, "decoder_model_merged.onnx")
    emb = torch.randn(1, 9, cfg.hidden, generator=torch.Generator().manual_seed(3))
    full = dec(emb, torch.ones(1, 9, dtype=torch.long), torch.arange(9)[None], *dec.empty_past())
    cuts = [(0, 4), (4, 7), (7, 8), (8, 9)]
    past = [p.numpy() for p in dec.empty_past()]
    for a, b in cuts:
        o = run_many([(path, _feeds(cfg, emb[:, a:b].numpy(), b, past, plan.act))])[0]
        assert o["logits"].shape == (1, 1, cfg.vocab) and o["logits"].dtype == np.float32
        ref = full[0][0, b - 1].numpy()
        err = float(np.abs(o["logits"][0, 0] - ref).max())
        limit = tol if tol is not None else 0.03 * float(np.abs(ref).max())
        assert err <= limit, (a, b, err)
        past = [o[f"present.{i // 2}.{'key' if i % 2 == 0 else 'value'}"] for i in range(2 * cfg.layers)]
        assert past[0].shape == (1, cfg.kv_heads, b, cfg.head_dim) and past[0].dtype == plan.act
    kv_ref = full[1].numpy()
    kv_tol = tol if tol is not None else 0.03 * float(np.abs(kv_ref).max())
    assert np.abs(past[0].astype(np.float32) - kv_ref).max() <= kv_tol


@torch.no_grad()
@pytest.mark.parametrize("dtype,level", [("q4", 0), ("q4", 1), ("q4", 4), ("q4f16", 4)])
def test_greedy_tokens_equal_reference(tmp_path, tiny_llm, dtype, level):
    """24 greedy tokens from onnxruntime-node against the dequantised PyTorch reference, on 3
    prompts. Float math (q4, accuracy_level 0/1) is the reference's math: every token equal.
    int8 activations (level 4 on CPU) and fp16 activations may only part at a near-tie: the
    first differing step has a reference top-1/top-2 margin below 3 % of its logit range."""
    cfg, sd = tiny_llm
    out, plan, g, _ = _export(tmp_path, cfg, sd, dtype, level)
    dec, emb_g = g["decoder_model_merged"], g["embed_tokens"]
    ids = torch.tensor([[151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13]])
    for seed in (0, 1, 4):
        emb = torch.cat([emb_g(ids), torch.randn(1, 20, cfg.hidden, generator=torch.Generator().manual_seed(seed))], 1)
        ref = torch_greedy(dec, emb_g, emb, 24, [])
        got = ort_greedy(os.path.join(out, "decoder_model_merged.onnx"), os.path.join(out, "embed_tokens.onnx"),
                         emb.numpy(), 24, cfg.layers, cfg.kv_heads, cfg.head_dim, plan.act)
        if dtype == "q4" and level in (0, 1):
            assert got["ids"] == ref["ids"], seed
            continue
        n = next((i for i, (a, b) in enumerate(zip(got["ids"], ref["ids"])) if a != b), None)
        if n is not None:
            x = emb if n == 0 else torch.cat([emb, emb_g(torch.tensor([ref["ids"][:n]]))], 1)
            logits = dec(x, torch.ones(1, x.shape[1], dtype=torch.long), torch.arange(x.shape[1])[None],
                         *dec.empty_past())[0][0, -1]
            assert ref["margins"][n] < 0.03 * float(logits.abs().max()), (seed, n, ref["margins"][n])


def test_embed_tokens_match_reference(tmp_path, tiny_llm):
    cfg, sd = tiny_llm
    ids = np.array([[0, 5, 220, 151935, 151644]], np.int64)
    runs, refs = [], []
    for dtype in ("q4", "q4f16"):
        out, plan, g, _ = _export(tmp_path, cfg, sd, dtype)
        runs.append((os.path.join(out, "embed_tokens.onnx"), {"input_ids": ids}))
        refs.append(g["embed_tokens"](torch.from_numpy(ids)).detach().numpy().astype(plan.act))
    for dtype, emb in (("fp16", "fp16"), ("fp32", "fp32")):  # row-split tables (several Gathers)
        plan = LlmPlan(dtype, max_tensor_bytes=60_000 * cfg.hidden * (2 if dtype == "fp16" else 4))
        out = str(tmp_path / f"emb_{dtype}")
        os.makedirs(out)
        build_embed(cfg, DictSource(sd), out, plan)
        names = [i.name for i in onnx.load(os.path.join(out, "embed_tokens.onnx"), load_external_data=False).graph.initializer]
        assert "model.embed_tokens.weight.part2" in names
        runs.append((os.path.join(out, "embed_tokens.onnx"), {"input_ids": ids}))
        w = sd["model.embed_tokens.weight"][ids[0]][None]
        refs.append(w.astype(np.float16) if dtype == "fp16" else w)
    for (p, _), r, ref in zip(runs, run_many(runs), refs):
        assert r["inputs_embeds"].dtype == ref.dtype and np.array_equal(r["inputs_embeds"], ref), p


def test_chunked_external_data(tmp_path, tiny_llm):
    """A small --max-chunk-bytes: several chunks, none over the limit, no tensor split, names
    <graph>.onnx_data, <graph>.onnx_data_1, ...; the same logits as one chunk."""
    cfg, sd = tiny_llm
    limit = 3_000_000  # the tiny lm_head's 4-bit blob is ~2.4 MB, the whole graph ~5.6 MB
    one, plan, _, c1 = _export(tmp_path, cfg, sd, "q4")
    many, _, _, cn = _export(tmp_path, cfg, sd, "q4", max_chunk=limit)
    dec_chunks = [c for c in cn if c.startswith("decoder_model_merged")]
    assert len(dec_chunks) >= 2
    assert dec_chunks == [chunk_name("decoder_model_merged", i) for i in range(len(dec_chunks))]
    for c in cn:
        assert os.path.getsize(os.path.join(many, c)) <= limit
    m = onnx.load(os.path.join(many, "decoder_model_merged.onnx"), load_external_data=False)
    for init in m.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            info = {e.key: e.value for e in init.external_data}
            assert int(info["offset"]) + int(info["length"]) <= os.path.getsize(os.path.join(many, info["location"]))
    emb = np.random.default_rng(5).standard_normal((1, 6, cfg.hidden)).astype(np.float32)
    past = [np.zeros((1, cfg.kv_heads, 0, cfg.head_dim), np.float32)] * (2 * cfg.layers)
    r1, r2 = run_many([(os.path.join(d, "decoder_model_merged.onnx"), _feeds(cfg, emb, 6, past, np.float32))
                       for d in (one, many)])
    assert np.array_equal(r1["logits"], r2["logits"])


def test_initializers_trace_back_to_checkpoint(tmp_path, tiny_llm):
    """Every MatMulNBits weight, dequantised, is within the quantisation error of the
    checkpoint tensor named by its prefix; every initializer name starts with a checkpoint
    weight name (or the rotary caches / shape constants)."""
    cfg, sd = tiny_llm
    for dtype in ("q4", "q4f16"):
        out, _, _, _ = _export(tmp_path, cfg, sd, dtype)
        m = onnx.load(os.path.join(out, "decoder_model_merged.onnx"))
        inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
        n_mnb = 0
        for node in m.graph.node:
            if node.op_type != "MatMulNBits":
                continue
            n_mnb += 1
            bname, sname = node.input[1], node.input[2]
            assert bname.endswith(".q4") and sname == bname[:-3] + ".scales"
            w = sd[bname[:-3]]
            k = {a.name: a.i for a in node.attribute}["K"]
            deq = dequantize_q4(inits[bname], inits[sname], k)
            assert deq.shape == w.shape
            excess = np.abs(deq - w) - quant_error_bound(w) * (1 + 8 * 2.0 ** -11)
            assert excess.max() <= 0, (dtype, bname, float(excess.max()), np.unravel_index(excess.argmax(), w.shape))
        assert n_mnb == 7 * cfg.layers + 1
        for name in inits:
            assert name.startswith("const.") or name.startswith("model.rotary_emb.") or \
                any(name.startswith(k + ".") or name == k for k in sd), name


def test_batch_dim_is_named_batch_size(tmp_path, tiny_llm):
    """The decoder's and embed_tokens' batch dim is named `batch_size` on both export paths:
    transformers.js sizes its empty KV cache from dims of that name only (any other becomes
    0), so its generate runs our graphs as they are (bench/transformers-generate.ts)."""
    from salmonn.onnx_export import dynamic_axes
    cfg, sd = tiny_llm
    out, _, _, _ = _export(tmp_path, cfg, sd, "q4")
    for graph in ("decoder_model_merged", "embed_tokens"):
        m = onnx.load(os.path.join(out, f"{graph}.onnx"), load_external_data=False)
        ports = list(m.graph.input) + list(m.graph.output)
        firsts = {p.name: p.type.tensor_type.shape.dim[0].dim_param for p in ports}
        assert set(firsts.values()) == {"batch_size"}, (graph, firsts)
        torch_axes = dynamic_axes(graph, cfg)
        assert {n: a[0] for n, a in torch_axes.items()} == {n: "batch_size" for n in torch_axes}, graph
