"""Visual branch (PIPELINE §2): SigLIP tower without its last layer, post-LN or head;
mlp2x_gelu projector; 2x2 max pool after the projector; image_newline per pooled row.

Checkpoint names (prefix `model.`):
  vision_tower.vision_tower.vision_model.embeddings.patch_embedding.{weight,bias}
  vision_tower.vision_tower.vision_model.embeddings.position_embedding.weight
  vision_tower.vision_tower.vision_model.encoder.layers.{i}.{layer_norm1,layer_norm2}.{weight,bias}
  vision_tower.vision_tower.vision_model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.{weight,bias}
  vision_tower.vision_tower.vision_model.encoder.layers.{i}.mlp.{fc1,fc2}.{weight,bias}
  mm_projector.{0,2}.{weight,bias}, image_newline
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import SalmonnConfig
from .layers import SelfAttention, gelu_erf, gelu_tanh


class SiglipMLP(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, inner)
        self.fc2 = nn.Linear(inner, dim)

    def forward(self, x):
        return self.fc2(gelu_tanh(self.fc1(x)))  # SigLIP: gelu_pytorch_tanh


class SiglipEncoderLayer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        d = cfg.vision_hidden
        self.layer_norm1 = nn.LayerNorm(d, eps=cfg.vision_eps)
        self.self_attn = SelfAttention(d, cfg.vision_heads)
        self.layer_norm2 = nn.LayerNorm(d, eps=cfg.vision_eps)
        self.mlp = SiglipMLP(d, cfg.vision_intermediate)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class SiglipEmbeddings(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.patch_embedding = nn.Conv2d(3, cfg.vision_hidden, cfg.patch_size, cfg.patch_size)
        self.position_embedding = nn.Embedding(cfg.grid * cfg.grid, cfg.vision_hidden)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values)  # [F, D, g, g]
        x = x.flatten(2).transpose(1, 2)  # [F, g*g, D] row-major patches
        return x + self.position_embedding.weight.unsqueeze(0)


class SiglipEncoder(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.layers = nn.ModuleList([SiglipEncoderLayer(cfg) for _ in range(cfg.vision_layers)])


class SiglipTransformer(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.embeddings = SiglipEmbeddings(cfg)
        self.encoder = SiglipEncoder(cfg)

    def forward(self, pixel_values):
        x = self.embeddings(pixel_values)
        for layer in self.encoder.layers:
            x = layer(x)
        return x  # no post_layernorm: the checkpoint takes hidden_states[-1]


class SiglipVisionModel(nn.Module):
    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.vision_model = SiglipTransformer(cfg)


class VisionTower(nn.Module):
    """`model.vision_tower` (SigLipVisionTowerFlash) whose `.vision_tower` is the HF model."""

    def __init__(self, cfg: SalmonnConfig):
        super().__init__()
        self.vision_tower = SiglipVisionModel(cfg)

    def forward(self, pixel_values):
        return self.vision_tower.vision_model(pixel_values)


def mm_projector(cfg: SalmonnConfig) -> nn.Sequential:
    """mlp2x_gelu: Linear(mm_hidden, H), GELU(erf), Linear(H, H) -> keys 0.* and 2.*"""
    return nn.Sequential(nn.Linear(cfg.vision_hidden, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden))


def pool_and_newline(feat: torch.Tensor, newline: torch.Tensor, grid: int, stride: int) -> torch.Tensor:
    """[F, g*g, H] -> 2x2 max pool (stride 2, last row/col dropped when g is odd)
    -> append `newline` after each pooled row -> [F, p*(p+1), H], row-major."""
    f, _, h = feat.shape
    x = feat.reshape(f, grid, grid, h).permute(0, 3, 1, 2)
    x = F.max_pool2d(x, stride)  # [F, H, p, p]
    p = x.shape[-1]
    x = x.permute(0, 2, 3, 1)  # [F, p, p, H]
    nl = newline.reshape(1, 1, 1, h).expand(f, p, 1, h)
    return torch.cat([x, nl], dim=2).reshape(f, p * (p + 1), h)


class VisionEncoder(nn.Module):
    """Graph `vision_encoder`: pixel_values [F,3,S,S] -> image_features [F, tokens_per_frame, H]."""

    def __init__(self, cfg: SalmonnConfig, tower: VisionTower, projector: nn.Module, newline: nn.Parameter):
        super().__init__()
        self.cfg = cfg
        self.tower = tower
        self.projector = projector
        self.newline = newline

    def forward(self, pixel_values):
        feat = self.projector(self.tower(pixel_values))
        return pool_and_newline(feat, self.newline, self.cfg.grid, self.cfg.pool_stride)
