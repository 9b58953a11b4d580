"""The Qwen2 decoder and the token-embedding graph built directly with onnx.helper
(PIPELINE §5, §9), weights streamed from a WeightSource, in the form onnxruntime's WebGPU
EP runs fastest (the layout onnxruntime-genai's model builder writes for int4):

  decoder_model_merged
    inputs  inputs_embeds [B, S, H] (T), attention_mask int64 [B, past+S],
            past_key_values.{i}.key / .value [B, kv_heads, past, head_dim] (T)
    outputs logits float32 [B, 1, V] (the last position only),
            present.{i}.key / .value [B, kv_heads, past+S, head_dim] (T)
    T = float32 (q4, fp32) or float16 (q4f16, fp16). No position_ids input: positions are
    past … past+S-1, derived inside GroupQueryAttention from seqlens_k (= sum(attention_mask) - 1).
    layer i: [Skip]SimplifiedLayerNormalization (input_layernorm) -> q/k/v linear + bias ->
    GroupQueryAttention (do_rotary, rotate-half, cos/sin caches [max_positions, head_dim/2])
    -> o_proj -> SkipSimplifiedLayerNormalization (post_attention_layernorm, residual add)
    -> gate/up -> SiLU(gate) * up -> down_proj; final SkipSimplifiedLayerNormalization
    (model.norm) -> last row -> lm_head.
  embed_tokens
    input_ids int64 [B, n] -> inputs_embeds [B, n, H] (T): Gather over the 4-bit table
    (GatherBlockQuantized's layout) dequantised with core ops, or Gather over float16/float32 row blocks (each block a separate tensor,
    below the adapter's maxBufferSize and the chunk limit).

Linear layers: q4/q4f16 -> MatMulNBits (bits 4, block 32, symmetric, accuracy_level 4):
`<weight name>.q4` (B) + `<weight name>.scales`; fp16/fp32 -> MatMul with `<weight name>.T`
([K, N]; split along N as `<name>.T.part{j}` + Concat when one tensor would exceed the
limit). Every initializer name begins with the checkpoint weight it comes from.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

import numpy as np
import torch
from onnx import TensorProto, helper

from .config import SalmonnConfig
from .onnx_writer import DEFAULT_MAX_CHUNK, GraphBuilder
from .quant import BLOCK, n_blocks, quantize_q4, roundtrip_q4
from .qwen2 import rope_inv_freq
from .weights import WeightSource

LLM_DTYPES = ("q4f16", "q4", "fp16", "fp32")
EMBED_DTYPES = ("q4", "fp16", "fp32")
MAX_TENSOR_BYTES = 1 << 30  # SwiftShader's maxBufferSize (1 GiB): every single tensor stays below
ROW_BLOCK = 4096  # rows quantised/converted at a time


@dataclasses.dataclass
class LlmPlan:
    dtype: str = "q4f16"  # decoder: q4f16 | q4 | fp16 | fp32
    embed: Optional[str] = None  # embed table: q4 | fp16 | fp32 (default: q4 for q4*, else the decoder dtype)
    accuracy_level: int = 4
    max_chunk_bytes: int = DEFAULT_MAX_CHUNK
    max_tensor_bytes: int = MAX_TENSOR_BYTES

    def __post_init__(self):
        if self.dtype not in LLM_DTYPES:
            raise ValueError(f"decoder dtype {self.dtype!r} not in {LLM_DTYPES}")
        if self.embed is None:
            self.embed = "q4" if self.dtype.startswith("q4") else self.dtype
        if self.embed not in EMBED_DTYPES:
            raise ValueError(f"embed dtype {self.embed!r} not in {EMBED_DTYPES}")

    @property
    def act(self):
        """Activation / KV numpy dtype."""
        return np.float16 if self.dtype in ("q4f16", "fp16") else np.float32

    @property
    def elem(self) -> int:
        return TensorProto.FLOAT16 if self.act == np.float16 else TensorProto.FLOAT

    @property
    def quantised(self) -> bool:
        return self.dtype.startswith("q4")

    def embed_graph_dtype(self) -> str:
        """Manifest dtype of embed_tokens: its table's storage, with 'q4f16' for a 4-bit table
        read into float16."""
        if self.embed == "q4":
            return "q4f16" if self.act == np.float16 else "q4"
        return self.embed


def linear_names(cfg: SalmonnConfig) -> List[str]:
    out = []
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        out += [p + f"self_attn.{x}_proj.weight" for x in "qkvo"]
        out += [p + f"mlp.{x}_proj.weight" for x in ("gate", "up", "down")]
    return out


def head_name(cfg: SalmonnConfig) -> str:
    return "model.embed_tokens.weight" if cfg.tie_embeddings else "lm_head.weight"


def effective_fn(cfg: SalmonnConfig, plan: LlmPlan):
    """name, float32 array -> the float32 value the exported LLM graphs compute with."""
    q_names = set(linear_names(cfg)) | {head_name(cfg)} if plan.quantised else set()
    scale_dt = plan.act
    f16_names = set()
    if plan.act == np.float16:
        for i in range(cfg.layers):
            p = f"model.layers.{i}."
            f16_names |= {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"}
            f16_names |= {p + f"self_attn.{x}_proj.bias" for x in "qkv"}
        f16_names.add("model.norm.weight")
        if not plan.quantised:
            f16_names |= set(linear_names(cfg)) | {head_name(cfg)}
    emb = "model.embed_tokens.weight"

    def fn(name: str, a: np.ndarray) -> np.ndarray:
        if name == emb and not cfg.tie_embeddings:
            if plan.embed == "q4":
                return roundtrip_q4(a, scale_dt)
            if plan.embed == "fp16" or plan.act == np.float16:
                return a.astype(np.float16).astype(np.float32)
            return a
        if name in q_names:
            return roundtrip_q4(a, scale_dt)
        if name in f16_names:
            return a.astype(np.float16).astype(np.float32)
        return a

    return fn


# ----------------------------------------------------------------------------- pieces
class _Linear:
    def __init__(self, b: GraphBuilder, src: WeightSource, plan: LlmPlan):
        self.b, self.src, self.plan = b, src, plan

    def __call__(self, x: str, name: str, out_name: Optional[str] = None) -> str:
        n, k = self.src.shape(name)
        short = name[: -len(".weight")] if name.endswith(".weight") else name
        if self.plan.quantised:
            bname, sname = self._q4(name, n, k)
            return self.b.node("MatMulNBits", [x, bname, sname], name=short + "/MatMulNBits", domain="com.microsoft",
                               outputs=[out_name] if out_name else None, K=k, N=n, bits=4, block_size=BLOCK,
                               accuracy_level=self.plan.accuracy_level)[0]
        parts = self._dense(name, n, k)
        if len(parts) == 1:
            return self.b.node("MatMul", [x, parts[0]], name=short + "/MatMul", outputs=[out_name] if out_name else None)[0]
        ys = [self.b.op("MatMul", x, p, name=short + f"/MatMul_part{j}") for j, p in enumerate(parts)]
        return self.b.node("Concat", ys, name=short + "/Concat", axis=-1, outputs=[out_name] if out_name else None)[0]

    def _q4(self, name: str, n: int, k: int):
        nb = n_blocks(k)
        scales = []

        def pieces():
            for r0 in range(0, n, ROW_BLOCK):
                p, s = quantize_q4(self.src.rows(name, r0, min(n, r0 + ROW_BLOCK)), self.plan.act)
                scales.append(s)
                yield p

        bname = self.b.weight_stream(name + ".q4", (n, nb, BLOCK // 2), np.uint8, pieces())
        sname = self.b.weight(name + ".scales", np.concatenate(scales))
        return bname, sname

    def _dense(self, name: str, n: int, k: int) -> List[str]:
        dt = np.dtype(self.plan.act)
        limit = min(self.plan.max_tensor_bytes, self.plan.max_chunk_bytes)
        cols = max(1, limit // (k * dt.itemsize))
        splits = list(range(0, n, cols))
        w = self.src.get(name)  # [N, K]
        out = []
        for j, c0 in enumerate(splits):
            part = np.ascontiguousarray(w[c0:c0 + cols].T.astype(dt))
            out.append(self.b.weight(name + (".T" if len(splits) == 1 else f".T.part{j}"), part))
        return out


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def rope_caches(cfg: SalmonnConfig, dtype) -> (np.ndarray, np.ndarray):
    """cos/sin [max_positions, head_dim/2], computed as the PyTorch reference does (float32)."""
    inv = rope_inv_freq(cfg.head_dim, cfg.rope_theta)
    freqs = torch.arange(cfg.max_positions).to(torch.float32).unsqueeze(1) * inv.unsqueeze(0)
    return freqs.cos().numpy().astype(dtype), freqs.sin().numpy().astype(dtype)


def build_decoder(cfg: SalmonnConfig, src: WeightSource, out_dir: str, plan: LlmPlan, log=None) -> List[str]:
    """Write <out_dir>/decoder_model_merged.onnx (+ chunks); returns the chunk names."""
    b = GraphBuilder("decoder_model_merged", out_dir, plan.max_chunk_bytes)
    lin = _Linear(b, src, plan)
    act, elem = plan.act, plan.elem
    eps = float(cfg.rms_eps)

    def vec(name):  # norm weights / biases in the activation dtype
        return b.weight(name, src.get(name).astype(act))

    # sequence lengths for GroupQueryAttention, from attention_mask (PIPELINE §9)
    ax1 = b.const("const.axes1", np.array([1], np.int64))
    msum = b.op("ReduceSum", "attention_mask", ax1, name="attn_mask/ReduceSum", keepdims=0)
    seqlens = b.op("Cast", b.op("Sub", msum, b.const("const.one_i64", np.array(1, np.int64)), name="attn_mask/Sub"),
                   name="attn_mask/seqlens_k", to=TensorProto.INT32)
    shape = b.op("Shape", "attention_mask", name="attn_mask/Shape")
    total = b.op("Cast", b.op("Gather", shape, b.const("const.idx1", np.array(1, np.int64)), name="attn_mask/Gather",
                              axis=0), name="attn_mask/total_sequence_length", to=TensorProto.INT32)
    cos, sin = rope_caches(cfg, act)
    cos_n = b.weight("model.rotary_emb.cos_cache", cos)
    sin_n = b.weight("model.rotary_emb.sin_cache", sin)

    x, residual = "inputs_embeds", None
    outputs = []
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        w_in = vec(p + "input_layernorm.weight")
        if residual is None:
            ln = b.op("SimplifiedLayerNormalization", x, w_in, name=p + "input_layernorm", axis=-1, epsilon=eps,
                      stash_type=1)
            residual = x
        else:
            ln, _, _, residual = b.node("SkipSimplifiedLayerNormalization", [x, residual, w_in], 4,
                                        name=p + "input_layernorm", domain="com.microsoft", epsilon=eps)
        qkv = []
        for t in "qkv":
            y = lin(ln, p + f"self_attn.{t}_proj.weight")
            qkv.append(b.op("Add", y, vec(p + f"self_attn.{t}_proj.bias"), name=p + f"self_attn.{t}_proj/Add"))
        attn, pk, pv = b.node("GroupQueryAttention", qkv + [f"past_key_values.{i}.key", f"past_key_values.{i}.value",
                                                            seqlens, total, cos_n, sin_n], 3,
                              name=p + "self_attn/GroupQueryAttention", domain="com.microsoft",
                              outputs=[p + "self_attn/out", f"present.{i}.key", f"present.{i}.value"],
                              num_heads=cfg.heads, kv_num_heads=cfg.kv_heads, do_rotary=1, rotary_interleaved=0,
                              local_window_size=-1)
        o = lin(attn, p + "self_attn.o_proj.weight")
        ln2, _, _, residual = b.node("SkipSimplifiedLayerNormalization",
                                     [o, residual, vec(p + "post_attention_layernorm.weight")], 4,
                                     name=p + "post_attention_layernorm", domain="com.microsoft", epsilon=eps)
        gate = lin(ln2, p + "mlp.gate_proj.weight")
        up = lin(ln2, p + "mlp.up_proj.weight")
        silu = b.op("Mul", gate, b.op("Sigmoid", gate, name=p + "mlp/Sigmoid"), name=p + "mlp/SiLU")
        x = lin(b.op("Mul", silu, up, name=p + "mlp/Mul"), p + "mlp.down_proj.weight")
        outputs += [_vi(f"present.{i}.key", elem, ["batch_size", cfg.kv_heads, "total_sequence_length", cfg.head_dim]),
                    _vi(f"present.{i}.value", elem, ["batch_size", cfg.kv_heads, "total_sequence_length", cfg.head_dim])]
        if log:
            log(f"    layer {i + 1}/{cfg.layers}")
    h, _, _, _ = b.node("SkipSimplifiedLayerNormalization", [x, residual, vec("model.norm.weight")], 4,
                        name="model.norm", domain="com.microsoft", epsilon=eps)
    last = b.op("Slice", h, b.const("const.last_start", np.array([-1], np.int64)),
                b.const("const.last_end", np.array([np.iinfo(np.int64).max], np.int64)), ax1, name="last_position/Slice")
    if act == np.float16:
        y = lin(last, head_name(cfg))
        b.node("Cast", [y], name="logits/Cast", outputs=["logits"], to=TensorProto.FLOAT)
    else:
        lin(last, head_name(cfg), out_name="logits")
    inputs = [_vi("inputs_embeds", elem, ["batch_size", "sequence_length", cfg.hidden]),
              _vi("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"])]
    for i in range(cfg.layers):
        for kv in ("key", "value"):
            inputs.append(_vi(f"past_key_values.{i}.{kv}", elem, ["batch_size", cfg.kv_heads, "past_sequence_length",
                                                                   cfg.head_dim]))
    outputs = [_vi("logits", TensorProto.FLOAT, ["batch_size", 1, cfg.vocab])] + outputs
    return b.save(inputs, outputs)


def _gather_q4(b: GraphBuilder, data: str, scales: str, nb: int, elem: int) -> str:
    """Rows of the 4-bit table, dequantised with core ONNX ops: (q - 8) * scale, q the low
    nibble for even k, the high one for odd k (the GatherBlockQuantized layout, PIPELINE §9).
    onnxruntime-web's WebGPU build has no CPU kernel for GatherBlockQuantized, and the
    embedding runs on CPU/WASM."""
    k = lambda n, v: b.const(f"const.embed.{n}", np.array(v, np.int64))  # noqa: E731
    g = b.op("Cast", b.op("Gather", data, "input_ids", name="embed_tokens/Gather", axis=0),
             name="embed_tokens/CastBytes", to=TensorProto.INT32)                     # [B, n, nb*16]
    sixteen = b.const("const.embed.sixteen", np.array(16, np.int32))
    last = k("last", [-1])
    hi = b.op("Div", g, sixteen, name="embed_tokens/High")                            # integer division
    lo = b.op("Sub", g, b.op("Mul", hi, sixteen, name="embed_tokens/HighTimes16"), name="embed_tokens/Low")
    pairs = b.op("Concat", b.op("Unsqueeze", lo, last, name="embed_tokens/UnsqueezeLow"),
                 b.op("Unsqueeze", hi, last, name="embed_tokens/UnsqueezeHigh"),
                 name="embed_tokens/Interleave", axis=-1)                              # [B, n, nb*16, 2]
    q = b.op("Reshape", pairs, k("blocks", [0, 0, nb, BLOCK]), name="embed_tokens/Blocks")
    q = b.op("Sub", b.op("Cast", q, name="embed_tokens/CastLevels", to=elem),
             b.const("const.embed.zero_point", np.array(8, np.float16 if elem == TensorProto.FLOAT16 else np.float32)),
             name="embed_tokens/ZeroPoint")
    s = b.op("Unsqueeze", b.op("Gather", scales, "input_ids", name="embed_tokens/GatherScales", axis=0),
             last, name="embed_tokens/UnsqueezeScales")                       # [B, n, nb, 1]
    return b.op("Reshape", b.op("Mul", q, s, name="embed_tokens/Dequantize"), k("rows", [0, 0, -1]),
                name="embed_tokens/Rows")


def build_embed(cfg: SalmonnConfig, src: WeightSource, out_dir: str, plan: LlmPlan) -> List[str]:
    """Write <out_dir>/embed_tokens.onnx (+ chunks)."""
    b = GraphBuilder("embed_tokens", out_dir, plan.max_chunk_bytes)
    name = "model.embed_tokens.weight"
    v, h = src.shape(name)
    act, elem = plan.act, plan.elem
    if plan.embed == "q4" or (cfg.tie_embeddings and plan.quantised):
        nb = n_blocks(h)
        scales = []

        def pieces():
            for r0 in range(0, v, ROW_BLOCK):
                p, s = quantize_q4(src.rows(name, r0, min(v, r0 + ROW_BLOCK)), act)
                scales.append(s)
                yield p.reshape(p.shape[0], -1)

        data = b.weight_stream(name + ".q4", (v, nb * BLOCK // 2), np.uint8, pieces())
        sc = b.weight(name + ".scales", np.concatenate(scales))
        y = _gather_q4(b, data, sc, nb, elem)
        if nb * BLOCK != h:  # padded last block
            y = b.op("Slice", y, b.const("const.zero", np.array([0], np.int64)), b.const("const.h", np.array([h], np.int64)),
                     b.const("const.axis", np.array([-1], np.int64)), name="embed_tokens/Slice")
        b.node("Identity", [y], name="embed_tokens/out", outputs=["inputs_embeds"])
    else:
        store = np.float16 if (plan.embed == "fp16" or act == np.float16) else np.float32
        row_bytes = h * np.dtype(store).itemsize
        per = max(1, min(plan.max_tensor_bytes, plan.max_chunk_bytes) // row_bytes)
        starts = list(range(0, v, per))
        gathered = []
        for j, r0 in enumerate(starts):
            r1 = min(v, r0 + per)
            pieces = (src.rows(name, a, min(r1, a + ROW_BLOCK)).astype(store) for a in range(r0, r1, ROW_BLOCK))
            t = b.weight_stream(name + ("" if len(starts) == 1 else f".part{j}"), (r1 - r0, h), store, pieces)
            if len(starts) == 1:
                gathered.append(b.op("Gather", t, "input_ids", name="embed_tokens/Gather", axis=0))
                break
            # rows r0..r1-1 of this part: clamp the local index, select below
            loc = b.op("Clip", b.op("Sub", "input_ids", b.const(f"const.off{j}", np.array(r0, np.int64)),
                                    name=f"embed_tokens/Sub{j}"),
                       b.const(f"const.lo{j}", np.array(0, np.int64)), b.const(f"const.hi{j}", np.array(r1 - r0 - 1, np.int64)),
                       name=f"embed_tokens/Clip{j}")
            gathered.append((r1, b.op("Gather", t, loc, name=f"embed_tokens/Gather{j}", axis=0)))
        if len(starts) == 1:
            y = gathered[0]
        else:
            y = gathered[-1][1]
            for r1, g in reversed(gathered[:-1]):
                cond = b.op("Unsqueeze", b.op("Less", "input_ids", b.const(f"const.end{r1}", np.array(r1, np.int64)),
                                              name=f"embed_tokens/Less{r1}"), b.const(f"const.ax{r1}", np.array([-1], np.int64)),
                            name=f"embed_tokens/Unsqueeze{r1}")
                y = b.op("Where", cond, g, y, name=f"embed_tokens/Where{r1}")
        if store != act:
            y = b.op("Cast", y, name="embed_tokens/Cast", to=elem)
        b.node("Identity", [y], name="embed_tokens/out", outputs=["inputs_embeds"])
    return b.save([_vi("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
                  [_vi("inputs_embeds", elem, ["batch_size", "sequence_length", h])])
