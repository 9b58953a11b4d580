"""The released checkpoint's run set-up (issue 13), against tables worked out by hand from
the rules in PIPELINE §1, §3, §5 and the official code (file:line in models/README.md)."""
import numpy as np
import pytest
import torch

from salmonn.features import prepare_audio, select_channel, split_windows
from salmonn.generate import OFFICIAL_PENALTY_SCOPE, generation_settings, greedy, repetition_penalty
from salmonn.interleave import assemble, time_token_texts, video_only_plan
from salmonn.prompt import DEFAULT_PROMPT_VARIANT, apply_prompt_variant, time_token_ids
from salmonn.sampling import DEFAULT_SAMPLING_PRESET, resolve_sampling, sample_frame_indices


# ---------------------------------------------------------------- sampling presets (§1)
def test_presets():
    assert DEFAULT_SAMPLING_PRESET == "paper"
    assert resolve_sampling("paper") == {"preset": "paper", "fps": 1.0, "max_frames": 30, "max_time": 30.0}
    # checkpoint: max_time 110 s, m = round(110 * 1) = 110; at fps 2: round(220) = 220; 0.25: round(27.5) = 28
    assert resolve_sampling("checkpoint") == {"preset": "checkpoint", "fps": 1.0, "max_frames": 110, "max_time": 110.0}
    assert resolve_sampling("checkpoint", fps=2)["max_frames"] == 220
    assert resolve_sampling("checkpoint", fps=0.25)["max_frames"] == 28
    assert resolve_sampling("paper", fps=2)["max_time"] == 15.0


def _idx(preset, seconds, src_fps):
    s = resolve_sampling(preset)
    return sample_frame_indices(int(seconds * src_fps), src_fps, s["fps"], s["max_frames"])


def test_frame_indices_both_presets():
    # 4.5 s at 10 fps: N = 45, r = 10 -> 5 candidates, under both caps
    assert _idx("paper", 4.5, 10) == _idx("checkpoint", 4.5, 10) == [0, 10, 20, 30, 40]
    # 31 s at 25 fps: N = 775, r = 25 -> 31 candidates; paper: linspace(0, 774, 30),
    # 774/29 = 26 + 20/29 -> 0, 26, 53, 80, ..., 774; checkpoint keeps 0, 25, ..., 750
    p = _idx("paper", 31, 25)
    assert len(p) == 30 and p[:4] == [0, 26, 53, 80] and p[-1] == 774
    assert _idx("checkpoint", 31, 25) == [25 * k for k in range(31)]
    # 120 s at 30 fps: N = 3600, r = 30 -> 120 candidates, over both caps
    # paper: 3599/29 = 124 + 3/29 -> 124k + (0 if k <= 9 else 1 if k <= 19 else 2), k = 29 -> 3599
    assert _idx("paper", 120, 30) == [3599 if k == 29 else 124 * k + (0 if k <= 9 else 1 if k <= 19 else 2)
                                      for k in range(30)]
    # checkpoint: 3599/109 = 33 + 2/109 -> 33k + (0 if k <= 54 else 1), k = 109 -> 3599
    assert _idx("checkpoint", 120, 30) == [3599 if k == 109 else 33 * k + (0 if k <= 54 else 1) for k in range(110)]


# ---------------------------------------------------------------- time tokens (§1)
@pytest.mark.parametrize("real_time,frames,texts", [
    (10.0, 10, ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "9.0", "10.0"]),  # T/F = 1
    (4.5, 5, ["0.9", "1.8", "2.7", "3.6", "4.5"]),  # T/F = 0.9
    (0.5, 2, ["0.2", "0.5"]),  # 0.25: an exact tie -> even
    (0.75, 2, ["0.4", "0.8"]),  # 0.375 -> 0.4; 0.75 tie -> 0.8
    (0.3, 2, ["0.1", "0.3"]),  # 0.3/2 = 0.14999999999999999445 -> 0.1
    (0.7, 2, ["0.3", "0.7"]),  # 0.7/2 = 0.34999999999999997780 -> 0.3
    (7200.0, 30, ["240.0", "480.0", "720.0"]),  # first three only
])
def test_time_token_texts(real_time, frames, texts):
    assert time_token_texts(real_time, frames)[:len(texts)] == texts


def test_time_token_rows_and_zero_padding():
    # Qwen byte ids: "." = 13, digit d = 15 + d; "10.0" = 16 15 13 15 (4), "9.0" = 24 13 15 (3)
    texts = time_token_texts(10.0, 10)
    ids = time_token_ids(texts)
    assert ids[8] == [24, 13, 15] and ids[9] == [16, 15, 13, 15]
    plan = video_only_plan(10, 12, ids, texts)
    assert plan["timeTokenWidth"] == 4
    assert [s["timeTokens"]["zeroRows"] for s in plan["segments"]] == [1] * 9 + [0]
    # assemble: frame f = [12 visual][ids embedded][zero rows]; a fake embedding id -> [id, id]
    img = torch.arange(10 * 12 * 2, dtype=torch.float32).view(10, 12, 2) + 1000.0
    fake_embed = lambda t: t.to(torch.float32).unsqueeze(-1).expand(*t.shape, 2)  # noqa: E731
    av = assemble(plan, img, None, fake_embed)
    assert av.shape == (10 * (12 + 4), 2)  # 160 rows
    f0 = av[:16]
    assert torch.equal(f0[:12], img[0])
    assert f0[12:15, 0].tolist() == [16.0, 13.0, 15.0] and f0[15].tolist() == [0.0, 0.0]  # "1.0" + 1 zero row
    f9 = av[9 * 16:]
    assert f9[12:, 0].tolist() == [16.0, 15.0, 13.0, 15.0]  # "10.0", no zero row


# ---------------------------------------------------------------- audio (§3)
@pytest.mark.parametrize("seconds,preset,total,windows", [
    (0.4, "paper", 16000, 1),  # padded to 1 s first
    (45, "paper", 480000, 1),  # cut to 16000 * 30
    (45, "checkpoint", 720000, 2),  # 480000 + 240000
    (200, "checkpoint", 1760000, 4),  # 16000 * 110 = 3 * 480000 + 320000
])
def test_audio_only_cut_to_max_time(seconds, preset, total, windows):
    a = prepare_audio(np.ones(int(seconds * 16000), np.float32), None, 16000, resolve_sampling(preset)["max_time"])
    assert a.shape[0] == total and len(split_windows(a)) == windows


def test_video_audio_cut_to_real_time_after_padding():
    # pad to 1 s, then cut to round(16000 * 0.4) = 6400 (av_dataset.py:150-155)
    assert prepare_audio(np.ones(6400, np.float32), 0.4).shape[0] == 6400
    assert prepare_audio(np.ones(200 * 16000, np.float32), 12.0, max_time=30).shape[0] == 192000


def test_channel_choice():
    st = np.array([[0.5, 0.25], [-0.25, 0.75], [1.0, -1.0]], np.float32)  # [n, 2]: L, R
    assert select_channel(st).tolist() == [0.5, -0.25, 1.0]  # channel 0 (default)
    assert select_channel(st, "mix").tolist() == [0.375, 0.25, 0.0]  # (L + R) / 2
    assert select_channel(st[:, 0]).tolist() == [0.5, -0.25, 1.0]  # mono unchanged


# ---------------------------------------------------------------- prompt variants (§5)
def test_prompt_variants_hand_ids():
    q = [38, 39]  # any question ids
    before = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]
    after = [198, 198] + q + [151645, 198, 151644, 77091, 198]
    assert DEFAULT_PROMPT_VARIANT == "official"
    assert apply_prompt_variant({"before": before, "after": after}, "training") == {"before": before, "after": after}
    assert apply_prompt_variant({"before": before, "after": after}, "official") == {
        "before": [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 198, 151644, 872, 198],
        "after": [198, 198, 38, 39, 198, 151644, 77091, 198]}
    with pytest.raises(ValueError):
        apply_prompt_variant({"before": [], "after": []}, "raw")


# ---------------------------------------------------------------- decoding (§5)
def test_repetition_penalty_small_example():
    # [2, -2, 0.5, -0.5, 3, 0], ids 0 1 1 3 5, p = 2: 2/2 = 1, -2*2 = -4 (once), -0.5*2 = -1, 0/2 = 0
    s = repetition_penalty(torch.tensor([[2.0, -2.0, 0.5, -0.5, 3.0, 0.0]]), torch.tensor([[0, 1, 1, 3, 5]]), 2.0)
    assert s.tolist() == [[1.0, -4.0, 0.5, -1.0, 3.0, 0.0]]


class _FixedLogits:
    """A decoder stub: every step's logits are [5, 4.5, 1]."""

    def empty_past(self, b):
        return []

    def __call__(self, x, mask, pos, *past):
        return (torch.tensor([5.0, 4.5, 1.0]).expand(x.shape[0], x.shape[1], 3).clone(),)


def test_greedy_with_penalty():
    embed = lambda t: torch.zeros(*t.shape, 2)  # noqa: E731
    x = torch.zeros(1, 3, 2)
    # p = 1: always 0
    assert greedy(_FixedLogits(), embed, x, 4, [99])["ids"] == [0, 0, 0, 0]
    # p = 1.25, scope "generated" (the official): step 1 nothing covered -> 0; step 2: 5/1.25 = 4 < 4.5 -> 1;
    # step 3 on: 4 vs 4.5/1.25 = 3.6 -> 0
    assert OFFICIAL_PENALTY_SCOPE == "generated"
    assert greedy(_FixedLogits(), embed, x, 4, [99], 1.25)["ids"] == [0, 1, 0, 0]
    # scope "prompt+generated" with prompt id 0: step 1: 4 < 4.5 -> 1; then 4 vs 3.6 -> 0
    assert greedy(_FixedLogits(), embed, x, 4, [99], 1.25, "prompt+generated", [0])["ids"] == [1, 0, 0, 0]
    # eos ids stop: 1 is an eos id -> stops at step 2
    g = greedy(_FixedLogits(), embed, x, 4, [99, 1], 1.25)
    assert g["ids"] == [0, 1] and g["stopped"]


def test_generation_settings():
    assert generation_settings({"eos_token_id": [151645, 151643], "repetition_penalty": 1.05}) == {
        "repetitionPenalty": 1.05, "eosTokenIds": [151645, 151643]}
    assert generation_settings({"eos_token_id": 151645}) == {"repetitionPenalty": 1.0, "eosTokenIds": [151645]}
    assert generation_settings(None) == {"repetitionPenalty": 1.0, "eosTokenIds": []}
