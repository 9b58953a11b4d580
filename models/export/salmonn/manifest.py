"""bundle.json writer (manifest version 2); schema = src/core/bundle/manifest.ts (BundleManifest),
documented in models/README.md ("bundle.json, version 2")."""
from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Dict, List, Optional

import numpy as np

from .config import SalmonnConfig
from .onnx_export import graph_io
from .prompt import CHAT_TEMPLATE, DEFAULT_PROMPT, SYSTEM_PROMPT

GRAPHS = ["vision_encoder", "audio_encoder", "audio_aligner", "embed_tokens", "decoder_model_merged"]
FAMILY = "video-salmonn-2"
KV_LAYOUT = "batch,kv_heads,sequence,head_dim"
# Preferred device per role: the token-embedding gather gains nothing on a GPU and its table
# can exceed an adapter's maxBufferSize (PIPELINE §9); every other graph prefers the GPU.
DEVICE = {"embed_tokens": "cpu"}


def ports(names: List[str]) -> Dict[str, str]:
    """Logical port -> graph I/O name; per-layer KV names become one `{i}` pattern."""
    out: Dict[str, str] = {}
    for n in names:
        m = re.fullmatch(r"(past_key_values|present)\.(\d+)\.(key|value)", n)
        if m:
            role = ("past_" if m.group(1) == "past_key_values" else "present_") + m.group(3)
            out.setdefault(role, f"{m.group(1)}.{{i}}.{m.group(3)}")
        else:
            out[n] = n
    return out


def file_entry(root: str, rel: str) -> Dict:
    h = hashlib.sha256()
    with open(os.path.join(root, rel), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": rel, "bytes": os.path.getsize(os.path.join(root, rel)), "sha256": h.hexdigest()}


def direct_decoder_io(cfg: SalmonnConfig):
    """I/O of the directly-built decoder (salmonn/qwen2_onnx.py): no position_ids."""
    ins, outs = graph_io(cfg)["decoder_model_merged"]
    return [n for n in ins if n != "position_ids"], outs


def generation_config(ckpt_dir: Optional[str], cfg: SalmonnConfig, max_new_tokens: int = 1024) -> Dict:
    """`generation` from the checkpoint's generation_config.json (PIPELINE §5): stop ids =
    <|im_end|> + its eos_token_id(s), repetition_penalty, max_new_tokens."""
    stop = list(cfg.stop_token_ids)
    rep, mnt = 1.0, max_new_tokens
    p = os.path.join(ckpt_dir, "generation_config.json") if ckpt_dir else None
    if p and os.path.exists(p):
        with open(p) as f:
            gc = json.load(f)
        eos = gc.get("eos_token_id", [])
        for i in (eos if isinstance(eos, list) else [eos]):
            if i is not None and int(i) not in stop:
                stop.append(int(i))
        rep = float(gc.get("repetition_penalty", 1.0) or 1.0)
        mnt = int(gc.get("max_new_tokens", mnt) or mnt)
    return {"stopTokenIds": stop, "maxNewTokens": mnt, "repetitionPenalty": rep}


def largest_tensor_bytes(graph_path: str) -> int:
    """Bytes of the graph's largest initializer (dims x element size, wherever it is stored): what
    one GPU buffer must hold, checked against the adapter's maxBufferSize before any download."""
    import onnx
    from onnx.mapping import TENSOR_TYPE_TO_NP_TYPE
    model = onnx.load(graph_path, load_external_data=False)
    sizes = [int(np.prod(t.dims, dtype=np.int64)) * TENSOR_TYPE_TO_NP_TYPE[t.data_type].itemsize
             for t in model.graph.initializer]
    return max(sizes, default=0)


def build_manifest(root: str, cfg: SalmonnConfig, name: str, description: str, random_weights: bool,
                   external: Dict[str, List[str]], dtype, golden: Optional[str] = None,
                   interleave_default: str = "spread", max_new_tokens: int = 1024,
                   io: Optional[Dict] = None, kv_dtype: str = "float32", logits: str = "all",
                   generation: Optional[Dict] = None) -> Dict:
    """dtype: one GraphDtype for all graphs, or {graph: dtype}; io: {graph: (inputs, outputs)}
    overrides graph_io(cfg) (the direct-built decoder)."""
    gio = dict(graph_io(cfg))
    gio.update(io or {})
    graphs = {}
    for g in GRAPHS:
        rel = f"onnx/{g}.onnx"
        e = file_entry(root, rel)
        e["externalData"] = [file_entry(root, f"onnx/{x}") for x in external.get(g, [])]
        ins, outs = gio[g]
        e["inputs"], e["outputs"] = ports(ins), ports(outs)
        e["dtype"] = dtype[g] if isinstance(dtype, dict) else dtype
        e["device"] = DEVICE.get(g, "gpu")
        e["largestTensorBytes"] = largest_tensor_bytes(os.path.join(root, rel))
        if g == "decoder_model_merged":
            e["kvCache"] = {"dtype": kv_dtype, "layout": KV_LAYOUT}
            e["logits"] = logits
        graphs[g] = e
    m = {
        "format": "salmonn-bundle", "version": 2, "family": FAMILY, "name": name, "description": description,
        "randomWeights": random_weights,
        "graphs": graphs,
        "tokenizer": {"files": [file_entry(root, "tokenizer.json"), file_entry(root, "tokenizer_config.json")]},
        "vision": {"imageSize": cfg.image_size, "patchSize": cfg.patch_size, "grid": cfg.grid,
                   "pooledGrid": cfg.pooled_grid, "tokensPerFrame": cfg.tokens_per_frame,
                   "mean": list(cfg.image_mean), "std": list(cfg.image_std), "resample": "bicubic"},
        "sampling": {"fps": cfg.fps, "maxFrames": cfg.max_frames, "minFrames": cfg.min_frames},
        "audio": {"sampleRate": cfg.sample_rate, "windowSeconds": cfg.window_seconds, "numMels": cfg.num_mels,
                  "nFft": cfg.n_fft, "hopLength": cfg.hop_length, "melFrames": cfg.mel_frames,
                  "encoderFrames": cfg.encoder_frames, "framesPerToken": cfg.frames_per_token,
                  "tokensPerWindow": cfg.tokens_per_window, "encoderHidden": cfg.audio_hidden},
        "llm": {"hidden": cfg.hidden, "layers": cfg.layers, "heads": cfg.heads, "kvHeads": cfg.kv_heads,
                "headDim": cfg.head_dim, "vocab": cfg.vocab, "ropeTheta": cfg.rope_theta,
                "maxPositions": cfg.max_positions, "tieEmbeddings": cfg.tie_embeddings},
        "interleave": {"default": interleave_default},
        # PIPELINE §5: the released inference drops every <|im_end|> of the prompt (its pad id);
        # training kept them. The official variant is the default.
        "prompt": {"chatTemplate": CHAT_TEMPLATE, "systemPrompt": SYSTEM_PROMPT, "defaultPrompt": DEFAULT_PROMPT,
                   "variants": {"official": {"dropTokenIds": [151645]}, "training": {"dropTokenIds": []}},
                   "defaultVariant": "official"},
        "generation": generation or {"stopTokenIds": list(cfg.stop_token_ids), "maxNewTokens": max_new_tokens,
                                     "repetitionPenalty": 1.0},
    }
    if golden:
        m["golden"] = file_entry(root, golden)
    return m


def write_manifest(root: str, manifest: Dict) -> str:
    p = os.path.join(root, "bundle.json")
    with open(p, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return p
