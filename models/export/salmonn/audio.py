"""Audio branch (PIPELINE §3): Whisper encoder, ln_speech, window-level Q-Former,
speech_llama_proj, final_linear, segment position embedding (added after the aligner).

Checkpoint names (top level of VideoSALMONN2ForCausalLM):
  speech_encoder.{conv1,conv2}.{weight,bias}, speech_encoder.embed_positions.weight
  speech_encoder.layers.{i}.self_attn.{q_proj,v_proj,out_proj}.{weight,bias}, ...k_proj.weight (no bias)
  speech_encoder.layers.{i}.{self_attn_layer_norm,final_layer_norm}.{weight,bias}
  speech_encoder.layers.{i}.{fc1,fc2}.{weight,bias}, speech_encoder.layer_norm.{weight,bias}
  ln_speech.{weight,bias}
  speech_query_tokens [1, queries, 768]
  speech_Qformer.bert.embeddings.LayerNorm.{weight,bias}   (applied to the query embeddings)
  speech_Qformer.bert.encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias}
  speech_Qformer.bert.encoder.layer.{i}.attention.output.{dense,LayerNorm}.{weight,bias}
  speech_Qformer.bert.encoder.layer.{i}.crossattention.self.{query,key,value}.{weight,bias}
  speech_Qformer.bert.encoder.layer.{i}.crossattention.output.{dense,LayerNorm}.{weight,bias}
  speech_Qformer.bert.encoder.layer.{i}.intermediate_query.dense.{weight,bias}
  speech_Qformer.bert.encoder.layer.{i}.output_query.{dense,LayerNorm}.{weight,bias}
  speech_llama_proj.{weight,bias}, final_linear.{0,2}.{weight,bias}
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from .config import SalmonnConfig
from .layers import SelfAttention, attend, gelu_erf, merge_heads, split_heads


# ----------------------------------------------------------------------------- whisper
class WhisperEncoderLayer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        d = cfg.audio_hidden
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.self_attn = SelfAttention(d, cfg.audio_heads, k_bias=False)
        self.final_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg.audio_ffn)
        self.fc2 = nn.Linear(cfg.audio_ffn, d)

    def forward(self, x):
        x = x + self.self_attn(self.self_attn_layer_norm(x))
        return x + self.fc2(gelu_erf(self.fc1(self.final_layer_norm(x))))


def whisper_sinusoids(length: int, channels: int) -> torch.Tensor:
    """Whisper's embed_positions init (the checkpoint stores the table as a weight)."""
    inc = math.log(10000) / (channels // 2 - 1)
    inv = np.exp(-inc * np.arange(channels // 2))
    t = np.arange(length)[:, None] * inv[None, :]
    return torch.from_numpy(np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32))


class WhisperEncoder(nn.Module):
    """Graph `audio_encoder`: input_features [W, mels, 3000] -> last_hidden_state [W, 1500, D]."""

    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        d = cfg.audio_hidden
        self.conv1 = nn.Conv1d(cfg.num_mels, d, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(cfg.encoder_frames, d)
        self.layers = nn.ModuleList([WhisperEncoderLayer(cfg) for _ in range(cfg.audio_layers)])
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_features):
        x = gelu_erf(self.conv1(input_features))
        x = gelu_erf(self.conv2(x)).permute(0, 2, 1)
        x = x + self.embed_positions.weight.unsqueeze(0)
        for layer in self.layers:
            x = layer(x)
        return self.layer_norm(x)


# ----------------------------------------------------------------------------- Q-Former
class BertSelfAttention(nn.Module):
    def __init__(self, dim: int, kv_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(kv_dim, dim)
        self.value = nn.Linear(kv_dim, dim)

    def forward(self, x, context):
        q = split_heads(self.query(x), self.heads)
        k = split_heads(self.key(context), self.heads)
        v = split_heads(self.value(context), self.heads)
        return merge_heads(attend(q, k, v))


class BertSelfOutput(nn.Module):
    def __init__(self, dim: int, inner: int, eps: float):
        super().__init__()
        self.dense = nn.Linear(inner, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)  # post-LN


class BertAttention(nn.Module):
    def __init__(self, cfg: SalmonnConfig, kv_dim: int):
        super().__init__()
        d = cfg.qformer_hidden
        self.self = BertSelfAttention(d, kv_dim, cfg.qformer_heads)
        self.output = BertSelfOutput(d, d, cfg.qformer_eps)

    def forward(self, x, context):
        return self.output(self.self(x, context), x)


class BertIntermediate(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.dense = nn.Linear(dim, inner)

    def forward(self, x):
        return gelu_erf(self.dense(x))


class QformerLayer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        d = cfg.qformer_hidden
        self.attention = BertAttention(cfg, d)
        self.crossattention = BertAttention(cfg, cfg.audio_hidden)
        self.intermediate_query = BertIntermediate(d, cfg.qformer_intermediate)
        self.output_query = BertSelfOutput(d, cfg.qformer_intermediate, cfg.qformer_eps)

    def forward(self, q, frames):
        q = self.attention(q, q)  # self-attention over the queries
        q = self.crossattention(q, frames)  # cross-attention to the window's frames
        return self.output_query(self.intermediate_query(q), q)


class QformerEmbeddings(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(cfg.qformer_hidden, eps=cfg.qformer_eps)


class QformerEncoder(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.layer = nn.ModuleList([QformerLayer(cfg) for _ in range(cfg.qformer_layers)])


class QformerBert(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.embeddings = QformerEmbeddings(cfg)
        self.encoder = QformerEncoder(cfg)

    def forward(self, query, frames):
        q = self.embeddings.LayerNorm(query)
        for layer in self.encoder.layer:
            q = layer(q, frames)
        return q


class SpeechQformer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.bert = QformerBert(cfg)


def final_linear(cfg: SalmonnConfig) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden))


def segment_inv_freq(hidden: int) -> torch.Tensor:
    """10000^(-2k/H) for k = 0..H/2-1 (float64 -> float32)."""
    k = np.arange(0, hidden, 2, dtype=np.float64)
    return torch.from_numpy(np.power(10000.0, -k / hidden).astype(np.float32))


def segment_position_table(rows: int, hidden: int) -> torch.Tensor:
    """[rows, H]: row 0 zeros; row p>=1: [2k] = sin((p-1) w_k), [2k+1] = cos((p-1) w_k)."""
    inv = segment_inv_freq(hidden)
    p = torch.arange(rows, dtype=torch.float32)
    return _segment_pe(p, inv)


def _segment_pe(p: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    ang = (p - 1.0).unsqueeze(1) * inv.unsqueeze(0)  # [rows, H/2]
    pe = torch.stack([torch.sin(ang), torch.cos(ang)], dim=2).reshape(p.shape[0], -1)
    keep = (p > 0.5).to(pe.dtype).unsqueeze(1)
    return pe * keep


class AudioAligner(nn.Module):
    """Graph `audio_aligner`: encoder_hidden_states [W, 1500, D] -> audio_features
    [W * tokens_per_window, H]. Window j of the call gets segment PE row j: pass all
    30 s windows of one clip in one call, in order."""

    def __init__(self, cfg: SalmonnConfig, ln_speech, qformer, query_tokens, proj, final):
        super().__init__()
        self.cfg = cfg
        self.ln_speech = ln_speech
        self.qformer = qformer
        self.query_tokens = query_tokens
        self.proj = proj
        self.final = final
        self.register_buffer("inv_freq", segment_inv_freq(cfg.hidden), persistent=False)

    def forward(self, encoder_hidden_states):
        cfg = self.cfg
        x = self.ln_speech(encoder_hidden_states)
        w = x.shape[0]
        k = cfg.frames_per_token
        n = cfg.encoder_frames // k
        frames = x.reshape(w * n, k, cfg.audio_hidden)  # = F.unfold with stride == kernel
        q = self.query_tokens.expand(w * n, cfg.qformer_queries, cfg.qformer_hidden)
        q = self.qformer.bert(q, frames)
        y = self.final(self.proj(q))  # [W*n, queries, H]
        y = y.reshape(w, n * cfg.qformer_queries, cfg.hidden)
        pos = torch.arange(w).to(torch.float32)
        y = y + _segment_pe(pos, self.inv_freq).unsqueeze(1)
        return y.reshape(w * n * cfg.qformer_queries, cfg.hidden)
