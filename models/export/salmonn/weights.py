"""Weight sources for the streaming exporter: tensors by checkpoint name, read one at a
time (or a block of rows at a time), always float32.

  SafetensorsSource(dir)   a checkpoint folder (sharded *.safetensors + index json + config.json);
                           header parsed once, each tensor read with seek + read (bf16 -> f32 by
                           the 16-bit shift), so memory holds one tensor (or one row block) at a time
  RandomSource(cfg, seed)  deterministic random tensors at the shapes of `checkpoint_shapes(cfg)`
                           (the released names), keyed by (seed, name, row block): the same name
                           always gets the same values, whatever else is read and in what order
  DictSource(arrays)       in-memory arrays (tiny models, tests)

`effective(...)` wraps a source so that every tensor reads as the float32 value the exported
graph computes with (4-bit round trip or fp16 rounding): the reference for quantised goldens.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from .audio import whisper_sinusoids
from .checkpoint import bf16_to_f32, shard_files
from .config import SalmonnConfig

_NP = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
       "BOOL": "?", "BF16": "<u2"}
RANDOM_BLOCK_ROWS = 1024


class WeightSource:
    """names(), shape(name), rows(name, r0, r1) -> float32 rows of axis 0, get(name)."""

    def names(self) -> List[str]:
        raise NotImplementedError

    def shape(self, name: str) -> Tuple[int, ...]:
        raise NotImplementedError

    def rows(self, name: str, r0: int, r1: int) -> np.ndarray:
        raise NotImplementedError

    def get(self, name: str) -> np.ndarray:
        shp = self.shape(name)
        if len(shp) == 0:
            return self.rows(name, 0, 1).reshape(())
        return self.rows(name, 0, shp[0])

    def __contains__(self, name: str) -> bool:
        return name in set(self.names())

    def nbytes_f32(self, name: str) -> int:
        return int(np.prod(self.shape(name))) * 4


# ----------------------------------------------------------------------------- safetensors
class SafetensorsSource(WeightSource):
    def __init__(self, ckpt_dir: str):
        self.dir = ckpt_dir
        files = shard_files(ckpt_dir)
        if not files:
            raise FileNotFoundError(f"{ckpt_dir}: no *.safetensors")
        self._t: Dict[str, Tuple[str, int, str, Tuple[int, ...]]] = {}
        for fn in files:
            path = os.path.join(ckpt_dir, fn)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n).decode("utf-8"))
            for raw_name, info in header.items():
                if raw_name == "__metadata__":
                    continue
                name = raw_name[len("base_model.model."):] if raw_name.startswith("base_model.model.") else raw_name
                if "lora_" in name:
                    raise ValueError(f"unmerged LoRA weight {raw_name}: merge the adapter into the base first")
                if info["dtype"] not in _NP:
                    raise ValueError(f"{path}: unsupported dtype {info['dtype']} for {raw_name}")
                self._t[name] = (path, 8 + n + info["data_offsets"][0], info["dtype"], tuple(info["shape"]))
        cfg = os.path.join(ckpt_dir, "config.json")
        self.config_json = json.load(open(cfg)) if os.path.exists(cfg) else {}

    def names(self):
        return list(self._t)

    def __contains__(self, name):
        return name in self._t

    def shape(self, name):
        return self._t[name][3]

    def rows(self, name, r0, r1):
        path, off, dt, shp = self._t[name]
        shp1 = shp if shp else (1,)
        row = int(np.prod(shp1[1:])) if len(shp1) > 1 else 1
        item = np.dtype(_NP[dt]).itemsize
        with open(path, "rb") as f:
            f.seek(off + r0 * row * item)
            buf = f.read((r1 - r0) * row * item)
        a = np.frombuffer(buf, dtype=_NP[dt])
        a = bf16_to_f32(a) if dt == "BF16" else a.astype(np.float32)
        return a.reshape((r1 - r0,) + tuple(shp1[1:]))


# ----------------------------------------------------------------------------- random
def checkpoint_shapes(cfg: SalmonnConfig) -> Dict[str, Tuple[int, ...]]:
    """Every weight VideoSalmonn2(cfg).state_dict() has, by its released name, with its shape
    (without building the model: the 7B would need 30 GB)."""
    s: Dict[str, Tuple[int, ...]] = {}
    h, hd = cfg.hidden, cfg.head_dim
    s["model.embed_tokens.weight"] = (cfg.vocab, h)
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        s[p + "self_attn.q_proj.weight"] = (cfg.heads * hd, h)
        s[p + "self_attn.q_proj.bias"] = (cfg.heads * hd,)
        for kv in ("k", "v"):
            s[p + f"self_attn.{kv}_proj.weight"] = (cfg.kv_heads * hd, h)
            s[p + f"self_attn.{kv}_proj.bias"] = (cfg.kv_heads * hd,)
        s[p + "self_attn.o_proj.weight"] = (h, cfg.heads * hd)
        s[p + "mlp.gate_proj.weight"] = (cfg.intermediate, h)
        s[p + "mlp.up_proj.weight"] = (cfg.intermediate, h)
        s[p + "mlp.down_proj.weight"] = (h, cfg.intermediate)
        s[p + "input_layernorm.weight"] = (h,)
        s[p + "post_attention_layernorm.weight"] = (h,)
    s["model.norm.weight"] = (h,)
    vt = "model.vision_tower.vision_tower.vision_model."
    d, g = cfg.vision_hidden, cfg.grid
    s[vt + "embeddings.patch_embedding.weight"] = (d, 3, cfg.patch_size, cfg.patch_size)
    s[vt + "embeddings.patch_embedding.bias"] = (d,)
    s[vt + "embeddings.position_embedding.weight"] = (g * g, d)
    for i in range(cfg.vision_layers):
        p = vt + f"encoder.layers.{i}."
        for ln in ("layer_norm1", "layer_norm2"):
            s[p + ln + ".weight"] = (d,)
            s[p + ln + ".bias"] = (d,)
        for pr in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s[p + f"self_attn.{pr}.weight"] = (d, d)
            s[p + f"self_attn.{pr}.bias"] = (d,)
        s[p + "mlp.fc1.weight"] = (cfg.vision_intermediate, d)
        s[p + "mlp.fc1.bias"] = (cfg.vision_intermediate,)
        s[p + "mlp.fc2.weight"] = (d, cfg.vision_intermediate)
        s[p + "mlp.fc2.bias"] = (d,)
    s["model.mm_projector.0.weight"] = (h, d)
    s["model.mm_projector.0.bias"] = (h,)
    s["model.mm_projector.2.weight"] = (h, h)
    s["model.mm_projector.2.bias"] = (h,)
    s["model.image_newline"] = (h,)
    if not cfg.tie_embeddings:
        s["lm_head.weight"] = (cfg.vocab, h)
    a, f = cfg.audio_hidden, cfg.audio_ffn
    s["speech_encoder.conv1.weight"] = (a, cfg.num_mels, 3)
    s["speech_encoder.conv1.bias"] = (a,)
    s["speech_encoder.conv2.weight"] = (a, a, 3)
    s["speech_encoder.conv2.bias"] = (a,)
    s["speech_encoder.embed_positions.weight"] = (cfg.encoder_frames, a)
    for i in range(cfg.audio_layers):
        p = f"speech_encoder.layers.{i}."
        for pr in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s[p + f"self_attn.{pr}.weight"] = (a, a)
            if pr != "k_proj":
                s[p + f"self_attn.{pr}.bias"] = (a,)
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            s[p + ln + ".weight"] = (a,)
            s[p + ln + ".bias"] = (a,)
        s[p + "fc1.weight"] = (f, a)
        s[p + "fc1.bias"] = (f,)
        s[p + "fc2.weight"] = (a, f)
        s[p + "fc2.bias"] = (a,)
    s["speech_encoder.layer_norm.weight"] = (a,)
    s["speech_encoder.layer_norm.bias"] = (a,)
    s["ln_speech.weight"] = (a,)
    s["ln_speech.bias"] = (a,)
    q = cfg.qformer_hidden
    s["speech_Qformer.bert.embeddings.LayerNorm.weight"] = (q,)
    s["speech_Qformer.bert.embeddings.LayerNorm.bias"] = (q,)
    for i in range(cfg.qformer_layers):
        p = f"speech_Qformer.bert.encoder.layer.{i}."
        for att, kv in (("attention", q), ("crossattention", a)):
            s[p + f"{att}.self.query.weight"] = (q, q)
            s[p + f"{att}.self.query.bias"] = (q,)
            for kk in ("key", "value"):
                s[p + f"{att}.self.{kk}.weight"] = (q, kv)
                s[p + f"{att}.self.{kk}.bias"] = (q,)
            s[p + f"{att}.output.dense.weight"] = (q, q)
            s[p + f"{att}.output.dense.bias"] = (q,)
            s[p + f"{att}.output.LayerNorm.weight"] = (q,)
            s[p + f"{att}.output.LayerNorm.bias"] = (q,)
        s[p + "intermediate_query.dense.weight"] = (cfg.qformer_intermediate, q)
        s[p + "intermediate_query.dense.bias"] = (cfg.qformer_intermediate,)
        s[p + "output_query.dense.weight"] = (q, cfg.qformer_intermediate)
        s[p + "output_query.dense.bias"] = (q,)
        s[p + "output_query.LayerNorm.weight"] = (q,)
        s[p + "output_query.LayerNorm.bias"] = (q,)
    s["speech_query_tokens"] = (1, cfg.qformer_queries, q)
    s["speech_llama_proj.weight"] = (h, q)
    s["speech_llama_proj.bias"] = (h,)
    for j in (0, 2):
        s[f"final_linear.{j}.weight"] = (h, h)
        s[f"final_linear.{j}.bias"] = (h,)
    return s


class RandomSource(WeightSource):
    """Random tensors with the rules of VideoSalmonn2.init_random (norms 1 + 0.1 N / 0.1 N,
    biases 0.02 N, matrices N / sqrt(fan_in), embeddings N(0, 1), Whisper's sinusoid table),
    from generators keyed by (seed, crc32(name), block of 1024 rows). `hot_tokens` rows of the
    output embedding are scaled by `hot_scale` (as init_random: wide greedy margins)."""

    def __init__(self, cfg: SalmonnConfig, seed: int = 0, hot_tokens: Iterable[int] = range(220, 4060, 60),
                 hot_scale: float = 4.0):
        self.cfg, self.seed = cfg, int(seed)
        self._s = checkpoint_shapes(cfg)
        self.hot = np.array([i for i in hot_tokens if i < cfg.vocab], np.int64)
        self.hot_scale = float(hot_scale)
        self.head = "model.embed_tokens.weight" if cfg.tie_embeddings else "lm_head.weight"

    def names(self):
        return list(self._s)

    def __contains__(self, name):
        return name in self._s

    def shape(self, name):
        return self._s[name]

    def _block(self, name: str, b: int, n_rows: int, rest: Tuple[int, ...]) -> np.ndarray:
        rng = np.random.default_rng([self.seed, zlib.crc32(name.encode()), b])
        return rng.standard_normal((n_rows,) + rest, dtype=np.float32)

    def rows(self, name, r0, r1):
        shp = self._s[name]
        shp1 = shp if shp else (1,)
        rest = tuple(shp1[1:])
        if name.endswith("embed_positions.weight"):
            return whisper_sinusoids(*shp).numpy()[r0:r1]
        parts = []
        bs = RANDOM_BLOCK_ROWS
        for b in range(r0 // bs, -(-r1 // bs)):
            lo, hi = b * bs, min((b + 1) * bs, shp1[0])
            blk = self._block(name, b, hi - lo, rest)
            parts.append(blk[max(r0, lo) - lo: min(r1, hi) - lo])
        r = np.concatenate(parts) if len(parts) > 1 else parts[0]
        leaf = name.rsplit(".", 1)[-1]
        if "norm" in name.lower() or "LayerNorm" in name or name.startswith("ln_speech"):
            r = 1.0 + 0.1 * r if leaf == "weight" else 0.1 * r
        elif leaf == "bias":
            r = 0.02 * r
        elif len(shp) >= 2 and "embed" not in name:
            r = r / np.float32(np.sqrt(np.prod(shp[1:])))
        if name == self.head and self.hot.size:
            sel = self.hot[(self.hot >= r0) & (self.hot < r1)]
            r = r.copy()
            r[sel - r0] *= np.float32(self.hot_scale)
        return r.astype(np.float32)


class DictSource(WeightSource):
    def __init__(self, arrays: Dict[str, np.ndarray], config_json: Optional[dict] = None):
        self.a = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        self.config_json = config_json or {}

    def names(self):
        return list(self.a)

    def __contains__(self, name):
        return name in self.a

    def shape(self, name):
        return tuple(self.a[name].shape)

    def rows(self, name, r0, r1):
        a = self.a[name]
        return a.reshape(1) if a.ndim == 0 else a[r0:r1]


class MappedSource(WeightSource):
    """`src` with each full tensor passed through fn(name, array) (effective weights)."""

    def __init__(self, src: WeightSource, fn: Callable[[str, np.ndarray], np.ndarray]):
        self.src, self.fn = src, fn

    def names(self):
        return self.src.names()

    def __contains__(self, name):
        return name in self.src

    def shape(self, name):
        return self.src.shape(name)

    def rows(self, name, r0, r1):
        return self.fn(name, self.src.get(name))[r0:r1]


def state_dict_of(src: WeightSource, names: Iterable[str]) -> Dict[str, np.ndarray]:
    return {n: src.get(n) for n in names}
