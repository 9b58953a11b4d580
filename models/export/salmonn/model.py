"""The whole checkpoint as one nn.Module whose state_dict keys are the checkpoint's own
(VideoSALMONN2ForCausalLM), plus the five exported graph modules built from it."""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn as nn

from .audio import AudioAligner, SpeechQformer, WhisperEncoder, final_linear, whisper_sinusoids
from .config import SalmonnConfig
from .qwen2 import EmbedTokens, Qwen2Decoder, Qwen2DecoderLayer, Qwen2RMSNorm
from .vision import VisionEncoder, VisionTower, mm_projector


class InnerModel(nn.Module):
    """`model.*`: Qwen2Model + LlavaMetaModel (vision tower, projector, newline)."""

    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.hidden)
        self.layers = nn.ModuleList([Qwen2DecoderLayer(cfg) for _ in range(cfg.layers)])
        self.norm = Qwen2RMSNorm(cfg.hidden, cfg.rms_eps)
        self.vision_tower = VisionTower(cfg)
        self.mm_projector = mm_projector(cfg)
        self.image_newline = nn.Parameter(torch.zeros(cfg.hidden))


class VideoSalmonn2(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.cfg = cfg
        self.model = InnerModel(cfg)
        if not cfg.tie_embeddings:
            self.lm_head = nn.Linear(cfg.hidden, cfg.vocab, bias=False)
        self.speech_encoder = WhisperEncoder(cfg)
        self.ln_speech = nn.LayerNorm(cfg.audio_hidden)
        self.speech_Qformer = SpeechQformer(cfg)
        self.speech_query_tokens = nn.Parameter(torch.zeros(1, cfg.qformer_queries, cfg.qformer_hidden))
        self.speech_llama_proj = nn.Linear(cfg.qformer_hidden, cfg.hidden)
        self.final_linear = final_linear(cfg)
        self.eval()

    # graphs --------------------------------------------------------------------------
    def graphs(self) -> Dict[str, nn.Module]:
        cfg = self.cfg
        m = self.model
        head = m.embed_tokens if cfg.tie_embeddings else self.lm_head
        g = {
            "vision_encoder": VisionEncoder(cfg, m.vision_tower, m.mm_projector, m.image_newline),
            "audio_encoder": self.speech_encoder,
            "audio_aligner": AudioAligner(cfg, self.ln_speech, self.speech_Qformer, self.speech_query_tokens,
                                          self.speech_llama_proj, self.final_linear),
            "embed_tokens": EmbedTokens(m.embed_tokens),
            "decoder_model_merged": Qwen2Decoder(cfg, m.layers, m.norm, head),
        }
        for mod in g.values():
            mod.eval()
        return g

    # random weights ------------------------------------------------------------------
    @torch.no_grad()
    def init_random(self, seed: int, logit_scale: float = 1.0, hot_tokens=range(220, 4060, 60), hot_scale: float = 4.0) -> "VideoSalmonn2":
        """Deterministic random weights: parameters filled in state_dict order from one
        generator. Linear/conv weights ~ N(0, 1/fan_in), biases ~ N(0, 0.02^2), norms ~
        1 + N(0, 0.1^2) / N(0, 0.1^2), embeddings ~ N(0, 1). Whisper's embed_positions
        gets its sinusoid table. To keep greedy decoding far from ties on every backend, the
        output-embedding rows of 64 ordinary tokens (`hot_tokens`) are scaled by
        `hot_scale`: they dominate the argmax with wide top-1/top-2 gaps."""
        gen = torch.Generator().manual_seed(int(seed))
        for name, p in self.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            leaf = name.rsplit(".", 1)[-1]
            if name.endswith("embed_positions.weight"):
                p.copy_(whisper_sinusoids(*p.shape))
            elif "norm" in name.lower() or "LayerNorm" in name or name.startswith("ln_speech"):
                p.copy_(1.0 + 0.1 * r if leaf == "weight" else 0.1 * r)
            elif leaf == "bias":
                p.copy_(0.02 * r)
            elif p.dim() >= 2 and "embed" not in name:
                fan_in = p[0].numel()
                p.copy_(r / fan_in ** 0.5)
            else:  # embeddings, position tables, image_newline, query tokens
                p.copy_(r)
        self.model.norm.weight.mul_(logit_scale)
        head = self.model.embed_tokens.weight if self.cfg.tie_embeddings else self.lm_head.weight
        idx = torch.tensor([i for i in hot_tokens if i < self.cfg.vocab], dtype=torch.long)
        head[idx] *= hot_scale
        return self
