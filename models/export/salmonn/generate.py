"""Greedy decoding with the KV cache, exactly as the app does with the exported graphs,
with the checkpoint's generation config (PIPELINE §5): repetition penalty and eos ids."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import torch

# transformers penalises the input_ids it carries. The checkpoint's inference calls
# generate(inputs_embeds=...) without input_ids (video_salmonn_2.py:631-635), so transformers
# 4.39 (requirements.txt) starts input_ids empty ([B, 0]) and the penalty covers only the
# generated ids. "prompt+generated" is the text-LLM case (generate(input_ids=...)).
PENALTY_SCOPES = ("generated", "prompt+generated")
OFFICIAL_PENALTY_SCOPE = "generated"


def repetition_penalty(scores: torch.Tensor, ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """transformers' RepetitionPenaltyLogitsProcessor: scores [B, V], ids [B, n] (long):
    gather, score < 0 ? score * p : score / p, scatter (a repeated id gets the same value)."""
    if ids.shape[-1] == 0 or penalty == 1.0:
        return scores
    score = torch.gather(scores, 1, ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, ids, score)


def generation_settings(config: Optional[Dict]) -> Dict:
    """repetition_penalty (default 1) and eos ids (int or list -> list) of a generation_config.json."""
    config = config or {}
    eos = config.get("eos_token_id")
    eos = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
    return {"repetitionPenalty": float(config.get("repetition_penalty") or 1.0), "eosTokenIds": eos}


@torch.no_grad()
def greedy(decoder, embed, inputs_embeds: torch.Tensor, max_new_tokens: int, stop_ids: List[int],
           repetition_penalty_value: float = 1.0, penalty_scope: str = OFFICIAL_PENALTY_SCOPE,
           prompt_ids: Iterable[int] = ()) -> Dict:
    """inputs_embeds [1, L, H]. Prefill with an empty past (positions 0..L-1), then one
    token per step. Before each argmax the repetition penalty is applied over the covered
    ids (scope "generated": the tokens generated so far; "prompt+generated": also the
    prompt's text ids). Stops at any of stop_ids (the prompt's stop ids + generation
    config eos ids). Returns ids, per-step top-1 minus top-2 margin (after the penalty),
    stop flag."""
    if penalty_scope not in PENALTY_SCOPES:
        raise ValueError(f"unknown penalty scope {penalty_scope!r}")
    b, length, _ = inputs_embeds.shape
    past = decoder.empty_past(b)
    mask = torch.ones(b, length, dtype=torch.long)
    pos = torch.arange(length).unsqueeze(0)
    x = inputs_embeds
    covered = list(prompt_ids) if penalty_scope == "prompt+generated" else []
    ids, margins, stopped = [], [], False
    for _ in range(max_new_tokens):
        out = decoder(x, mask, pos, *past)
        logits, past = out[0][:, -1], out[1:]
        logits = repetition_penalty(logits, torch.tensor([covered], dtype=torch.long).view(1, -1),
                                    repetition_penalty_value)
        top = torch.topk(logits[0], 2)
        tok = int(top.indices[0])
        ids.append(tok)
        covered.append(tok)
        margins.append(float(top.values[0] - top.values[1]))
        if tok in stop_ids:
            stopped = True
            break
        x = embed(torch.tensor([[tok]], dtype=torch.long))
        n = mask.shape[1]
        mask = torch.ones(b, n + 1, dtype=torch.long)
        pos = torch.tensor([[n]], dtype=torch.long)
    return {"ids": ids, "margins": margins, "stopped": stopped}
