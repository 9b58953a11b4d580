#!/usr/bin/env python3
"""Drift of the reduced-precision encoders against float32 at real shapes (not CI; issue 10).

  encoder_drift.py [--video MP4] [--audio WAV] [--variants fp16,q4f16,q4] [--out DIR]
                   [--reuse DTYPE=ONNX_DIR ...]

SigLIP-so400m (26 layers) + projector/pool/newline, the Whisper-large-v3 encoder and the
Q-Former aligner with the random weights of `bench/export-7b.sh` (RandomSource, seed 0, the
same config: its bundles' encoders can be reused with --reuse q4f16=BUNDLE/onnx), exported in
float32 and in each variant (salmonn/encoders_onnx.py), run by onnxruntime-node on one real
frame (the middle frame of --video, PIL bicubic to 384, SigLIP normalisation) and real audio
(the first 30 s of --audio at 16 kHz mono, 128-bin log-mel). The audio path is chained as the
app runs it (each variant's encoder output feeds its own aligner); `audio_aligner (fp32 in)`
feeds the float32 encoder output to isolate the aligner. Reported per graph output: cosine
over the whole output, the lowest per-row (per-token) cosine, max |diff|, max |diff| / max
|ref|, mean |diff|. Random weights: a probe of the arithmetic, not of a trained model.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from salmonn.config import random_shape_config, tiny_q4_config  # noqa: E402
from salmonn.encoders_onnx import ENCODERS, export_encoder  # noqa: E402
from salmonn.features import SAMPLE_RATE, log_mel, pixel_values  # noqa: E402
from salmonn.ort import run_many  # noqa: E402
from salmonn.weights import RandomSource  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PRESETS = ["qwen2-7b", "whisper-large-v3", "siglip-so400m"]  # as bench/export-7b.sh
INPUT = {"vision_encoder": "pixel_values", "audio_encoder": "input_features", "audio_aligner": "encoder_hidden_states"}


def middle_frame(video: str) -> np.ndarray:
    """uint8 RGB [1, h, w, 3]: the middle frame of `video` (ffmpeg)."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                            "stream=nb_read_frames,width,height", "-of", "json", video],
                           capture_output=True, text=True, check=True)
    s = json.loads(probe.stdout)["streams"][0]
    n, w, h = int(s["nb_read_frames"]), int(s["width"]), int(s["height"])
    raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", video, "-vf", f"select='eq(n\\,{n // 2})'",
                          "-vsync", "0", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(1, h, w, 3)


def audio_mel(path: str, n_mels: int) -> np.ndarray:
    """float32 [1, n_mels, 3000]: the first 30 s of `path` at 16 kHz mono (ffmpeg)."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", path, "-vn", "-ac", "1", "-ar",
                          str(SAMPLE_RATE), "-f", "f32le", "-"], capture_output=True, check=True).stdout
    a = np.frombuffer(raw, np.float32)[: 30 * SAMPLE_RATE]
    return log_mel(a, n_mels)[None]


def compare(got: np.ndarray, ref: np.ndarray) -> dict:
    g = got.astype(np.float64).reshape(-1, ref.shape[-1])
    r = ref.astype(np.float64).reshape(-1, ref.shape[-1])
    d = np.abs(g - r)
    rows = (g * r).sum(1) / np.maximum(np.linalg.norm(g, axis=1) * np.linalg.norm(r, axis=1), 1e-30)
    return {"cosine": float((g * r).sum() / (np.linalg.norm(g) * np.linalg.norm(r))), "minRowCosine": float(rows.min()),
            "maxAbs": float(d.max()), "maxAbsRel": float(d.max() / np.abs(r).max()), "meanAbs": float(d.mean()),
            "refMaxAbs": float(np.abs(r).max()), "shape": list(ref.shape)}


def run_one(path: str, name: str, x: np.ndarray) -> np.ndarray:
    """One graph in its own onnxruntime-node process (one large graph in memory at a time)."""
    return list(run_many([(path, {INPUT[name]: x})])[0].values())[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=os.path.join(ROOT, "e2e/fixtures/out/short.mp4"))
    ap.add_argument("--audio", default=os.path.join(ROOT, "e2e/fixtures/out/src/speech.wav"))
    ap.add_argument("--variants", default="fp16,q4f16,q4")
    ap.add_argument("--out", default="/tmp/encoder-drift")
    ap.add_argument("--presets", default=",".join(PRESETS), help="shape presets (empty: the tiny config, a smoke run)")
    ap.add_argument("--reuse", action="append", default=[], metavar="DTYPE=ONNX_DIR",
                    help="take this dtype's encoder graphs from an export-7b bundle's onnx/ folder")
    args = ap.parse_args(argv)
    for p in (args.video, args.audio):
        if not os.path.exists(p):
            ap.error(f"{p} does not exist (npm run fixtures makes the e2e media)")
    presets = [p for p in args.presets.split(",") if p]
    cfg = random_shape_config(presets, base=tiny_q4_config())
    src = RandomSource(cfg, seed=0)
    reuse = dict(r.split("=", 1) for r in args.reuse)
    variants = [v for v in args.variants.split(",") if v]
    dirs = {}
    for dt in ["fp32"] + variants:
        d = reuse.get(dt) or os.path.join(args.out, dt)
        os.makedirs(d, exist_ok=True)
        for g in ENCODERS:
            if not os.path.exists(os.path.join(d, f"{g}.onnx")):
                t = time.time()
                export_encoder(g, cfg, src, d, dt)
                print(f"exported {dt} {g}: {time.time() - t:.0f}s", flush=True)
        dirs[dt] = d
    x_v = pixel_values(middle_frame(args.video), cfg.image_size, cfg.image_mean, cfg.image_std)
    x_a = audio_mel(args.audio, cfg.num_mels)
    outs = {}
    for dt in ["fp32"] + variants:
        t = time.time()
        p = lambda g: os.path.join(dirs[dt], f"{g}.onnx")  # noqa: E731
        o = {"vision_encoder": run_one(p("vision_encoder"), "vision_encoder", x_v)}
        o["audio_encoder"] = run_one(p("audio_encoder"), "audio_encoder", x_a)
        o["audio_aligner"] = run_one(p("audio_aligner"), "audio_aligner", o["audio_encoder"])
        if dt != "fp32":
            o["audio_aligner (fp32 in)"] = run_one(p("audio_aligner"), "audio_aligner", outs["fp32"]["audio_encoder"])
        outs[dt] = o
        print(f"ran {dt}: {time.time() - t:.0f}s", flush=True)
    ref = outs["fp32"]
    res = {"presets": presets, "seed": 0, "video": os.path.relpath(args.video, ROOT), "audio": os.path.relpath(args.audio, ROOT),
           "variants": {dt: {k: compare(v, ref[k.split(" ")[0]]) for k, v in outs[dt].items()} for dt in variants}}
    with open(os.path.join(args.out, "drift.json"), "w") as f:
        json.dump(res, f, indent=1)
    print("| variant | output | cosine | lowest row cosine | max abs (÷ max abs ref) | mean abs |")
    print("|---|---|---|---|---|---|")
    for dt, rows in res["variants"].items():
        for k, m in rows.items():
            print(f"| {dt} | {k} {m['shape']} | {m['cosine']:.6f} | {m['minRowCosine']:.6f} | "
                  f"{m['maxAbs']:.4g} ({100 * m['maxAbsRel']:.2f} %) | {m['meanAbs']:.4g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
