#!/usr/bin/env python3
"""Drift of the 4-bit LLM against float32 on a real-shape random model (not CI; issue 10).

  drift.py [--preset qwen2-0.5b|qwen2-7b|tiny] [--steps 64] [--out DIR]

The float32 PyTorch reference (the raw weights) decodes `steps` greedy tokens; the q4 and q4f16
decoders (accuracy_level 4, as a real export) built from the same weight source are run by
onnxruntime-node teacher-forced on that sequence. Reported per variant: top-1 agreement over
the steps, the largest |logit difference| (and relative to the largest |logit|), and the
free-running greedy agreement (steps until the first different token).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from salmonn.config import random_shape_config, tiny_q4_config  # noqa: E402
from salmonn.generate import greedy as torch_greedy  # noqa: E402
from salmonn.model import VideoSalmonn2  # noqa: E402
from salmonn.ort import greedy as ort_greedy  # noqa: E402
from salmonn.qwen2_onnx import LlmPlan, build_decoder, build_embed  # noqa: E402
from salmonn.weights import RandomSource  # noqa: E402


@torch.no_grad()
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="qwen2-0.5b")
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--variants", default="q4,q4f16")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    cfg = random_shape_config([args.preset] if args.preset != "tiny" else [], base=tiny_q4_config())
    src = RandomSource(cfg, seed=0)
    model = VideoSalmonn2(cfg)
    model.load_state_dict({n: torch.from_numpy(src.get(n)) for n in model.state_dict()})
    g = model.eval().graphs()
    dec, emb_g = g["decoder_model_merged"], g["embed_tokens"]
    ids = torch.tensor([[151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]])
    emb = torch.cat([emb_g(ids), torch.randn(1, 40, cfg.hidden, generator=torch.Generator().manual_seed(0))], 1)
    t = time.time()
    ref = torch_greedy(dec, emb_g, emb, args.steps, [])
    # float32 logits of every step on the reference sequence
    seq = torch.cat([emb, emb_g(torch.tensor([ref["ids"][:-1]]))], 1)
    n0 = emb.shape[1]
    full = dec(seq, torch.ones(1, seq.shape[1], dtype=torch.long), torch.arange(seq.shape[1])[None],
               *dec.empty_past())[0][0, n0 - 1:].numpy()
    print(f"reference: {time.time() - t:.1f}s, {len(set(ref['ids']))} distinct tokens")
    res = {"preset": args.preset, "steps": args.steps, "referenceIds": ref["ids"], "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for v in args.variants.split(","):
            d = os.path.join(tmp, v)
            os.makedirs(d)
            plan = LlmPlan(v, accuracy_level=4)
            build_decoder(cfg, src, d, plan)
            build_embed(cfg, src, d, plan)
            dp, ep = os.path.join(d, "decoder_model_merged.onnx"), os.path.join(d, "embed_tokens.onnx")
            lf = os.path.join(tmp, v + ".f32")
            forced = ort_greedy(dp, ep, emb.numpy(), args.steps, cfg.layers, cfg.kv_heads, cfg.head_dim, plan.act,
                                force_ids=ref["ids"], dump_logits=lf)
            logits = np.fromfile(lf, dtype="<f4").reshape(-1, cfg.vocab)
            free = ort_greedy(dp, ep, emb.numpy(), args.steps, cfg.layers, cfg.kv_heads, cfg.head_dim, plan.act)
            diff = np.abs(logits - full)
            agree = float(np.mean(logits.argmax(1) == full.argmax(1)))
            first = next((i for i, (a, b) in enumerate(zip(free["ids"], ref["ids"])) if a != b), args.steps)
            res["variants"][v] = {"top1AgreementForced": agree, "maxLogitDiff": float(diff.max()),
                                  "maxLogitDiffRel": float(diff.max() / np.abs(full).max()),
                                  "meanLogitDiff": float(diff.mean()), "freeRunningEqualSteps": first,
                                  "msPerToken": float(np.mean(free["stepMs"])) if free["stepMs"] else None}
            print(v, json.dumps(res["variants"][v]))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "drift.json"), "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
