"""Qwen2 decoder (PIPELINE §5) with a KV cache, keyed to `model.*` / `lm_head.weight`.

  model.embed_tokens.weight
  model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight
  model.layers.{i}.self_attn.{q,k,v}_proj.{weight,bias}, model.layers.{i}.self_attn.o_proj.weight
  model.layers.{i}.mlp.{gate,up,down}_proj.weight
  model.norm.weight, lm_head.weight (absent when tied)
"""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import SalmonnConfig
from .layers import attend

MASK_VALUE = -1e9


class Qwen2RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rope_inv_freq(head_dim: int, theta: float) -> torch.Tensor:
    # as HF: 1 / theta ** (arange(0, d, 2).float() / d), in float32
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Qwen2Attention(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.cfg = cfg
        h, hd = cfg.hidden, cfg.head_dim
        self.q_proj = nn.Linear(h, cfg.heads * hd, bias=True)
        self.k_proj = nn.Linear(h, cfg.kv_heads * hd, bias=True)
        self.v_proj = nn.Linear(h, cfg.kv_heads * hd, bias=True)
        self.o_proj = nn.Linear(cfg.heads * hd, h, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        cfg = self.cfg
        b, s, _ = x.shape
        q = self.q_proj(x).reshape(b, s, cfg.heads, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(x).reshape(b, s, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(x).reshape(b, s, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        rep = cfg.heads // cfg.kv_heads
        t = k.shape[2]
        kk = k.unsqueeze(2).expand(b, cfg.kv_heads, rep, t, cfg.head_dim).reshape(b, cfg.heads, t, cfg.head_dim)
        vv = v.unsqueeze(2).expand(b, cfg.kv_heads, rep, t, cfg.head_dim).reshape(b, cfg.heads, t, cfg.head_dim)
        o = attend(q, kk, vv, bias)
        o = o.transpose(1, 2).reshape(b, s, cfg.heads * cfg.head_dim)
        return self.o_proj(o), k, v


class Qwen2MLP(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.up_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate, cfg.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Qwen2DecoderLayer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.input_layernorm = Qwen2RMSNorm(cfg.hidden, cfg.rms_eps)
        self.self_attn = Qwen2Attention(cfg)
        self.post_attention_layernorm = Qwen2RMSNorm(cfg.hidden, cfg.rms_eps)
        self.mlp = Qwen2MLP(cfg)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


def attention_bias(attention_mask: torch.Tensor, past_len, seq_len) -> torch.Tensor:
    """[B, 1, S, past+S] additive bias: causal (key j <= past + i) and padding (mask 0)."""
    total = attention_mask.shape[1]
    k_pos = torch.arange(total)
    q_pos = torch.arange(seq_len) + past_len
    causal = k_pos.unsqueeze(0) <= q_pos.unsqueeze(1)  # [S, T]
    pad = attention_mask.unsqueeze(1).unsqueeze(2) > 0  # [B, 1, 1, T]
    allowed = causal.unsqueeze(0).unsqueeze(0) & pad
    return (1.0 - allowed.to(torch.float32)) * MASK_VALUE


class EmbedTokens(nn.Module):
    """Graph `embed_tokens`: input_ids [B,S] int64 -> inputs_embeds [B,S,H]."""

    def __init__(self, embed: nn.Embedding):
        super().__init__()
        self.embed = embed

    def forward(self, input_ids):
        return self.embed(input_ids)


class Qwen2Decoder(nn.Module):
    """Graph `decoder_model_merged` (transformers.js I/O)."""

    def __init__(self, cfg: SalmonnConfig, layers, norm, lm_head_weight_owner):
        super().__init__()
        self.cfg = cfg
        self.layers = layers
        self.norm = norm
        self.head_owner = lm_head_weight_owner  # nn.Linear (untied) or nn.Embedding (tied)
        self.register_buffer("inv_freq", rope_inv_freq(cfg.head_dim, cfg.rope_theta), persistent=False)

    def forward(self, inputs_embeds, attention_mask, position_ids, *past: torch.Tensor):
        cfg = self.cfg
        s = inputs_embeds.shape[1]
        past_len = past[0].shape[2]
        freqs = position_ids.unsqueeze(-1).to(torch.float32) * self.inv_freq  # [B,S,hd/2]
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)  # [B,1,S,hd]
        cos, sin = emb.cos(), emb.sin()
        bias = attention_bias(attention_mask, past_len, s)
        x = inputs_embeds
        presents: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, bias, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        x = self.norm(x)
        logits = torch.matmul(x, self.head_owner.weight.t())
        return (logits, *presents)

    def empty_past(self, batch: int = 1) -> Tuple[torch.Tensor, ...]:
        z = torch.zeros(batch, self.cfg.kv_heads, 0, self.cfg.head_dim)
        return tuple(z for _ in range(2 * self.cfg.layers))
