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
from salmonn.generate import OFFICIAL_PENALTY_SCOPE, greedy  # noqa: E402
from salmonn.interleave import (assemble, audio_only_plan, spread_plan, time_token_texts,  # noqa: E402
                                timestamp_plan, video_only_plan)
from salmonn.prompt import (DEFAULT_PROMPT, DEFAULT_PROMPT_VARIANT, OFFICIAL_PAD_ID,  # noqa: E402
                            apply_prompt_variant, prompt_ids, time_token_ids)
from salmonn.sampling import DEFAULT_SAMPLING_PRESET, resolve_sampling, sample_frame_indices  # noqa: E402

NEW_TOKENS = 32
# The one greedy run with a repetition penalty (setupRuns of synthetic_4.5s, A+V spread).
PENALTY_RUN = {"case": "synthetic_4.5s", "modality": "audio-video", "interleave": "spread", "repetitionPenalty": 1.1}
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
             duration: float, audio: np.ndarray, source: Dict, prompt: Dict, extra_frames: Dict = None) -> Dict:
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
    setup_runs = setup_case_runs(name, graphs, cfg, frames, frame_indices, src_fps, duration, audio, prompt,
                                 img, aud, plans, extra_frames)
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
        "setupRuns": setup_runs,
    }


def _setup(sampling: Dict, variant: str, time_tokens: bool, penalty: float, stop_ids: List[int]) -> Dict:
    return {"sampling": sampling["preset"], "fps": sampling["fps"], "maxFrames": sampling["max_frames"],
            "maxTime": sampling["max_time"], "promptVariant": variant, "timeTokens": time_tokens,
            "repetitionPenalty": penalty, "penaltyScope": OFFICIAL_PENALTY_SCOPE, "stopTokenIds": list(stop_ids)}


@torch.no_grad()
def setup_case_runs(name, graphs, cfg, frames, frame_indices, src_fps, duration, audio, prompt, img, aud, plans,
                    extra_frames=None) -> List[Dict]:
    """The runs under the run set-up of issue 13 (defaults: paper sampling, official prompt,
    time tokens for visual-only input, audio-only input cut to max_time, the tiny bundle's
    generation config = no penalty, eos = stop ids), plus PENALTY_RUN and, for a case with
    `extra_frames`, a visual-only run under the checkpoint preset."""
    embed, dec = graphs["embed_tokens"], graphs["decoder_model_merged"]
    variants = {v: apply_prompt_variant(prompt, v) for v in ("official", "training")}
    sampling = resolve_sampling(DEFAULT_SAMPLING_PRESET, cfg.fps)
    stop_ids = list(cfg.stop_token_ids)

    def run(modality, mode, plan, av, setup, extra=None):
        ids = variants[setup["promptVariant"]]
        emb = torch.cat([embed(torch.tensor([ids["before"]], dtype=torch.long)), av.unsqueeze(0),
                         embed(torch.tensor([ids["after"]], dtype=torch.long))], dim=1)
        gen = greedy(dec, embed, emb, NEW_TOKENS, setup["stopTokenIds"], setup["repetitionPenalty"],
                     setup["penaltyScope"])
        layout = []
        for s in plan["segments"]:
            e = {k: s[k] for k in ("frame", "visualTokens", "audioTokens")}
            if "timeTokens" in s:
                e["timeTokens"] = s["timeTokens"]
            layout.append(e)
        marked = lambda v: variants[v]["before"] + [-1] * int(av.shape[0]) + variants[v]["after"]  # noqa: E731
        r = {"modality": modality, "interleave": mode, "setup": setup, "layout": layout,
             "audioIndices": [s["audioIndices"] for s in plan["segments"]],
             "trailingAudio": len(plan["trailingAudio"]), "trailingAudioIndices": plan["trailingAudio"],
             "timeTokenWidth": plan.get("timeTokenWidth", 0),
             "avTokens": int(av.shape[0]), "avBlockStart": len(ids["before"]), "promptLength": int(emb.shape[1]),
             "inputIds": marked(setup["promptVariant"]),
             "inputIdsByVariant": {v: marked(v) for v in variants},
             "promptTokenIds": {"ids": ids["before"] + ids["after"], "avBlockAt": len(ids["before"])},
             "inputsEmbeds": stats(emb), "generated": gen}
        if extra:
            r.update(extra)
        return r

    def video_time_plan(n_frames, real_time):
        texts = time_token_texts(real_time, n_frames)
        return video_only_plan(n_frames, cfg.tokens_per_frame, time_token_ids(texts), texts)

    out = []
    base = _setup(sampling, DEFAULT_PROMPT_VARIANT, False, 1.0, stop_ids)
    for mode in ("spread", "timestamp"):
        plan = plans[("audio-video", mode)]
        out.append(run("audio-video", mode, plan, assemble(plan, img, aud), base))
    # visual only: time tokens after each frame (T = real time = N / src_fps)
    vplan = video_time_plan(len(frame_indices), duration)
    out.append(run("video", "any", vplan, assemble(vplan, img, None, embed), dict(base, timeTokens=True)))
    # audio only: the audio as an audio-only input, cut to max_time of the preset
    a = prepare_audio(audio, None, cfg.sample_rate, max_time=sampling["max_time"])
    windows = split_windows(a, cfg.window_samples)
    mels = np.stack([log_mel(wv, cfg.num_mels) for wv in windows])
    aud_only = graphs["audio_aligner"](graphs["audio_encoder"](torch.from_numpy(mels)))
    aplan = audio_only_plan(aud_only.shape[0])
    out.append(run("audio", "any", aplan, assemble(aplan, None, aud_only), base, {"audioInput": {
        "maxTime": sampling["max_time"], "preparedAudioSamples": int(a.shape[0]),
        "preparedAudioSha256": sha256(a.astype("<f4").tobytes()), "windows": len(windows),
        "audioFeatures": stats(aud_only)}}))
    if name == PENALTY_RUN["case"]:
        plan = plans[(PENALTY_RUN["modality"], PENALTY_RUN["interleave"])]
        out.append(run(PENALTY_RUN["modality"], PENALTY_RUN["interleave"], plan, assemble(plan, img, aud),
                       dict(base, repetitionPenalty=PENALTY_RUN["repetitionPenalty"])))
    if extra_frames is not None:
        ck = resolve_sampling("checkpoint", cfg.fps)
        idx = extra_frames["indices"]
        pv = pixel_values(extra_frames["frames"], cfg.image_size, cfg.image_mean, cfg.image_std)
        img_ck = graphs["vision_encoder"](torch.from_numpy(pv))
        vplan = video_time_plan(len(idx), duration)
        out.append(run("video", "any", vplan, assemble(vplan, img_ck, None, embed),
                       dict(_setup(ck, DEFAULT_PROMPT_VARIANT, True, 1.0, stop_ids)),
                       {"frameIndices": idx, "timestamps": [i / src_fps for i in idx],
                        "visionFeatures": stats(img_ck)}))
    return out


def synthetic_case(name, graphs, cfg, width, height, src_fps, num_frames, prompt, checkpoint_run=False):
    duration = num_frames / src_fps
    idx = sample_frame_indices(num_frames, src_fps, cfg.fps, cfg.max_frames, cfg.min_frames)
    extra = None
    if checkpoint_run:  # the same clip under the checkpoint preset (max_time 110 s -> <= 110 frames)
        ck = resolve_sampling("checkpoint", cfg.fps)
        ck_idx = sample_frame_indices(num_frames, src_fps, ck["fps"], ck["max_frames"], cfg.min_frames)
        extra = {"indices": ck_idx, "frames": np.stack([formula_frame(i, height, width) for i in ck_idx])}
    frames = np.stack([formula_frame(i, height, width) for i in idx])
    n_samples = int(round(duration * cfg.sample_rate))
    audio = formula_audio(n_samples)
    source = {"kind": "formula", "width": width, "height": height, "fps": src_fps, "numFrames": num_frames,
              "frameFormula": FRAME_FORMULA, "audioFormula": AUDIO_FORMULA, "audioSamples": n_samples,
              "audioSha256": sha256(audio.astype("<f4").tobytes())}
    return run_case(name, graphs, cfg, frames, idx, src_fps, duration, audio, source, prompt, extra)


def write_golden(bundle_dir: str, model, seed: int) -> str:
    cfg = model.cfg
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    graphs = model.graphs()
    gdir = os.path.join(bundle_dir, "golden")
    os.makedirs(gdir, exist_ok=True)
    prompt = prompt_ids(DEFAULT_PROMPT)
    cases = [
        synthetic_case("synthetic_4.5s", graphs, cfg, 40, 30, 10.0, 45, prompt),
        synthetic_case("synthetic_31s", graphs, cfg, 40, 30, 2.0, 62, prompt, checkpoint_run=True),
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
                  "-> vision_encoder; audio -> prepare (pad to >= 1 s, truncate to duration) -> 30 s windows "
                  "-> logMel -> audio_encoder -> audio_aligner; then 4 runs (A+V spread, A+V timestamp, "
                  "V only, A only) -> prompt -> greedy decoding with the KV cache, in `runs` (the old set-up) "
                  "and in `setupRuns` (the run set-up of the released checkpoint, stated per run)."),
        "conventions": {
            "stats": ("shape; sum and absSum accumulated in float64 over the float32 values in row-major "
                      "order; first = first 8 values; at = [[flatIndex, value]] at [0, n//7, n//3, n//2, 2n//3, n-1]"),
            "frameSampling": ("PIPELINE §1 checkpoint rule: r = max(round(fps_src / fps), 1); indices 0, r, 2r, ... < N; "
                              "if more than maxFrames: floor(linspace(0, N-1, maxFrames)); fewer than minFrames: "
                              "floor(linspace(0, N-1, minFrames)). timestamp = index / fps_src. duration T = N / fps_src."),
            "samplingPresets": ("paper: fps 1, maxFrames 30, maxTime 30 s (the default); checkpoint: fps 1, maxTime 110 s, "
                                "maxFrames = round(maxTime * fps) = 110 (every released script: --max_time 110 --fps 1). "
                                "Case-level frames use the default preset."),
            "pixelValues": ("frames uint8 [F,h,w,3] -> PIL Image.resize((S,S), Image.BICUBIC) per frame (the checkpoint's "
                            "SigLipImageProcessor: antialiased when shrinking, a=-0.5, uint8 result) -> /255 -> (x-mean)/std "
                            "-> [F,3,S,S]"),
            "logMel": ("models/export/salmonn/features.py log_mel: zero-pad to 480000, reflect pad 200, periodic Hann 400, "
                       "hop 160, |rfft|^2, drop last frame, slaney mel (librosa), log10(max(.,1e-10)), max(.,max-8), (x+4)/4; "
                       "float64 throughout, float32 result"),
            "audioPreparation": ("zero-pad to >= 16000 samples, then truncate to round(T*16000) (the checkpoint's order, "
                                 "av_dataset.py:150-157; the same as truncate-then-pad for T >= 1 s); split into "
                                 "480000-sample windows. Audio-only input (setupRuns' audio run): truncate to "
                                 "round(maxTime*16000) instead (maxTime of the sampling preset); its windows and "
                                 "audio features are in the run's audioInput."),
            "timeTokens": ("setupRuns' video runs (--add_time_token, video_salmonn_2.py:346-354): after frame f (1-based) "
                           "the tokens of str(round(T/F*f, 1)) (T = N/fps_src, computed as (T/F)*f in float64, Python "
                           "round and str), embedded, then zero vectors up to timeTokenWidth (the longest) -- "
                           "layout[f].timeTokens = {text, ids, zeroRows}; frame block = visual, ids, zeroRows zeros. "
                           "avTokens = F * (tokensPerFrame + timeTokenWidth). Never for audio-visual input."),
            "promptVariants": ("official (the default): every id equal to the pad id 151645 (<|im_end|>) dropped from "
                               "beforeIds and afterIds -- the released inference's collator pads with eos and masks it "
                               "out; training: the ids as built. setupRuns: inputIds follow setup.promptVariant; "
                               "inputIdsByVariant has both; promptTokenIds = {ids: before + after, avBlockAt}."),
            "repetitionPenalty": ("transformers RepetitionPenaltyLogitsProcessor on the float32 logits before each argmax: "
                                  "for each covered id once, score < 0 ? score*p : score/p. setup.penaltyScope "
                                  "'generated': only the ids generated so far (the official generate(inputs_embeds=...) "
                                  "starts transformers' input_ids empty). margins are taken after the penalty."),
            "runs": ("the pre-issue-13 set-up, unchanged: training prompt ids (both <|im_end|> kept), no time tokens, "
                     "audio-only run on the video-truncated audio, no penalty. Kept for the current parity tests; "
                     "setupRuns replace them once the pipeline is wired."),
            "setupRuns": ("runs under an explicit run set-up (`setup`): per case A+V spread, A+V timestamp, V only "
                          "(time tokens), A only (audio-only input cut to maxTime) with the defaults; synthetic_4.5s adds "
                          "A+V spread with repetitionPenalty 1.1; synthetic_31s adds V only under the checkpoint "
                          "preset (its own frameIndices, timestamps, visionFeatures)."),
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
        "defaults": {"sampling": DEFAULT_SAMPLING_PRESET, "promptVariant": DEFAULT_PROMPT_VARIANT,
                     "timeTokens": "visual-only input", "channel": 0, "repetitionPenalty": 1.0,
                     "penaltyScope": OFFICIAL_PENALTY_SCOPE, "eosTokenIds": cfg.stop_token_ids},
        "prompt": {"system": "You are a helpful assistant.", "question": DEFAULT_PROMPT,
                   "systemIds": prompt["system"], "questionIds": prompt["question"],
                   "beforeIds": prompt["before"], "afterIds": prompt["after"],
                   "variants": {v: {"beforeIds": ids["before"], "afterIds": ids["after"]}
                                for v, ids in ((v, apply_prompt_variant(prompt, v)) for v in ("official", "training"))},
                   "padId": OFFICIAL_PAD_ID,
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
