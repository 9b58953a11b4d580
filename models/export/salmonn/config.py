"""Every number the architecture needs, in one dataclass (ARCHITECTURE: one truth for numbers)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import List


@dataclass
class SalmonnConfig:
    # --- vision (PIPELINE §1-§2) -------------------------------------------------
    image_size: int = 384
    patch_size: int = 14
    vision_hidden: int = 1152
    vision_layers: int = 26  # SigLIP-so400m has 27; the checkpoint drops the last one
    vision_heads: int = 16
    vision_intermediate: int = 4304
    vision_eps: float = 1e-6
    image_mean: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    image_std: List[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    pool_stride: int = 2
    # --- audio (PIPELINE §3) -----------------------------------------------------
    sample_rate: int = 16000
    window_seconds: int = 30
    num_mels: int = 128
    n_fft: int = 400
    hop_length: int = 160
    mel_frames: int = 3000
    audio_hidden: int = 1280
    audio_layers: int = 32
    audio_heads: int = 20
    audio_ffn: int = 5120
    encoder_frames: int = 1500
    qformer_hidden: int = 768
    qformer_layers: int = 2
    qformer_heads: int = 12
    qformer_intermediate: int = 3072
    qformer_queries: int = 1
    qformer_eps: float = 1e-12
    second_per_window: float = 0.5
    # --- LLM (PIPELINE §5) -------------------------------------------------------
    hidden: int = 3584
    layers: int = 28
    heads: int = 28
    kv_heads: int = 4
    head_dim: int = 128
    intermediate: int = 18944
    vocab: int = 152064
    rope_theta: float = 1e6
    rms_eps: float = 1e-6
    max_positions: int = 32768
    tie_embeddings: bool = False
    # --- sampling / prompt -------------------------------------------------------
    fps: float = 1.0
    max_frames: int = 30
    min_frames: int = 2
    stop_token_ids: List[int] = field(default_factory=lambda: [151645])
    im_start_id: int = 151644

    # derived numbers -------------------------------------------------------------
    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def pooled_grid(self) -> int:
        return self.grid // self.pool_stride

    @property
    def tokens_per_frame(self) -> int:
        return self.pooled_grid * (self.pooled_grid + 1)

    @property
    def frames_per_token(self) -> int:
        # k = round(1500 * w / 30) (checkpoint: kernel of the window-level Q-Former)
        return int(round(self.encoder_frames * self.second_per_window / self.window_seconds))

    @property
    def tokens_per_window(self) -> int:
        return self.encoder_frames // self.frames_per_token

    @property
    def window_samples(self) -> int:
        return self.sample_rate * self.window_seconds

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SalmonnConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def real_config() -> SalmonnConfig:
    """The released 7B checkpoint (tsinghua-ee/video-SALMONN-2)."""
    return SalmonnConfig()


def tiny_config() -> SalmonnConfig:
    """Same structure, tiny widths; time axes stay real (3000 mel frames, 1500 encoder
    frames, 25-frame windows, 60 tokens per 30 s). Image 28 / patch 4 -> 7x7 grid ->
    3x3 pooled + 3 newlines = 12 tokens per frame."""
    return SalmonnConfig(
        image_size=28, patch_size=4, vision_hidden=32, vision_layers=2, vision_heads=2,
        vision_intermediate=64,
        num_mels=16, audio_hidden=32, audio_layers=2, audio_heads=2, audio_ffn=64,
        qformer_hidden=32, qformer_layers=2, qformer_heads=2, qformer_intermediate=64,
        hidden=24, layers=2, heads=4, kv_heads=2, head_dim=6, intermediate=48,
        vocab=151936, rope_theta=1e6, max_positions=32768, tie_embeddings=False,
    )


def tiny_q4_config() -> SalmonnConfig:
    """tiny_config() with an LLM GroupQueryAttention accepts (onnxruntime's GQA with rotary
    needs head_dim % 16 == 0): hidden 32, 4 heads of 16 (q width 64), 2 KV heads, FFN 64. The tiny q4/q4f16
    bundles use it (the fp32 tiny bundle keeps tiny_config())."""
    return dataclasses.replace(tiny_config(), hidden=32, heads=4, kv_heads=2, head_dim=16, intermediate=64)


# Real shapes of public models, for random-weight bundles that time the runtime at size
# (export.py --random-shape). Each preset sets one part; parts not named stay tiny.
SHAPE_PRESETS = {
    # LLM: Qwen2-0.5B (config.json of Qwen/Qwen2-0.5B; tied embeddings)
    "qwen2-0.5b": dict(hidden=896, layers=24, heads=14, kv_heads=2, head_dim=64, intermediate=4864,
                       vocab=151936, rope_theta=1e6, rms_eps=1e-6, max_positions=32768, tie_embeddings=True),
    # audio: Whisper-base encoder (d 512, 6 layers, 8 heads, FFN 2048, 80 mels) + the
    # checkpoint's real window Q-Former (768, 2 layers, 12 heads, FFN 3072)
    "whisper-base": dict(num_mels=80, audio_hidden=512, audio_layers=6, audio_heads=8, audio_ffn=2048,
                         qformer_hidden=768, qformer_layers=2, qformer_heads=12, qformer_intermediate=3072),
    # LLM: Qwen2-7B (the checkpoint's LLM: untied, vocab 152064)
    "qwen2-7b": dict(hidden=3584, layers=28, heads=28, kv_heads=4, head_dim=128, intermediate=18944,
                     vocab=152064, rope_theta=1e6, rms_eps=1e-6, max_positions=32768, tie_embeddings=False),
    # audio: the checkpoint's Whisper-large-v3 encoder + window Q-Former
    "whisper-large-v3": dict(num_mels=128, audio_hidden=1280, audio_layers=32, audio_heads=20, audio_ffn=5120,
                             qformer_hidden=768, qformer_layers=2, qformer_heads=12, qformer_intermediate=3072),
    # vision: SigLIP-so400m-patch14-384 without its last layer (the checkpoint's tower)
    "siglip-so400m": dict(image_size=384, patch_size=14, vision_hidden=1152, vision_layers=26, vision_heads=16,
                          vision_intermediate=4304),
}


def random_shape_config(presets: List[str], base: "SalmonnConfig" = None) -> SalmonnConfig:
    """tiny_config() (or `base`) with the named parts replaced by real shapes (SHAPE_PRESETS)."""
    cfg = (base or tiny_config()).to_dict()
    for p in presets:
        if p not in SHAPE_PRESETS:
            raise ValueError(f"unknown shape preset {p!r}; known: {', '.join(SHAPE_PRESETS)}")
        cfg.update(SHAPE_PRESETS[p])
    return SalmonnConfig.from_dict(cfg)


def audio_token_count(seconds: float, cfg: SalmonnConfig) -> int:
    """A = tokens_per_window * ceil(samples / window_samples), audio padded to >= 1 s."""
    n = max(int(round(seconds * cfg.sample_rate)), cfg.sample_rate)
    return cfg.tokens_per_window * math.ceil(n / cfg.window_samples)
