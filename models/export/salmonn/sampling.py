"""Frame sampling (PIPELINE §1, checkpoint rule) and the sampling presets."""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import numpy as np

# PIPELINE §1 sampling presets (the TS side: src/core/media/plan.ts SAMPLING_PRESETS).
# paper: <= 30 frames at 1 frame/s (the paper; the app's default).
# checkpoint: every released script passes --max_time 110 --fps 1
#   (bytedance/video-SALMONN-2 scripts/demo.sh:25-26, eval.sh:31-32, train_sft.sh:26,
#   train_dpo.sh:21) and av_dataset.py:52 sets max_frame_num = round(max_time * video_fps).
SAMPLING_PRESETS: Dict[str, Dict[str, float]] = {
    "paper": {"fps": 1.0, "max_time": 30.0, "max_frames": 30},
    "checkpoint": {"fps": 1.0, "max_time": 110.0, "max_frames": 110},
}
DEFAULT_SAMPLING_PRESET = "paper"


def resolve_sampling(preset: str = DEFAULT_SAMPLING_PRESET, fps: Optional[float] = None,
                     max_frames: Optional[int] = None) -> Dict:
    """{preset, fps, max_frames, max_time}. checkpoint: m = round(max_time * fps) with
    max_time 110 s; paper: m = 30, max_time = m / fps; an explicit max_frames wins
    (max_time = m / fps)."""
    p = SAMPLING_PRESETS[preset]
    f = float(p["fps"] if fps is None else fps)
    if max_frames is not None:
        return {"preset": preset, "fps": f, "max_frames": int(max_frames), "max_time": max_frames / f}
    if preset == "checkpoint":
        return {"preset": preset, "fps": f, "max_frames": max(1, round(p["max_time"] * f)), "max_time": p["max_time"]}
    return {"preset": preset, "fps": f, "max_frames": int(p["max_frames"]), "max_time": p["max_frames"] / f}


def sample_frame_indices(n_frames: int, src_fps: float, fps: float = 1.0, max_frames: int = 30,
                         min_frames: int = 2) -> List[int]:
    """r = max(round(src_fps / fps), 1); indices 0, r, 2r, ... < N; if more than m:
    floor(linspace(0, N-1, m)) (av_dataset.py:101-109). Fewer than min_frames (the
    checkpoint asserts >= 2, av_dataset.py:125): repeat the last index. (The app,
    src/core/media/plan.ts, takes floor(linspace(0, N-1, min_frames)) there instead; no
    golden case is that short.)"""
    r = max(int(round(src_fps / fps)), 1)  # Python round: half to even
    idx = list(range(0, n_frames, r))
    if len(idx) > max_frames:
        idx = [int(math.floor(v)) for v in np.linspace(0, n_frames - 1, max_frames)]
    while len(idx) < min_frames:
        idx.append(idx[-1] if idx else 0)
    return idx
