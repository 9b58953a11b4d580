"""Read/write the checkpoint's file layout without the safetensors package.

safetensors = u64 little-endian header length N, N bytes of JSON header
({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), raw
little-endian tensor bytes (offsets relative to the end of the header).
bf16 -> float32: uint16 -> uint32 << 16 -> view as float32.
"""
from __future__ import annotations

import json
import os
import re
import struct
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch

from .config import SalmonnConfig

_NP = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8,
       "I8": np.int8, "BOOL": np.bool_, "F64": np.float64, "I16": np.int16}


def bf16_to_f32(u16: np.ndarray) -> np.ndarray:
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x: np.ndarray) -> np.ndarray:
    """Round-to-nearest-even float32 -> bf16 bits (uint16)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = u + 0x7FFF + ((u >> 16) & 1)
    return (u >> 16).astype(np.uint16)


class LazyTensor:
    """A tensor of a memory-mapped file, decoded (bf16/fp16 -> float32) only on np.asarray:
    a 7B checkpoint is never held twice in float32."""

    def __init__(self, raw: np.ndarray, dtype: str, shape):
        self.raw, self.dtype_name, self.shape = raw, dtype, tuple(shape)

    def __array__(self, dtype=None):
        dt = self.dtype_name
        if dt == "BF16":
            arr = bf16_to_f32(np.frombuffer(self.raw, dtype="<u2"))
        elif dt in _NP:
            arr = np.frombuffer(self.raw, dtype=np.dtype(_NP[dt]).newbyteorder("<")).astype(_NP[dt])
            if arr.dtype == np.float16:
                arr = arr.astype(np.float32)
        else:
            raise ValueError(f"unsupported dtype {dt}")
        arr = arr.reshape(self.shape)
        return arr if dtype is None else arr.astype(dtype)


def read_safetensors(path: str, names: Optional[Iterable[str]] = None, lazy: bool = False) -> Dict[str, np.ndarray]:
    """All (or the named) tensors of one file as float32 / native numpy arrays
    (or LazyTensor views with lazy=True)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    base = 8 + n
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    want = set(names) if names is not None else None
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or (want is not None and name not in want):
            continue
        b, e = info["data_offsets"]
        raw = mm[base + b: base + e]
        dt = info["dtype"]
        if dt not in _NP and dt != "BF16":
            raise ValueError(f"{path}: unsupported dtype {dt} for {name}")
        if lazy:
            out[name] = LazyTensor(raw, dt, info["shape"])
            continue
        if dt == "BF16":
            arr = bf16_to_f32(np.frombuffer(raw, dtype="<u2"))
        elif dt in _NP:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP[dt]).newbyteorder("<")).astype(_NP[dt])
            if arr.dtype == np.float16:
                arr = arr.astype(np.float32)
        else:
            raise ValueError(f"{path}: unsupported dtype {dt} for {name}")
        out[name] = arr.reshape(info["shape"])
    return out


def write_safetensors(path: str, tensors: Dict[str, np.ndarray], dtype: str = "BF16") -> None:
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=np.float32)
        data = f32_to_bf16(a).tobytes() if dtype == "BF16" else a.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_sharded_checkpoint(out_dir: str, state: Dict[str, torch.Tensor], config: dict, shards: int = 3) -> None:
    """The released layout: model-0000i-of-0000n.safetensors (bf16) + index + config.json."""
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(state)
    per = -(-len(names) // shards)
    weight_map, total = {}, 0
    for i in range(shards):
        part = names[i * per:(i + 1) * per]
        fname = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(out_dir, fname), {k: state[k].detach().float().numpy() for k in part})
        for k in part:
            weight_map[k] = fname
            total += state[k].numel() * 2
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def shard_files(ckpt_dir: str) -> List[str]:
    """The checkpoint's *.safetensors shards: from model.safetensors.index.json, else the folder."""
    idx = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            return sorted(set(json.load(f)["weight_map"].values()))
    return sorted(p for p in os.listdir(ckpt_dir) if p.endswith(".safetensors"))


def read_checkpoint(ckpt_dir: str, lazy: bool = True) -> Dict[str, np.ndarray]:
    out = {}
    for fn in shard_files(ckpt_dir):
        out.update(read_safetensors(os.path.join(ckpt_dir, fn), lazy=lazy))
    return out


# ------------------------------------------------------------------------------- names
_IGNORED = [
    r"^model\.vision_tower\.vision_tower\.vision_model\.post_layernorm\.",
    r"^model\.vision_tower\.vision_tower\.vision_model\.head\.",
    r"^speech_Qformer\.bert\.embeddings\.position_ids$",
    r"^speech_Qformer\.bert\.embeddings\.(word|position)_embeddings\.",
    r"^speech_Qformer\.cls\.",
    r"^speech_Qformer\.bert\.encoder\.layer\.\d+\.(intermediate|output)\.",
    r"\.rotary_emb\.inv_freq$",
]


def normalise_names(sd: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    out = {}
    for k, v in sd.items():
        if "lora_" in k:
            raise ValueError(f"unmerged LoRA weight {k}: merge the adapter into the base first")
        k2 = k
        for p in ("base_model.model.",):
            if k2.startswith(p):
                k2 = k2[len(p):]
        out[k2] = v
    return out


def _count(sd, pattern) -> int:
    rx = re.compile(pattern)
    ids = {int(m.group(1)) for k in sd for m in [rx.match(k)] if m}
    return max(ids) + 1 if ids else 0


def config_from_checkpoint(sd: Dict[str, np.ndarray], cfg_json: dict) -> SalmonnConfig:
    """LLM numbers from config.json (Qwen2 keys); vision/audio widths and depths from
    the weight shapes; head counts default to SigLIP-so400m (16), Whisper-large-v3 (20)
    and the BERT-base Q-Former (12) unless config.json has `salmonn_export` overrides."""
    vt = "model.vision_tower.vision_tower.vision_model."
    pe = sd[vt + "embeddings.patch_embedding.weight"]
    n_pos = sd[vt + "embeddings.position_embedding.weight"].shape[0]
    grid = int(round(n_pos ** 0.5))
    v_layers = _count(sd, re.escape(vt) + r"encoder\.layers\.(\d+)\.")
    if v_layers == 27:  # full SigLIP stored: the model drops its last layer
        v_layers = 26
    h = int(cfg_json["hidden_size"])
    heads = int(cfg_json["num_attention_heads"])
    d = dict(
        image_size=grid * pe.shape[2], patch_size=int(pe.shape[2]), vision_hidden=int(pe.shape[0]),
        vision_layers=v_layers, vision_intermediate=int(sd[vt + "encoder.layers.0.mlp.fc1.weight"].shape[0]),
        num_mels=int(sd["speech_encoder.conv1.weight"].shape[1]),
        audio_hidden=int(sd["speech_encoder.conv1.weight"].shape[0]),
        audio_layers=_count(sd, r"speech_encoder\.layers\.(\d+)\."),
        audio_ffn=int(sd["speech_encoder.layers.0.fc1.weight"].shape[0]),
        encoder_frames=int(sd["speech_encoder.embed_positions.weight"].shape[0]),
        qformer_hidden=int(sd["speech_query_tokens"].shape[-1]),
        qformer_queries=int(sd["speech_query_tokens"].shape[1]),
        qformer_layers=_count(sd, r"speech_Qformer\.bert\.encoder\.layer\.(\d+)\."),
        qformer_intermediate=int(sd["speech_Qformer.bert.encoder.layer.0.intermediate_query.dense.weight"].shape[0]),
        hidden=h, layers=int(cfg_json["num_hidden_layers"]), heads=heads,
        kv_heads=int(cfg_json.get("num_key_value_heads", heads)),
        head_dim=int(cfg_json.get("head_dim", h // heads)),
        intermediate=int(cfg_json["intermediate_size"]), vocab=int(cfg_json["vocab_size"]),
        rope_theta=float(cfg_json.get("rope_theta", 1e6)), rms_eps=float(cfg_json.get("rms_norm_eps", 1e-6)),
        max_positions=int(cfg_json.get("max_position_embeddings", 32768)),
        tie_embeddings="lm_head.weight" not in sd,
    )
    if "second_per_window" in cfg_json:
        d["second_per_window"] = float(cfg_json["second_per_window"])
    if cfg_json.get("mm_spatial_pool_stride"):
        d["pool_stride"] = int(cfg_json["mm_spatial_pool_stride"])
    d.update(cfg_json.get("salmonn_export", {}))
    return SalmonnConfig.from_dict(d)


def load_into(model: torch.nn.Module, sd: Dict[str, np.ndarray]) -> list:
    """Copy the checkpoint into the model; every model parameter must be present.
    Returns the checkpoint keys that were not used (known extras are skipped silently)."""
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise KeyError(f"checkpoint lacks {len(missing)} weights, e.g. {missing[:5]}")
    with torch.no_grad():
        for k, t in own.items():
            a = sd[k]
            if tuple(a.shape) != tuple(t.shape):
                raise ValueError(f"{k}: checkpoint shape {a.shape} != model shape {tuple(t.shape)}")
            t.copy_(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
    rx = [re.compile(p) for p in _IGNORED]
    v_extra = re.compile(r"^model\.vision_tower\.vision_tower\.vision_model\.encoder\.layers\.(\d+)\.")
    unused = []
    for k in sd:
        if k in own or any(r.search(k) for r in rx):
            continue
        m = v_extra.match(k)
        if m and int(m.group(1)) >= model.cfg.vision_layers:
            continue  # the dropped last SigLIP layer
        unused.append(k)
    return unused
