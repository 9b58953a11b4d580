"""Tiny q4 / q4f16 bundles (export.py --tiny --dtype q4|q4f16): manifest v2 fields, and every
golden run reproduced by onnxruntime-node through the bundle's own graphs (encoders, embed,
decoder), the same assembly code as golden.py; a --max-chunk-bytes export (several chunks per
graph) gives the same tokens."""
import json
import os

import numpy as np
import pytest
import torch

import export
import golden
from salmonn.ort import greedy as ort_greedy
from salmonn.ort import run_many
from salmonn.prompt import DEFAULT_PROMPT, prompt_ids

SEED = 0


@pytest.fixture(scope="module", params=["q4", "q4f16"])
def qbundle(request, tmp_path_factory):
    out = str(tmp_path_factory.mktemp(f"tiny_{request.param}"))
    assert export.main(["--tiny", "--seed", str(SEED), "--dtype", request.param, "--out", out]) == 0
    return request.param, out


def _manifest(b):
    with open(os.path.join(b, "bundle.json")) as f:
        return json.load(f)


class _OrtGraph:
    """A bundle graph as a callable on torch tensors (one onnxruntime-node call each)."""

    def __init__(self, path, inp, act=np.float32):
        self.path, self.inp, self.act = path, inp, act

    def __call__(self, x):
        a = x.numpy()
        out = list(run_many([(self.path, {self.inp: a if a.dtype != np.float32 else a.astype(np.float32)})])[0].values())[0]
        return torch.from_numpy(out.astype(np.float32))


def _ort_cases(bundle, cfg):
    """golden.py's cases with the bundle's graphs run by onnxruntime-node."""
    m = _manifest(bundle)
    dec = m["graphs"]["decoder_model_merged"]
    kv = np.float16 if dec["kvCache"]["dtype"] == "float16" else np.float32
    p = lambda n: os.path.join(bundle, m["graphs"][n]["path"])  # noqa: E731
    graphs = {"vision_encoder": _OrtGraph(p("vision_encoder"), "pixel_values"),
              "audio_encoder": _OrtGraph(p("audio_encoder"), "input_features"),
              "audio_aligner": _OrtGraph(p("audio_aligner"), "encoder_hidden_states"),
              "embed_tokens": _OrtGraph(p("embed_tokens"), "input_ids"), "decoder_model_merged": None}

    def greedy(_dec, _embed, emb, n, stop, *_penalty):  # only the legacy runs (no penalty) are compared below
        r = ort_greedy(p("decoder_model_merged"), p("embed_tokens"), emb.numpy(), n, cfg.layers, cfg.kv_heads,
                       cfg.head_dim, kv, stop)
        return {"ids": r["ids"], "margins": r["margins"], "stopped": bool(r["ids"] and r["ids"][-1] in stop)}

    saved = golden.greedy
    golden.greedy = greedy
    try:
        prompt = prompt_ids(DEFAULT_PROMPT)
        return [golden.synthetic_case("synthetic_4.5s", graphs, cfg, 40, 30, 10.0, 45, prompt),
                golden.synthetic_case("synthetic_31s", graphs, cfg, 40, 30, 2.0, 62, prompt)]
    finally:
        golden.greedy = saved


def test_manifest_fields(qbundle):
    dtype, b = qbundle
    m = _manifest(b)
    dec = m["graphs"]["decoder_model_merged"]
    assert dec["dtype"] == dtype and dec["logits"] == "last"
    assert dec["kvCache"] == {"dtype": "float16" if dtype == "q4f16" else "float32",
                              "layout": "batch,kv_heads,sequence,head_dim"}
    assert dec["inputs"] == {"inputs_embeds": "inputs_embeds", "attention_mask": "attention_mask",
                             "past_key": "past_key_values.{i}.key", "past_value": "past_key_values.{i}.value"}
    assert dec["outputs"] == {"logits": "logits", "present_key": "present.{i}.key", "present_value": "present.{i}.value"}
    assert [x["path"] for x in dec["externalData"]] == ["onnx/decoder_model_merged.onnx_data"]
    assert m["graphs"]["embed_tokens"]["dtype"] == dtype
    assert {m["graphs"][g]["dtype"] for g in ("vision_encoder", "audio_encoder", "audio_aligner")} == {"fp32"}
    assert m["generation"]["stopTokenIds"] == [151645]
    # largestTensorBytes (the preflight's maxBufferSize check): the largest initializer loaded as numpy
    import onnx
    from onnx import numpy_helper
    for g, e in m["graphs"].items():
        arrays = [numpy_helper.to_array(t, base_dir=os.path.join(b, "onnx"))
                  for t in onnx.load(os.path.join(b, e["path"]), load_external_data=False).graph.initializer]
        assert e["largestTensorBytes"] == max(a.nbytes for a in arrays), g
    # the 4-bit table (GatherBlockQuantized layout) is the embedding's largest tensor: V x ceil(H/32) x 16 bytes
    llm = m["llm"]
    assert m["graphs"]["embed_tokens"]["largestTensorBytes"] == llm["vocab"] * -(-llm["hidden"] // 32) * 16
    with open(os.path.join(b, "golden.json")) as f:
        g = json.load(f)
    assert g["reference"]["dtypes"]["decoder_model_merged"] == dtype


def test_golden_tokens_reproduced(qbundle):
    from salmonn.config import tiny_q4_config
    dtype, b = qbundle
    cfg = tiny_q4_config()
    with open(os.path.join(b, "golden.json")) as f:
        doc = json.load(f)
    gold = {c["name"]: c for c in doc["cases"]}
    tie = doc["reference"]["tieMargin"]
    assert tie == (0.05 if dtype == "q4f16" else 0.0)
    compared = 0
    for case in _ort_cases(b, cfg):
        ref = gold[case["name"]]
        assert case["audioFeatures"]["shape"] == ref["audioFeatures"]["shape"]
        for r, rr in zip(case["runs"], ref["runs"]):
            assert (r["modality"], r["interleave"]) == (rr["modality"], rr["interleave"])
            # q4 (float math): every id; q4f16: up to the first near-tie of the float32 reference
            n = next((i for i, mg in enumerate(rr["generated"]["margins"]) if mg < tie), len(rr["generated"]["ids"]))
            assert r["generated"]["ids"][:n] == rr["generated"]["ids"][:n], (dtype, case["name"], r["modality"],
                                                                           r["interleave"])
            compared += n
    assert compared >= (128 if dtype == "q4f16" else 8 * 32)  # 8 runs x 32 tokens in all


def test_small_chunks_same_tokens(qbundle, tmp_path):
    """--max-chunk-bytes 2.5 MB (the 4-bit token table alone is 2.43 MB): several chunks for the
    decoder and embed_tokens, same tokens."""
    dtype, b = qbundle
    out = str(tmp_path / "chunked")
    assert export.main(["--tiny", "--seed", str(SEED), "--dtype", dtype, "--max-chunk-bytes", "2500000",
                        "--no-golden", "--out", out]) == 0
    m = _manifest(out)
    for g in ("decoder_model_merged", "embed_tokens"):
        ext = [x["path"] for x in m["graphs"][g]["externalData"]]
        assert len(ext) >= 2 and ext[1] == f"onnx/{g}.onnx_data_1"
        assert all(x["bytes"] <= 2_500_000 for x in m["graphs"][g]["externalData"])
    from salmonn.config import tiny_q4_config
    cfg = tiny_q4_config()
    kv = np.float16 if dtype == "q4f16" else np.float32
    emb = np.random.default_rng(1).standard_normal((1, 30, cfg.hidden)).astype(np.float32)
    got = [ort_greedy(os.path.join(d, "onnx/decoder_model_merged.onnx"), os.path.join(d, "onnx/embed_tokens.onnx"),
                      emb, 16, cfg.layers, cfg.kv_heads, cfg.head_dim, kv)["ids"] for d in (b, out)]
    assert got[0] == got[1]
