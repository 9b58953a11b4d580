"""Frame sampling (PIPELINE §1, checkpoint rule)."""
from __future__ import annotations

import math
from typing import List

import numpy as np


def sample_frame_indices(n_frames: int, src_fps: float, fps: float = 1.0, max_frames: int = 30,
                         min_frames: int = 2) -> List[int]:
    """r = max(round(src_fps / fps), 1); indices 0, r, 2r, ... < N; if more than m:
    floor(linspace(0, N-1, m)); fewer than min_frames: repeat the last index."""
    r = max(int(round(src_fps / fps)), 1)  # Python round: half to even (src_fps/fps is rarely .5)
    idx = list(range(0, n_frames, r))
    if len(idx) > max_frames:
        idx = [int(math.floor(v)) for v in np.linspace(0, n_frames - 1, max_frames)]
    while len(idx) < min_frames:
        idx.append(idx[-1] if idx else 0)
    return idx
