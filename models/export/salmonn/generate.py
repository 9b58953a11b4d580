"""Greedy decoding with the KV cache, exactly as the app does with the exported graphs."""
from __future__ import annotations

from typing import Dict, List

import torch


@torch.no_grad()
def greedy(decoder, embed, inputs_embeds: torch.Tensor, max_new_tokens: int, stop_ids: List[int]) -> Dict:
    """inputs_embeds [1, L, H]. Prefill with an empty past (positions 0..L-1), then one
    token per step. Returns ids, per-step top-1 minus top-2 logit margin, stop flag."""
    b, length, _ = inputs_embeds.shape
    past = decoder.empty_past(b)
    mask = torch.ones(b, length, dtype=torch.long)
    pos = torch.arange(length).unsqueeze(0)
    x = inputs_embeds
    ids, margins, stopped = [], [], False
    for _ in range(max_new_tokens):
        out = decoder(x, mask, pos, *past)
        logits, past = out[0][:, -1], out[1:]
        top = torch.topk(logits[0], 2)
        tok = int(top.indices[0])
        ids.append(tok)
        margins.append(float(top.values[0] - top.values[1]))
        if tok in stop_ids:
            stopped = True
            break
        x = embed(torch.tensor([[tok]], dtype=torch.long))
        n = mask.shape[1]
        mask = torch.ones(b, n + 1, dtype=torch.long)
        pos = torch.tensor([[n]], dtype=torch.long)
    return {"ids": ids, "margins": margins, "stopped": stopped}
