"""Token layout: pooled vision grid, audio token counts, segment PE, interleaving."""
import math

import numpy as np
import pytest
import torch

from salmonn.audio import segment_position_table
from salmonn.config import audio_token_count, real_config, tiny_config
from salmonn.features import prepare_audio, split_windows
from salmonn.interleave import spread_plan, timestamp_plan
from salmonn.sampling import sample_frame_indices
from salmonn.vision import pool_and_newline


@pytest.mark.parametrize("cfg,expect", [(real_config(), (27, 13, 182)), (tiny_config(), (7, 3, 12))])
def test_pooled_layout(cfg, expect):
    grid, pooled, tokens = expect
    assert (cfg.grid, cfg.pooled_grid, cfg.tokens_per_frame) == expect
    h = 5
    feat = torch.randn(2, grid * grid, h)
    nl = torch.full((h,), 1234.0)
    out = pool_and_newline(feat, nl, grid, 2)
    assert out.shape == (2, tokens, h)
    rows = out.reshape(2, pooled, pooled + 1, h)
    assert torch.all(rows[:, :, -1] == 1234.0)  # newline after every pooled row
    g = feat.reshape(2, grid, grid, h)
    for (r, c) in [(0, 0), (pooled - 1, pooled - 1), (1, pooled // 2)]:
        block = g[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2].reshape(2, 4, h).max(dim=1).values
        assert torch.equal(rows[:, r, c], block)  # 2x2 max, row-major; last odd row/col dropped


@pytest.mark.parametrize("seconds", [0.5, 1, 10, 30, 30.5, 61])
def test_audio_token_counts(seconds):
    cfg = real_config()
    assert cfg.frames_per_token == 25 and cfg.tokens_per_window == 60
    expect = 60 * math.ceil(max(seconds, 1.0) / 30)
    assert audio_token_count(seconds, cfg) == expect
    a = prepare_audio(np.zeros(int(seconds * 16000) + 16000, np.float32), seconds)
    assert len(split_windows(a, cfg.window_samples)) * cfg.tokens_per_window == expect


def test_tiny_aligner_tokens(tiny_model):
    cfg = tiny_model.cfg
    assert (cfg.frames_per_token, cfg.tokens_per_window, cfg.encoder_frames, cfg.mel_frames) == (25, 60, 1500, 3000)
    with torch.no_grad():
        out = tiny_model.graphs()["audio_aligner"](torch.randn(2, 1500, cfg.audio_hidden))
    assert out.shape == (120, cfg.hidden)


def test_segment_pe():
    h = 3584
    t = segment_position_table(4, h).numpy()
    assert np.all(t[0] == 0)
    assert np.allclose(t[1, 0::2], 0) and np.allclose(t[1, 1::2], 1)
    k = np.arange(h // 2)
    ang = 2.0 * 10000.0 ** (-2 * k / h)
    assert np.allclose(t[3, 0::2], np.sin(ang), atol=1e-6) and np.allclose(t[3, 1::2], np.cos(ang), atol=1e-6)


def test_aligner_adds_pe_per_window(tiny_model):
    """Window j of one call gets row j: identical windows differ exactly by the PE rows."""
    cfg = tiny_model.cfg
    x = torch.randn(1, 1500, cfg.audio_hidden).repeat(3, 1, 1)
    with torch.no_grad():
        y = tiny_model.graphs()["audio_aligner"](x).reshape(3, 60, cfg.hidden)
    pe = segment_position_table(3, cfg.hidden)
    assert torch.allclose(y[1] - y[0], pe[1].expand(60, -1), atol=1e-5)
    assert torch.allclose(y[2] - y[0], pe[2].expand(60, -1), atol=1e-5)


def test_frame_sampling():
    assert sample_frame_indices(45, 10.0) == [0, 10, 20, 30, 40]
    idx = sample_frame_indices(62, 2.0)
    assert len(idx) == 30 and idx[0] == 0 and idx[-1] == 61
    assert idx == [int(math.floor(v)) for v in np.linspace(0, 61, 30)]
    assert sample_frame_indices(5, 30.0) == [0, 0]  # at least 2 frames


def test_spread_and_timestamp_plans():
    sp = spread_plan(7, 12, 60, 4.5)  # 60 % 7 -> stretched to 63, k = 9
    assert [s["audioTokens"] for s in sp["segments"]] == [9] * 7 and sp["trailingAudio"] == []
    flat = sum((s["audioIndices"] for s in sp["segments"]), [])
    assert flat == [(d * 60) // 63 for d in range(63)]
    sp = spread_plan(5, 12, 60, 30.0)
    assert [s["audioTokens"] for s in sp["segments"]] == [12] * 5
    ts = timestamp_plan([0, 1, 2, 3, 4], 12, 60, 4.5, 0.5)
    assert [s["audioIndices"] for s in ts["segments"]] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    ts = timestamp_plan([0.5, 2.0], 12, 60, 3.0, 0.5)  # tokens before the first frame go after frame 0
    assert [s["audioIndices"] for s in ts["segments"]] == [[0, 1, 2, 3], [4, 5]]
