"""Real-shape Qwen2-0.5B (random weights at the released shapes, tied embeddings): the q4
decoder built from the weight source reproduces the dequantised PyTorch reference's greedy
tokens. Slow (export of 0.5 B parameters + a 24-layer reference): run with -m slow."""
import os

import numpy as np
import pytest
import torch

from salmonn.config import random_shape_config, tiny_q4_config
from salmonn.generate import greedy as torch_greedy
from salmonn.model import VideoSalmonn2
from salmonn.ort import greedy as ort_greedy
from salmonn.qwen2_onnx import LlmPlan, build_decoder, build_embed, effective_fn
from salmonn.weights import MappedSource, RandomSource

pytestmark = pytest.mark.slow
STEPS = 16


@torch.no_grad()
def test_qwen2_05b_q4_greedy_tokens(tmp_path):
    cfg = random_shape_config(["qwen2-0.5b"], base=tiny_q4_config())
    src = RandomSource(cfg, seed=0)
    plan = LlmPlan("q4", accuracy_level=1)  # float math: the reference's math
    out = str(tmp_path)
    build_decoder(cfg, src, out, plan)
    build_embed(cfg, src, out, plan)
    eff = MappedSource(src, effective_fn(cfg, plan))
    model = VideoSalmonn2(cfg)
    model.load_state_dict({n: torch.from_numpy(eff.get(n)) for n in model.state_dict()})
    g = model.eval().graphs()
    dec, emb_g = g["decoder_model_merged"], g["embed_tokens"]
    ids = torch.tensor([[151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]])
    firsts = set()
    for seed in range(4):  # a random model repeats itself: several prompts, each its own sequence
        emb = torch.cat([emb_g(ids), torch.randn(1, 40, cfg.hidden, generator=torch.Generator().manual_seed(seed))], 1)
        ref = torch_greedy(dec, emb_g, emb, STEPS, [])
        got = ort_greedy(os.path.join(out, "decoder_model_merged.onnx"), os.path.join(out, "embed_tokens.onnx"),
                         emb.numpy(), STEPS, cfg.layers, cfg.kv_heads, cfg.head_dim, np.float32)
        assert got["ids"] == ref["ids"], (seed, got["ids"], ref["ids"], min(ref["margins"]))
        logits = dec(emb, torch.ones(1, emb.shape[1], dtype=torch.long), torch.arange(emb.shape[1])[None],
                     *dec.empty_past())[0][0, -1].numpy()
        top = np.array([v for _, v in got["logits0"]])
        assert [i for i, _ in got["logits0"]][0] == int(logits.argmax())
        assert np.abs(top - logits[[i for i, _ in got["logits0"]]]).max() <= 1e-3 * np.abs(logits).max()
        firsts.add(ref["ids"][0])
    assert len(firsts) > 1
