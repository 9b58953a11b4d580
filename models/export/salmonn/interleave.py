"""Audio-visual interleaving (PIPELINE §4). Both modes return a plan:
  segments = [{frame, visualTokens, audioTokens, audioIndices}], trailingAudio = [indices]
where audioIndices index rows of the [A, H] audio feature matrix."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch


def spread_plan(num_frames: int, tokens_per_frame: int, num_audio: int, duration: float) -> Dict:
    """Checkpoint mode: first round(T*50) audio tokens (in practice all), stretched by
    nearest neighbour up to the next multiple of F -- exactly the checkpoint's
    F.interpolate(mode='nearest'), whose float32 scale can pick one row less than the
    exact floor(dst*in/out) -- ; k = n/F per frame; leftovers after the last frame."""
    front = min(int(round(duration * 50)), num_audio)
    src = list(range(front))
    if front % num_frames:
        out = front + num_frames - front % num_frames
        rows = torch.arange(front, dtype=torch.float32).view(1, 1, front)
        src = [int(v) for v in torch.nn.functional.interpolate(rows, size=out, mode="nearest").view(-1).tolist()]
    k = len(src) // num_frames
    segs = [{"frame": i, "visualTokens": tokens_per_frame, "audioTokens": k,
             "audioIndices": src[i * k:(i + 1) * k]} for i in range(num_frames)]
    return {"segments": segs, "trailingAudio": list(range(front, num_audio))}


def timestamp_plan(timestamps: List[float], tokens_per_frame: int, num_audio: int, duration: float,
                   token_seconds: float) -> Dict:
    """Paper eqs. 6-8 as this project reads them: token j covers [j w, (j+1) w); it goes
    after the last frame with timestamp <= j w (before the first frame -> frame 0);
    tokens with j w >= T (wholly in the padded tail) are dropped."""
    per = [[] for _ in timestamps]
    for j in range(num_audio):
        start = j * token_seconds
        if start >= duration:
            break
        f = 0
        for i, t in enumerate(timestamps):
            if t <= start:
                f = i
        per[f].append(j)
    segs = [{"frame": i, "visualTokens": tokens_per_frame, "audioTokens": len(per[i]),
             "audioIndices": per[i]} for i in range(len(timestamps))]
    return {"segments": segs, "trailingAudio": []}


def audio_only_plan(num_audio: int) -> Dict:
    return {"segments": [], "trailingAudio": list(range(num_audio))}


def time_token_texts(real_time: float, num_frames: int) -> List[str]:
    """PIPELINE §1 time texts, as video_salmonn_2.py:347-348: frame_per_time = real_time /
    num_frames; str(round(frame_per_time * f, 1)) for f = 1..F (Python round and str)."""
    frame_per_time = real_time / num_frames
    return [str(round(frame_per_time * f, 1)) for f in range(1, num_frames + 1)]


def video_only_plan(num_frames: int, tokens_per_frame: int,
                    time_ids: Optional[List[List[int]]] = None, time_texts: Optional[List[str]] = None) -> Dict:
    """Frames only. With time_ids (one id list per frame, --add_time_token): frame f is
    [visual][its time ids][zero rows up to the longest list] -- pad_sequence(batch_first)
    pads after each row (video_salmonn_2.py:349-354)."""
    width = max((len(t) for t in time_ids), default=0) if time_ids is not None else 0
    segs = []
    for i in range(num_frames):
        s = {"frame": i, "visualTokens": tokens_per_frame, "audioTokens": 0, "audioIndices": []}
        if time_ids is not None:
            s["timeTokens"] = {"text": time_texts[i] if time_texts else None, "ids": list(time_ids[i]),
                               "zeroRows": width - len(time_ids[i])}
        segs.append(s)
    return {"segments": segs, "trailingAudio": [], "timeTokenWidth": width}


def assemble(plan: Dict, image_features: Optional[torch.Tensor], audio_features: Optional[torch.Tensor],
             embed=None) -> torch.Tensor:
    """[sum of tokens, H] in plan order: per segment [visual][time tokens, zero rows][audio],
    then trailing audio. Time tokens (video-only plans) need `embed` (ids [1, n] -> [1, n, H]);
    they are embedded together and zero-padded as the checkpoint does (pad_sequence)."""
    parts = []
    time_rows = None
    if any("timeTokens" in s for s in plan["segments"]):
        embeds = [embed(torch.tensor([s["timeTokens"]["ids"]], dtype=torch.long))[0] for s in plan["segments"]]
        time_rows = torch.nn.utils.rnn.pad_sequence(embeds, batch_first=True)  # [F, width, H], zeros after
    for k, s in enumerate(plan["segments"]):
        parts.append(image_features[s["frame"]])
        if time_rows is not None:
            parts.append(time_rows[k])
        if s["audioIndices"]:
            parts.append(audio_features[torch.tensor(s["audioIndices"], dtype=torch.long)])
    if plan["trailingAudio"]:
        parts.append(audio_features[torch.tensor(plan["trailingAudio"], dtype=torch.long)])
    return torch.cat(parts, dim=0)
