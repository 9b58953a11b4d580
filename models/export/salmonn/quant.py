"""4-bit block quantisation for MatMulNBits and GatherBlockQuantized (PIPELINE §9), numpy only.

Layout (onnxruntime com.microsoft MatMulNBits, bits 4, symmetric, no zero_points):
  the weight is seen as W [N, K] (a torch Linear's own [out, in] layout), cut along K into
  blocks of 32 (the last block zero-padded when K % 32 != 0);
  B      uint8 [N, ceil(K/32), 16]: element k of a block in byte k // 2, even k in the low nibble;
  scales [N, ceil(K/32)] in the activation dtype (float32 for q4, float16 for q4f16);
  value  (q - 8) * scale, q in 0..15.
GatherBlockQuantized (uint8 data, bits 4, gather_axis 0, quantize_axis last) reads the same
bytes as data [N, ceil(K/32) * 16] with scales [N, ceil(K/32)] and the same zero point 8.

Scale rule (ours; the same idea as MLAS's symmetric block quantiser): per block, m = the
element of largest magnitude, with its sign; scale = m / -8, rounded to the scale dtype;
q = clip(round_half_even(w / scale) + 8, 0, 15). m itself maps to q = 0 (exactly -8 * scale),
so all 16 levels are used; an element of the opposite sign and |w| > 7.5 |scale| clips to
q = 15. Error bound per element: |w - deq| <= |scale| / 2, or <= |scale| where it clipped
(|scale| = max|w| / 8 of its block). An all-zero block has scale 0 and q = 8.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

BLOCK = 32
BITS = 4
ZERO_POINT = 8


def n_blocks(k: int, block: int = BLOCK) -> int:
    return -(-k // block)


def quantize_q4(w: np.ndarray, scale_dtype=np.float32, block: int = BLOCK) -> Tuple[np.ndarray, np.ndarray]:
    """w [N, K] float -> (B uint8 [N, nb, block/2], scales [N, nb] scale_dtype)."""
    w = np.asarray(w, dtype=np.float32)
    n, k = w.shape
    nb = n_blocks(k, block)
    if nb * block != k:
        w = np.concatenate([w, np.zeros((n, nb * block - k), np.float32)], axis=1)
    blocks = w.reshape(n, nb, block)
    idx = np.abs(blocks).argmax(axis=2)
    m = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]  # signed max-magnitude element
    scales = (m / np.float32(-ZERO_POINT)).astype(scale_dtype)
    s32 = scales.astype(np.float32)
    safe = np.where(s32 == 0, np.float32(1), s32)
    q = np.rint(blocks / safe[..., None]) + ZERO_POINT
    q = np.where((s32 == 0)[..., None], ZERO_POINT, q)
    q = np.clip(q, 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scales


def unpack_q4(packed: np.ndarray) -> np.ndarray:
    """uint8 [..., block/2] -> q uint8 [..., block] (low nibble first)."""
    lo = packed & 0x0F
    hi = packed >> 4
    return np.stack([lo, hi], axis=-1).reshape(*packed.shape[:-1], packed.shape[-1] * 2)


def dequantize_q4(packed: np.ndarray, scales: np.ndarray, k: int) -> np.ndarray:
    """(B [N, nb, block/2], scales [N, nb]) -> W [N, K] float32: (q - 8) * scale."""
    q = unpack_q4(packed).astype(np.float32) - ZERO_POINT
    w = q * scales.astype(np.float32)[..., None]
    return w.reshape(packed.shape[0], -1)[:, :k]


def quant_error_bound(w: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Per-element bound |w - deq| <= max|w| of its block / 8 (= |scale|, the clipped case),
    before rounding the scale; [N, K] float32."""
    w = np.asarray(w, dtype=np.float32)
    n, k = w.shape
    nb = n_blocks(k, block)
    pad = np.concatenate([w, np.zeros((n, nb * block - k), np.float32)], axis=1) if nb * block != k else w
    amax = np.abs(pad.reshape(n, nb, block)).max(axis=2)
    return np.repeat(amax / ZERO_POINT, block, axis=1)[:, :k]


def roundtrip_q4(w: np.ndarray, scale_dtype=np.float32) -> np.ndarray:
    """The float32 weight a q4/q4f16 graph computes with (quantise, then dequantise)."""
    p, s = quantize_q4(w, scale_dtype)
    return dequantize_q4(p, s, np.asarray(w).shape[1])
