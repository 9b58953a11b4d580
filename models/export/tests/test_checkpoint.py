"""A tiny random checkpoint in the released file layout (sharded bf16 safetensors, index
json, config.json, the checkpoint's weight names) exports through --checkpoint and the
graphs match the PyTorch modules loaded from it."""
import dataclasses
import json
import os

import numpy as np
import torch

import export
from salmonn.checkpoint import (bf16_to_f32, f32_to_bf16, read_checkpoint, read_safetensors,
                                write_safetensors, write_sharded_checkpoint)
from salmonn.config import tiny_config
from salmonn.model import VideoSalmonn2
from salmonn.ort import run_many


def test_bf16_roundtrip(tmp_path):
    x = np.array([1.0, -2.5, 3.1415927, 1e-8, 65504.0, 0.0], np.float32)
    b = bf16_to_f32(f32_to_bf16(x))
    assert np.allclose(b, x, rtol=1 / 128)
    assert np.array_equal(bf16_to_f32(f32_to_bf16(b)), b)
    p = str(tmp_path / "a.safetensors")
    write_safetensors(p, {"w": x.reshape(2, 3)})
    assert np.array_equal(read_safetensors(p)["w"], b.reshape(2, 3))


def _qwen2_config(cfg):
    return {
        "architectures": ["VideoSALMONN2ForCausalLM"], "model_type": "video_salmonn_2",
        "hidden_size": cfg.hidden, "intermediate_size": cfg.intermediate, "num_hidden_layers": cfg.layers,
        "num_attention_heads": cfg.heads, "num_key_value_heads": cfg.kv_heads, "vocab_size": cfg.vocab,
        "rope_theta": cfg.rope_theta, "rms_norm_eps": cfg.rms_eps, "max_position_embeddings": cfg.max_positions,
        "tie_word_embeddings": cfg.tie_embeddings, "torch_dtype": "bfloat16",
        "mm_projector_type": "mlp2x_gelu", "mm_hidden_size": cfg.vision_hidden, "mm_spatial_pool_stride": 2,
        "mm_spatial_pool_mode": "max", "mm_pooling_position": "after", "mm_newline_position": "grid",
        "mm_patch_merge_type": "spatial_unpad",
        # head counts cannot be read from weight shapes; the real checkpoint uses the defaults
        "salmonn_export": {"vision_heads": cfg.vision_heads, "audio_heads": cfg.audio_heads,
                           "qformer_heads": cfg.qformer_heads,
                           # the files below also store one more SigLIP layer (like a full 27-layer tower)
                           "vision_layers": cfg.vision_layers},
    }


def test_checkpoint_export(tmp_path):
    # tied embeddings here (Qwen2-0.5B style); the tiny bundle covers the untied 7B style
    cfg = dataclasses.replace(tiny_config(), tie_embeddings=True, vocab=151936)
    src = VideoSalmonn2(cfg).init_random(7)
    state = dict(src.state_dict())
    # extras the real files carry and the export must skip
    vt = "model.vision_tower.vision_tower.vision_model."
    state[vt + "post_layernorm.weight"] = torch.ones(cfg.vision_hidden)
    state[vt + "post_layernorm.bias"] = torch.zeros(cfg.vision_hidden)
    for k, v in list(src.state_dict().items()):  # a stored last SigLIP layer beyond the used ones
        if k.startswith(vt + "encoder.layers.0."):
            state[k.replace("layers.0.", f"layers.{cfg.vision_layers}.")] = v
    ckpt = str(tmp_path / "ckpt")
    write_sharded_checkpoint(ckpt, state, _qwen2_config(cfg), shards=3)
    assert len([f for f in os.listdir(ckpt) if f.endswith(".safetensors")]) == 3
    with open(os.path.join(ckpt, "model.safetensors.index.json")) as f:
        assert set(json.load(f)["weight_map"]) == set(state)

    out = str(tmp_path / "bundle")
    assert export.main(["--checkpoint", ckpt, "--out", out]) == 0
    model = export.load_checkpoint_model(ckpt)
    assert model.cfg.tie_embeddings and model.cfg.vision_layers == cfg.vision_layers
    assert dataclasses.asdict(model.cfg) == dataclasses.asdict(cfg)
    # weights equal the bf16-rounded originals
    for k, v in model.state_dict().items():
        ref = bf16_to_f32(f32_to_bf16(src.state_dict()[k].numpy()))
        assert np.array_equal(v.numpy(), ref), k
    with open(os.path.join(out, "bundle.json")) as f:
        man = json.load(f)
    assert man["randomWeights"] is False and man["llm"]["tieEmbeddings"] is True and "golden" not in man

    g = model.graphs()
    gen = torch.Generator().manual_seed(5)
    pv = torch.randn(2, 3, cfg.image_size, cfg.image_size, generator=gen)
    mel = torch.randn(1, cfg.num_mels, cfg.mel_frames, generator=gen)
    enc = torch.randn(2, cfg.encoder_frames, cfg.audio_hidden, generator=gen)
    ids = torch.randint(0, cfg.vocab, (1, 4), generator=gen)
    emb = torch.randn(1, 5, cfg.hidden, generator=gen)
    feeds = {"inputs_embeds": emb.numpy(), "attention_mask": np.ones((1, 5), np.int64),
             "position_ids": np.arange(5, dtype=np.int64)[None]}
    for i in range(cfg.layers):
        feeds[f"past_key_values.{i}.key"] = np.zeros((1, cfg.kv_heads, 0, cfg.head_dim), np.float32)
        feeds[f"past_key_values.{i}.value"] = np.zeros((1, cfg.kv_heads, 0, cfg.head_dim), np.float32)
    p = lambda n: os.path.join(out, "onnx", f"{n}.onnx")  # noqa: E731
    res = run_many([(p("vision_encoder"), {"pixel_values": pv.numpy()}),
                    (p("audio_encoder"), {"input_features": mel.numpy()}),
                    (p("audio_aligner"), {"encoder_hidden_states": enc.numpy()}),
                    (p("embed_tokens"), {"input_ids": ids.numpy()}),
                    (p("decoder_model_merged"), feeds)])
    with torch.no_grad():
        refs = [g["vision_encoder"](pv), g["audio_encoder"](mel), g["audio_aligner"](enc), g["embed_tokens"](ids),
                g["decoder_model_merged"](emb, torch.ones(1, 5, dtype=torch.long), torch.arange(5)[None],
                                          *g["decoder_model_merged"].empty_past())[0]]
    for r, ref in zip(res, refs):
        got = r["logits"] if "logits" in r else list(r.values())[0]
        assert np.abs(got - ref.numpy()).max() <= 1e-4
    assert read_checkpoint(ckpt).keys() == state.keys()


def test_external_data_export(tmp_path, tiny_model):
    """The >2 GB path (one <graph>.onnx.data file) forced on a small graph, fp32 and fp16."""
    from salmonn.onnx_export import export_graph
    cfg = tiny_model.cfg
    g = tiny_model.graphs()["vision_encoder"]
    x = torch.randn(2, 3, cfg.image_size, cfg.image_size, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        ref = g(x).numpy()
    runs = []
    for dt in ("fp32", "fp16"):
        path = str(tmp_path / dt / "vision_encoder.onnx")
        ext = export_graph(g, "vision_encoder", cfg, path, dt, force_external=True)
        assert ext == ["vision_encoder.onnx.data"] and os.path.getsize(path + ".data") > 0
        runs.append((path, {"pixel_values": x.numpy()}))
    r32, r16 = run_many(runs)
    assert np.abs(r32["image_features"] - ref).max() <= 1e-4
    assert np.abs(r16["image_features"] - ref).max() <= 5e-2
