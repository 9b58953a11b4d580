"""Every ONNX graph (run by onnxruntime-node) equals its PyTorch module, fp32, <= 1e-4."""
import os

import numpy as np
import torch

from salmonn.ort import run_many

TOL = 1e-4


def _graph(bundle, name):
    return os.path.join(bundle, "onnx", f"{name}.onnx")


def _decoder_feeds(cfg, emb, mask, pos, past):
    f = {"inputs_embeds": emb.numpy(), "attention_mask": mask.numpy(), "position_ids": pos.numpy()}
    for i in range(cfg.layers):
        f[f"past_key_values.{i}.key"] = past[2 * i].numpy()
        f[f"past_key_values.{i}.value"] = past[2 * i + 1].numpy()
    return f


def _maxdiff(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


@torch.no_grad()
def test_encoders_match_torch(tiny_bundle, tiny_model):
    cfg, g = tiny_model.cfg, tiny_model.graphs()
    gen = torch.Generator().manual_seed(1)
    cases = []
    for f in (1, 3, 5):
        x = torch.randn(f, 3, cfg.image_size, cfg.image_size, generator=gen)
        cases.append(("vision_encoder", {"pixel_values": x}, g["vision_encoder"](x)))
    for w in (1, 2):
        x = torch.randn(w, cfg.num_mels, cfg.mel_frames, generator=gen)
        cases.append(("audio_encoder", {"input_features": x}, g["audio_encoder"](x)))
    for w in (1, 3):
        x = torch.randn(w, cfg.encoder_frames, cfg.audio_hidden, generator=gen)
        cases.append(("audio_aligner", {"encoder_hidden_states": x}, g["audio_aligner"](x)))
    for shape in ((1, 1), (1, 7), (2, 5)):
        ids = torch.randint(0, cfg.vocab, shape, generator=gen)
        cases.append(("embed_tokens", {"input_ids": ids}, g["embed_tokens"](ids)))
    res = run_many([(_graph(tiny_bundle, n), {k: v.numpy() for k, v in feeds.items()}) for n, feeds, _ in cases])
    for (name, feeds, ref), out in zip(cases, res):
        got = list(out.values())[0]
        assert got.shape == tuple(ref.shape), name
        assert _maxdiff(got, ref) <= TOL, (name, _maxdiff(got, ref))
    shapes = {n: tuple(r.shape) for n, _, r in cases}
    assert shapes["vision_encoder"][1:] == (cfg.tokens_per_frame, cfg.hidden)
    assert shapes["audio_aligner"] == (3 * cfg.tokens_per_window, cfg.hidden)


@torch.no_grad()
def test_decoder_matches_torch(tiny_bundle, tiny_model):
    cfg, g = tiny_model.cfg, tiny_model.graphs()
    dec = g["decoder_model_merged"]
    gen = torch.Generator().manual_seed(2)
    cases = []
    for b, past_len, s, pad in ((1, 0, 6, 0), (1, 4, 1, 0), (2, 3, 2, 1), (1, 5, 3, 0)):
        emb = torch.randn(b, s, cfg.hidden, generator=gen)
        past = [torch.randn(b, cfg.kv_heads, past_len, cfg.head_dim, generator=gen) for _ in range(2 * cfg.layers)]
        mask = torch.ones(b, past_len + s, dtype=torch.long)
        if pad:
            mask[1, :pad] = 0  # left padding of the second row
        pos = torch.arange(past_len, past_len + s).unsqueeze(0).expand(b, s).contiguous()
        ref = dec(emb, mask, pos, *past)
        cases.append((_decoder_feeds(cfg, emb, mask, pos, past), ref))
    res = run_many([(_graph(tiny_bundle, "decoder_model_merged"), f) for f, _ in cases])
    for (feeds, ref), out in zip(cases, res):
        assert out["logits"].shape == tuple(ref[0].shape)
        assert _maxdiff(out["logits"], ref[0]) <= TOL
        for i in range(cfg.layers):
            assert _maxdiff(out[f"present.{i}.key"], ref[1 + 2 * i]) <= TOL
            assert _maxdiff(out[f"present.{i}.value"], ref[2 + 2 * i]) <= TOL


@torch.no_grad()
def test_kv_cache_equals_prefill(tiny_bundle, tiny_model):
    """Prefill of 7 tokens == prefill of 4 + three single-token steps, in torch and in ORT."""
    cfg, g = tiny_model.cfg, tiny_model.graphs()
    dec = g["decoder_model_merged"]
    emb = torch.randn(1, 7, cfg.hidden, generator=torch.Generator().manual_seed(3))
    full = dec(emb, torch.ones(1, 7, dtype=torch.long), torch.arange(7)[None], *dec.empty_past())
    path = _graph(tiny_bundle, "decoder_model_merged")
    # torch, step by step
    out = dec(emb[:, :4], torch.ones(1, 4, dtype=torch.long), torch.arange(4)[None], *dec.empty_past())
    ort_past = [p.numpy() for p in dec.empty_past()]
    ort_out = run_many([(path, _decoder_feeds(cfg, emb[:, :4], torch.ones(1, 4, dtype=torch.long),
                                              torch.arange(4)[None], dec.empty_past()))])[0]
    step_logits, ort_logits = [out[0][:, -1]], [ort_out["logits"][:, -1]]
    past = out[1:]
    ort_past = [torch.from_numpy(ort_out[f"present.{i // 2}.{'key' if i % 2 == 0 else 'value'}"]) for i in range(2 * cfg.layers)]
    for t in range(4, 7):
        m = torch.ones(1, t + 1, dtype=torch.long)
        p = torch.tensor([[t]])
        out = dec(emb[:, t:t + 1], m, p, *past)
        past = out[1:]
        step_logits.append(out[0][:, -1])
        o = run_many([(path, _decoder_feeds(cfg, emb[:, t:t + 1], m, p, ort_past))])[0]
        ort_logits.append(o["logits"][:, -1])
        ort_past = [torch.from_numpy(o[f"present.{i // 2}.{'key' if i % 2 == 0 else 'value'}"]) for i in range(2 * cfg.layers)]
    for j, t in enumerate(range(3, 7)):
        assert _maxdiff(step_logits[j], full[0][:, t]) <= TOL
        assert _maxdiff(ort_logits[j], full[0][:, t]) <= TOL
    for a, b in zip(past, full[1:]):
        assert _maxdiff(a, b) <= TOL
    for a, b in zip(ort_past, full[1:]):
        assert _maxdiff(a, b) <= TOL
