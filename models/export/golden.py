"""Golden outputs of the PyTorch reference for the tiny bundle (<out>/golden.json).

Run by `export.py --tiny` (or on its own: golden.py --bundle DIR --seed N). Inputs are
either closed-form formulas the TypeScript tests regenerate exactly, or one small
ffmpeg-made fixture whose decoded frames/audio are shipped beside golden.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from salmonn.config import SalmonnConfig  # noqa: E402
from salmonn.features import log_mel, pixel_values, prepare_audio, split_windows  # noqa: E402
from salmonn.generate import greedy  # noqa: E402
from salmonn.interleave import (assemble, audio_only_plan, spread_plan, timestamp_plan,  # noqa: E402
                                video_only_plan)
from salmonn.prompt import DEFAULT_PROMPT, prompt_ids  # noqa: E402
from salmonn.sampling import sample_frame_indices  # noqa: E402

NEW_TOKENS = 32
FRAME_FORMULA = "pixel(i, y, x, c) = (x*7 + y*13 + c*50 + i*31) % 256  (uint8; i = source frame index, c: 0=R 1=G 2=B)"
AUDIO_FORMULA = ("s[n] = float32(((n % 160) - 80) / 320 + (((n * 7919) % 2001) - 1000) / 8000)  "
                 "(evaluated in float64 left to right, then rounded once to float32; "
                 "JS: Math.fround(((n % 160) - 80) / 320 + (((n * 7919) % 2001) - 1000) / 8000))")
FIXTURE = {"width": 64, "height": 48, "fps": 10, "seconds": 5, "toneHz": 440}


# ------------------------------------------------------------------------------ helpers
def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def stats(x) -> Dict:
    """shape, sum / absSum (float64 accumulation of the float32 values, row-major),
    first 8 values, and values at 6 fixed flat indices [0, n//7, n//3, n//2, 2n//3, n-1]."""
    a = np.ascontiguousarray(x.detach().numpy() if torch.is_tensor(x) else x, dtype=np.float32)
    flat = a.reshape(-1).astype(np.float64)
    n = flat.shape[0]
    idx = [0, n // 7, n // 3, n // 2, (2 * n) // 3, n - 1]
    return {"shape": list(a.shape), "sum": float(flat.sum()), "absSum": float(np.abs(flat).sum()),
            "first": [float(v) for v in flat[:8]], "at": [[int(i), float(flat[i])] for i in idx]}


def formula_frame(i: int, h: int, w: int) -> np.ndarray:
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return ((x * 7 + y * 13 + c * 50 + i * 31) % 256).astype(np.uint8)


def formula_audio(n: int) -> np.ndarray:
    k = np.arange(n, dtype=np.int64)
    return (((k % 160) - 80) / 320 + (((k * 7919) % 2001) - 1000) / 8000).astype(np.float32)


# ------------------------------------------------------------------------------ fixture
def fixture_commands(mp4: str, indices: List[int] = None) -> Dict[str, List[str]]:
    f = FIXTURE
    cmds = {
        "make": ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
                 "-f", "lavfi", "-i", f"testsrc2=size={f['width']}x{f['height']}:rate={f['fps']}:duration={f['seconds']}",
                 "-f", "lavfi", "-i", f"sine=frequency={f['toneHz']}:sample_rate=16000:duration={f['seconds']}",
                 "-c:v", "libx264", "-pix_fmt", "yuv420p", "-threads", "1", "-g", "10",
                 "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-shortest",
                 "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                 mp4],
        "countFrames": ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", mp4],
        "decodeAudio": ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", mp4, "-vn", "-ac", "1", "-ar", "16000",
                        "-f", "f32le", "-"],
    }
    if indices is not None:
        sel = "+".join(f"eq(n\\,{i})" for i in sorted(set(indices)))
        cmds["decodeFrames"] = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", mp4, "-vf", f"select='{sel}'",
                                "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    return cmds


def make_fixture(golden_dir: str, cfg: SalmonnConfig) -> Dict:
    mp4 = os.path.join(golden_dir, "fixture.mp4")
    cmds = fixture_commands(mp4)
    subprocess.run(cmds["make"], check=True)
    n = int(subprocess.run(cmds["countFrames"], check=True, capture_output=True, text=True).stdout.strip())
    fps = FIXTURE["fps"]
    idx = sample_frame_indices(n, fps, cfg.fps, cfg.max_frames, cfg.min_frames)
    cmds = fixture_commands(mp4, idx)
    raw = subprocess.run(cmds["decodeFrames"], check=True, capture_output=True).stdout
    h, w = FIXTURE["height"], FIXTURE["width"]
    uniq = sorted(set(idx))
    dec = np.frombuffer(raw, dtype=np.uint8).reshape(len(uniq), h, w, 3)
    frames = np.stack([dec[uniq.index(i)] for i in idx])
    audio = np.frombuffer(subprocess.run(cmds["decodeAudio"], check=True, capture_output=True).stdout, dtype="<f4")
    frames.tofile(os.path.join(golden_dir, "fixture_frames.rgb"))
    audio.astype("<f4").tofile(os.path.join(golden_dir, "fixture_audio.f32"))
    rel = lambda c: [a.replace(golden_dir + os.sep, "") for a in c]  # noqa: E731
    return {
        "frames": frames, "audio": audio, "numFrames": n, "fps": fps, "indices": idx,
        "source": {
            "kind": "ffmpeg-fixture", "video": "golden/fixture.mp4", "sha256": sha256(open(mp4, "rb").read()),
            "width": w, "height": h, "fps": fps, "numFrames": n,
            "commands": {k: rel(v) for k, v in cmds.items()},
            "decodedFrames": {"path": "golden/fixture_frames.rgb", "layout": "uint8 [F, height, width, 3] RGB, the sampled frames in order",
                              "sha256": sha256(frames.tobytes())},
            "decodedAudio": {"path": "golden/fixture_audio.f32", "layout": "float32 LE mono 16 kHz, whole decoded track (before truncation/padding)",
                             "numSamples": int(audio.shape[0]), "sha256": sha256(audio.astype('<f4').tobytes())},
        },
    }


# ------------------------------------------------------------------------------ pipeline
@torch.no_grad()
def run_case(name: str, graphs, cfg: SalmonnConfig, frames: np.ndarray, frame_indices: List[int], src_fps: float,
             duration: float, audio: np.ndarray, source: Dict, prompt: Dict) -> Dict:
    timestamps = [i / src_fps for i in frame_indices]
    pv = pixel_values(frames, cfg.image_size, cfg.image_mean, cfg.image_std)
    img = graphs["vision_encoder"](torch.from_numpy(pv))
    a = prepare_audio(audio, duration, cfg.sample_rate)
    windows = split_windows(a, cfg.window_samples)
    mels = np.stack([log_mel(wv, cfg.num_mels) for wv in windows])
    enc = graphs["audio_encoder"](torch.from_numpy(mels))
    aud = graphs["audio_aligner"](enc)
    n_audio = aud.shape[0]
    plans = {
        ("audio-video", "spread"): spread_plan(len(frame_indices), cfg.tokens_per_frame, n_audio, duration),
        ("audio-video", "timestamp"): timestamp_plan(timestamps, cfg.tokens_per_frame, n_audio, duration,
                                                     cfg.window_seconds / cfg.tokens_per_window),
        ("video", "any"): video_only_plan(len(frame_indices), cfg.tokens_per_frame),
        ("audio", "any"): audio_only_plan(n_audio),
    }
    embed, dec = graphs["embed_tokens"], graphs["decoder_model_merged"]
    before = torch.tensor([prompt["before"]], dtype=torch.long)
    after = torch.tensor([prompt["after"]], dtype=torch.long)
    runs = []
    for (modality, mode), plan in plans.items():
        av = assemble(plan, img, aud)
        emb = torch.cat([embed(before), av.unsqueeze(0), embed(after)], dim=1)
        gen = greedy(dec, embed, emb, NEW_TOKENS, cfg.stop_token_ids)
        runs.append({
            "modality": modality, "interleave": mode,
            "layout": [{k: s[k] for k in ("frame", "visualTokens", "audioTokens")} for s in plan["segments"]],
            "audioIndices": [s["audioIndices"] for s in plan["segments"]],
            "trailingAudio": len(plan["trailingAudio"]), "trailingAudioIndices": plan["trailingAudio"],
            "avTokens": int(av.shape[0]), "avBlockStart": len(prompt["before"]),
            "promptLength": int(emb.shape[1]),
            "inputIds": prompt["before"] + [-1] * int(av.shape[0]) + prompt["after"],
            "inputsEmbeds": stats(emb),
            "generated": gen,
        })
    return {
        "name": name, "source": source, "duration": duration,
        "frameIndices": frame_indices, "timestamps": timestamps,
        "inputs": {"framesSha256": sha256(np.ascontiguousarray(frames).tobytes()),
                   "preparedAudioSamples": int(a.shape[0]), "preparedAudioSha256": sha256(a.astype("<f4").tobytes()),
                   "windows": len(windows)},
        "logMel": [stats(m) for m in mels],
        "pixelValues": stats(pv),
        "visionFeatures": stats(img),
        "audioEncoder": stats(enc),
        "audioFeatures": stats(aud),
        "runs": runs,
    }


def synthetic_case(name, graphs, cfg, width, height, src_fps, num_frames, prompt):
    duration = num_frames / src_fps
    idx = sample_frame_indices(num_frames, src_fps, cfg.fps, cfg.max_frames, cfg.min_frames)
    frames = np.stack([formula_frame(i, height, width) for i in idx])
    n_samples = int(round(duration * cfg.sample_rate))
    audio = formula_audio(n_samples)
    source = {"kind": "formula", "width": width, "height": height, "fps": src_fps, "numFrames": num_frames,
              "frameFormula": FRAME_FORMULA, "audioFormula": AUDIO_FORMULA, "audioSamples": n_samples,
              "audioSha256": sha256(audio.astype("<f4").tobytes())}
    return run_case(name, graphs, cfg, frames, idx, src_fps, duration, audio, source, prompt)


def write_golden(bundle_dir: str, model, seed: int) -> str:
    cfg = model.cfg
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    graphs = model.graphs()
    gdir = os.path.join(bundle_dir, "golden")
    os.makedirs(gdir, exist_ok=True)
    prompt = prompt_ids(DEFAULT_PROMPT)
    cases = [
        synthetic_case("synthetic_4.5s", graphs, cfg, 40, 30, 10.0, 45, prompt),
        synthetic_case("synthetic_31s", graphs, cfg, 40, 30, 2.0, 62, prompt),
        # 7 frames and 60 audio tokens: spread mode stretches 60 -> 63 rows.
        synthetic_case("synthetic_6.5s", graphs, cfg, 40, 30, 10.0, 65, prompt),
    ]
    fx = make_fixture(gdir, cfg)
    duration = fx["numFrames"] / fx["fps"]
    cases.append(run_case("fixture_testsrc2_5s", graphs, cfg, fx["frames"], fx["indices"], fx["fps"], duration,
                          fx["audio"], fx["source"], prompt))
    doc = {
        "format": "salmonn-golden", "version": 1, "seed": seed,
        "about": ("PyTorch reference outputs of this random tiny bundle. Every case: frames -> pixelValues "
                  "-> vision_encoder; audio -> prepare (truncate to duration, pad to >= 1 s) -> 30 s windows "
                  "-> logMel -> audio_encoder -> audio_aligner; then 4 runs (A+V spread, A+V timestamp, "
                  "V only, A only) -> prompt -> greedy decoding with the KV cache."),
        "conventions": {
            "stats": ("shape; sum and absSum accumulated in float64 over the float32 values in row-major "
                      "order; first = first 8 values; at = [[flatIndex, value]] at [0, n//7, n//3, n//2, 2n//3, n-1]"),
            "frameSampling": ("PIPELINE §1 checkpoint rule: r = max(round(fps_src / fps), 1); indices 0, r, 2r, ... < N; "
                              "if more than maxFrames: floor(linspace(0, N-1, maxFrames)); at least minFrames "
                              "(repeat the last). timestamp = index / fps_src. duration T = N / fps_src."),
            "pixelValues": ("frames uint8 [F,h,w,3] -> PIL Image.resize((S,S), Image.BICUBIC) per frame (the checkpoint's "
                            "SigLipImageProcessor: antialiased when shrinking, a=-0.5, uint8 result) -> /255 -> (x-mean)/std "
                            "-> [F,3,S,S]"),
            "logMel": ("models/export/salmonn/features.py log_mel: zero-pad to 480000, reflect pad 200, periodic Hann 400, "
                       "hop 160, |rfft|^2, drop last frame, slaney mel (librosa), log10(max(.,1e-10)), max(.,max-8), (x+4)/4; "
                       "float64 throughout, float32 result"),
            "audioPreparation": "truncate to round(T*16000) samples, zero-pad to >= 16000; split into 480000-sample windows",
            "interleave": {
                "spread": ("front = min(round(T*50), A); if front % F: stretch to out = front + F - front % F with "
                           "torch F.interpolate(mode='nearest') on the rows (float32 scale, as the checkpoint); k = out/F per frame; "
                           "tokens front..A-1 trail"),
                "timestamp": ("token j covers [j*w, (j+1)*w), w = 30/tokensPerWindow; dropped if j*w >= T; goes after the "
                              "last frame with timestamp <= j*w (frame 0 if none)"),
                "audioOnly": "all A audio tokens (padding tail included)",
                "videoOnly": "frames' visual tokens only",
            },
            "prompt": ("inputIds = beforeIds + [-1 x avTokens] + afterIds; -1 marks the AV block (avBlockStart). "
                       "Positions 0..L-1, attention_mask all ones."),
            "decoding": ("prefill the whole prompt with an empty past (length 0), then one token per step with the "
                         "KV cache; greedy argmax; stop at stopTokenIds (stopped=true) or after maxNewTokens; "
                         "margins[i] = top1 - top2 logit at step i"),
            "inputOrder": "all windows of one clip go to audio_aligner in one call (segment PE row = window index)",
        },
        "maxNewTokens": NEW_TOKENS,
        "stopTokenIds": cfg.stop_token_ids,
        "prompt": {"system": "You are a helpful assistant.", "question": DEFAULT_PROMPT,
                   "systemIds": prompt["system"], "questionIds": prompt["question"],
                   "beforeIds": prompt["before"], "afterIds": prompt["after"],
                   "pieces": ["<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n", "<|im_start|>user\\n",
                              "[AV block]", "\\n", "\\n", "<question>", "<|im_end|>\\n", "<|im_start|>assistant\\n"]},
        "cases": cases,
    }
    path = os.path.join(bundle_dir, "golden.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from salmonn.config import tiny_config
    from salmonn.model import VideoSalmonn2
    write_golden(args.out, VideoSalmonn2(tiny_config()).init_random(args.seed), args.seed)
