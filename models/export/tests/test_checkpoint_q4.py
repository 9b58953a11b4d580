"""A small synthetic checkpoint in the released layout (bf16 shards, index, config.json,
generation_config.json) exported with --checkpoint --dtype q4 (4-bit encoders too): every
MatMulNBits weight of the bundle, dequantised, is within the quantisation error of the
checkpoint tensor of the same name; generation_config.json lands in the manifest; the
safetensors source reads what the reference reader reads."""
import json
import os

import numpy as np
import onnx

import export
from salmonn.checkpoint import read_checkpoint, write_sharded_checkpoint
from salmonn.config import tiny_q4_config
from salmonn.model import VideoSalmonn2
from salmonn.quant import dequantize_q4, quant_error_bound
from salmonn.weights import SafetensorsSource
from test_checkpoint import _qwen2_config


def test_q4_bundle_from_checkpoint(tmp_path):
    cfg = tiny_q4_config()
    src_model = VideoSalmonn2(cfg).init_random(11)
    ckpt = str(tmp_path / "ckpt")
    cj = _qwen2_config(cfg)
    cj["head_dim"] = cfg.head_dim  # 4 heads x 16 != hidden 32
    write_sharded_checkpoint(ckpt, dict(src_model.state_dict()), cj, shards=3)
    with open(os.path.join(ckpt, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": [151645, 151643], "repetition_penalty": 1.05, "max_new_tokens": 2048}, f)
    out = str(tmp_path / "bundle")
    assert export.main(["--checkpoint", ckpt, "--dtype", "q4", "--vision-dtype", "q4", "--audio-dtype", "q4",
                        "--out", out]) == 0
    with open(os.path.join(out, "bundle.json")) as f:
        man = json.load(f)
    assert man["generation"] == {"stopTokenIds": [151645, 151643], "maxNewTokens": 2048, "repetitionPenalty": 1.05}
    assert man["randomWeights"] is False and "golden" not in man
    assert {g: e["dtype"] for g, e in man["graphs"].items()} == {
        "vision_encoder": "q4", "audio_encoder": "q4", "audio_aligner": "q4", "embed_tokens": "q4",
        "decoder_model_merged": "q4"}

    ck = read_checkpoint(ckpt)  # the bf16 values, by the independent reader
    src = SafetensorsSource(ckpt)
    assert set(src.names()) == set(ck)
    w = "model.layers.1.mlp.up_proj.weight"
    assert np.array_equal(src.rows(w, 3, 9), np.asarray(ck[w])[3:9])
    seen = set()
    for g, e in man["graphs"].items():
        m = onnx.load(os.path.join(out, e["path"]))
        inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
        for node in m.graph.node:
            if node.op_type != "MatMulNBits":
                continue
            bname, sname = node.input[1], node.input[2]
            name = bname[: -len(".q4")]
            assert sname == name + ".scales" and name in ck, (g, bname)
            ref = np.asarray(ck[name], dtype=np.float32)
            k = {a.name: a.i for a in node.attribute}["K"]
            deq = dequantize_q4(inits[bname], inits[sname], k)
            assert deq.shape == ref.shape
            assert np.all(np.abs(deq - ref) <= quant_error_bound(ref) * (1 + 1e-6)), (g, name)
            seen.add(name)
    # every Linear of the LLM (+ lm_head) and of the encoders
    assert {n for n in ck if n.startswith("model.layers.") and n.endswith("_proj.weight")} <= seen
    assert "lm_head.weight" in seen
    assert "speech_encoder.layers.1.fc2.weight" in seen and "final_linear.2.weight" in seen
    assert "model.vision_tower.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight" in seen
