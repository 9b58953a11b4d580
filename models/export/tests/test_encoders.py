"""Encoder graphs from a weight source (salmonn/encoders_onnx.py): fp32 equals the PyTorch
module, including the layers copied in the graph beyond the 2 traced ones; fp16 compute and
4-bit weights drift by measured amounts; initializers carry the checkpoint names."""
import dataclasses
import os

import numpy as np
import onnx
import pytest
import torch

from salmonn.config import tiny_config
from salmonn.encoders_onnx import ENCODERS, encoder_effective_fn, export_encoder
from salmonn.model import VideoSalmonn2
from salmonn.ort import run_many
from salmonn.weights import DictSource

INPUT = {"vision_encoder": "pixel_values", "audio_encoder": "input_features", "audio_aligner": "encoder_hidden_states"}


@pytest.fixture(scope="module")
def deep_tiny():
    # more layers than are traced (2): the rest are copied inside the ONNX graph
    cfg = dataclasses.replace(tiny_config(), vision_layers=5, audio_layers=4)
    model = VideoSalmonn2(cfg).init_random(3)
    gen = torch.Generator().manual_seed(1)
    x = {"vision_encoder": torch.randn(3, 3, cfg.image_size, cfg.image_size, generator=gen),
         "audio_encoder": torch.randn(2, cfg.num_mels, cfg.mel_frames, generator=gen),
         "audio_aligner": torch.randn(2, cfg.encoder_frames, cfg.audio_hidden, generator=gen)}
    return cfg, model, {k: v.numpy() for k, v in model.state_dict().items()}, x


def _export_all(tmp, cfg, sd, dtype):
    out = str(tmp / dtype)
    os.makedirs(out)
    for g in ENCODERS:
        export_encoder(g, cfg, DictSource(sd), out, dtype)
    return out


def _run(out, x):
    runs = [(os.path.join(out, f"{g}.onnx"), {INPUT[g]: x[g].numpy()}) for g in ENCODERS]
    return {g: list(r.values())[0] for g, r in zip(ENCODERS, run_many(runs))}


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@torch.no_grad()
def test_fp32_equals_module(tmp_path, deep_tiny):
    cfg, model, sd, x = deep_tiny
    out = _export_all(tmp_path, cfg, sd, "fp32")
    got = _run(out, x)
    g = model.graphs()
    for name in ENCODERS:
        ref = g[name](x[name]).numpy()
        assert got[name].dtype == np.float32 and got[name].shape == ref.shape
        assert np.abs(got[name] - ref).max() <= 1e-4, name
    m = onnx.load(os.path.join(out, "audio_encoder.onnx"), load_external_data=False)
    names = {i.name for i in m.graph.initializer}
    assert {f"speech_encoder.layers.{j}.fc1.weight" for j in range(4)} <= names
    assert names <= set(sd), names - set(sd)


@torch.no_grad()
@pytest.mark.parametrize("dtype,limit", [("fp16", 2e-3), ("q4", 0.03), ("q4f16", 0.03)])
def test_reduced_dtypes_against_same_weights(tmp_path, deep_tiny, dtype, limit):
    """Against the module holding the same (4-bit round-trip / fp16) weights: the remaining
    difference is the compute (fp16 activations; int8 activations of accuracy_level 4)."""
    cfg, model, sd, x = deep_tiny
    out = _export_all(tmp_path, cfg, sd, dtype)
    got = _run(out, x)
    fn = encoder_effective_fn(cfg, {g: dtype for g in ENCODERS})
    ref_m = VideoSalmonn2(cfg)
    ref_m.load_state_dict({k: torch.from_numpy(fn(k, v)) for k, v in sd.items()})
    g = ref_m.eval().graphs()
    for name in ENCODERS:
        ref = g[name](x[name]).numpy()
        assert got[name].dtype == np.float32  # graph I/O stays float32
        assert _rel(got[name], ref) <= limit, (name, _rel(got[name], ref))
    if dtype.startswith("q4"):
        m = onnx.load(os.path.join(out, "vision_encoder.onnx"), load_external_data=False)
        ops = [n.op_type for n in m.graph.node]
        assert ops.count("MatMulNBits") == 6 * 5 + 2  # q/k/v/out/fc1/fc2 per layer + projector
