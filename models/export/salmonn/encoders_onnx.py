"""The three encoder graphs (vision_encoder, audio_encoder, audio_aligner) with bounded memory
and a choice of weight/compute dtype (PIPELINE §2, §3, §9).

The graph is traced by torch.onnx.export *without* its parameters (export_params=False, no
constant folding) from a module whose LLM is empty; every parameter input is then turned into
an initializer named after its checkpoint weight and streamed from the WeightSource into the
chunked external data, one tensor at a time. dtype:
  fp32   as the PyTorch module
  fp16   float16 weights *and* compute (every float tensor of the graph in float16; graph I/O
         stays float32 with a Cast at each end) — needs shader-f16 on WebGPU
  q4     every Linear (MatMul of a transposed 2-D weight) -> MatMulNBits (4-bit, block 32,
         accuracy_level as the LLM), float32 activations; other weights float32
  q4f16  q4 with float16 compute
Graph I/O is float32 for every dtype.
"""
from __future__ import annotations

import dataclasses
import io
import warnings
from typing import Dict, List, Optional

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .config import SalmonnConfig
from .onnx_export import dynamic_axes, example_inputs, graph_io
from .onnx_writer import DEFAULT_MAX_CHUNK, GraphBuilder
from .quant import BLOCK, quantize_q4, roundtrip_q4
from .weights import WeightSource

ENCODERS = ("vision_encoder", "audio_encoder", "audio_aligner")
ENCODER_DTYPES = ("fp32", "fp16", "q4", "q4f16")


def _module_cfg(cfg: SalmonnConfig, graph: str) -> SalmonnConfig:
    """The config of a VideoSalmonn2 that holds `graph` at full size and nothing else big."""
    kw = dict(layers=0, vocab=1, tie_embeddings=False)
    if graph == "vision_encoder":
        kw["audio_layers"] = 0
    elif graph == "audio_encoder":
        kw["vision_layers"] = 0
    else:
        kw.update(audio_layers=0, vision_layers=0)
    return dataclasses.replace(cfg, **kw)


def linear_weight_names(cfg: SalmonnConfig, graph: str) -> List[str]:
    """Checkpoint names of the 2-D weights a q4 encoder stores as MatMulNBits."""
    from .weights import checkpoint_shapes
    pre = {"vision_encoder": ("model.vision_tower.", "model.mm_projector."),
           "audio_encoder": ("speech_encoder.layers.",),
           "audio_aligner": ("speech_Qformer.", "speech_llama_proj.", "final_linear.")}[graph]
    return [n for n, s in checkpoint_shapes(cfg).items()
            if len(s) == 2 and n.endswith(".weight") and n.startswith(pre) and "embed" not in n and "LayerNorm" not in n]


def encoder_effective_fn(cfg: SalmonnConfig, dtypes: Dict[str, str]):
    """name, float32 array -> the weight value the exported encoders hold (4-bit round trip,
    fp16 rounding); compute-dtype drift is not included."""
    rule = {}
    for g, dt in dtypes.items():
        if dt in ("q4", "q4f16"):
            for n in linear_weight_names(cfg, g):
                rule[n] = ("q4", np.float16 if dt == "q4f16" else np.float32)
    f16_prefix = tuple(p for g, dt in dtypes.items() if dt in ("fp16", "q4f16") for p in {
        "vision_encoder": ("model.vision_tower.", "model.mm_projector.", "model.image_newline"),
        "audio_encoder": ("speech_encoder.",),
        "audio_aligner": ("ln_speech.", "speech_Qformer.", "speech_query_tokens", "speech_llama_proj.", "final_linear.")}[g])

    def fn(name, a):
        if name in rule:
            return roundtrip_q4(a, rule[name][1])
        if f16_prefix and name.startswith(f16_prefix):
            return a.astype(np.float16).astype(np.float32)
        return a

    return fn


def _to_fp16(model: onnx.ModelProto, real_inputs: List[str], outputs: List[str]) -> None:
    """Every float tensor of the graph in float16; the float32 graph inputs are cast on entry,
    the outputs cast back to float32."""
    g = model.graph
    ren = {n: n + "/fp16" for n in real_inputs}
    for node in g.node:
        for i, x in enumerate(node.input):
            if x in ren:
                node.input[i] = ren[x]
        if node.op_type == "Cast":
            for a in node.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                arr = numpy_helper.to_array(a.t).astype(np.float16)
                a.t.CopyFrom(numpy_helper.from_array(arr, a.t.name))
    out_ren = {}
    for node in g.node:
        for i, y in enumerate(node.output):
            if y in outputs:
                out_ren[y] = y + "/fp16"
                node.output[i] = out_ren[y]
    for node in g.node:
        for i, x in enumerate(node.input):
            if x in out_ren:
                node.input[i] = out_ren[x]
    pre = [helper.make_node("Cast", [n], [ren[n]], name=n + "/to_fp16", to=TensorProto.FLOAT16) for n in real_inputs]
    post = [helper.make_node("Cast", [out_ren[y]], [y], name=y + "/to_fp32", to=TensorProto.FLOAT) for y in outputs]
    nodes = pre + list(g.node) + post
    del g.node[:]
    g.node.extend(nodes)


def export_encoder(graph: str, cfg: SalmonnConfig, src: WeightSource, out_dir: str, dtype: str = "fp32",
                   max_chunk_bytes: int = DEFAULT_MAX_CHUNK, accuracy_level: int = 4) -> List[str]:
    """Write <out_dir>/<graph>.onnx (+ chunks) with weights from `src`; returns the chunk names."""
    from .model import VideoSalmonn2
    if dtype not in ENCODER_DTYPES:
        raise ValueError(f"encoder dtype {dtype!r} not in {ENCODER_DTYPES}")
    mcfg = _module_cfg(cfg, graph)
    with torch.no_grad():
        model = VideoSalmonn2(mcfg)
        # distinct values: torch's exporter merges parameters of equal value (fresh LayerNorms)
        for j, p in enumerate(model.parameters()):
            p.fill_(float(j + 1))
        ckpt_of = {id(p): n for n, p in model.named_parameters()}
        mod = model.graphs()[graph]
        param_map = {n: ckpt_of[id(p)] for n, p in mod.named_parameters()}
        shapes = {n: tuple(p.shape) for n, p in mod.named_parameters()}
        buffers = {n: b.numpy().copy() for n, b in mod.named_buffers()}
        ins, outs = graph_io(mcfg)[graph]
        f = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(mod, example_inputs(graph, mcfg), f, input_names=ins, output_names=outs,
                              dynamic_axes=dynamic_axes(graph, mcfg), opset_version=17, do_constant_folding=False,
                              export_params=False)
    del model, mod
    m = onnx.load_from_string(f.getvalue())
    g = m.graph
    del g.value_info[:]
    real_inputs = [i for i in g.input if i.name in ins]
    weight_inputs = [i.name for i in g.input if i.name not in ins]
    quant = dtype in ("q4", "q4f16")
    f16 = dtype in ("fp16", "q4f16")
    act = np.float16 if f16 else np.float32

    # q4: MatMul(x, Transpose(W)) -> MatMulNBits(x, W)
    consumers: Dict[str, list] = {}
    for node in g.node:
        for x in node.input:
            consumers.setdefault(x, []).append(node)
    q4_weights = set()
    if quant:
        drop = []
        for node in list(g.node):
            if node.op_type != "Transpose" or node.input[0] not in weight_inputs or len(shapes.get(node.input[0], ())) != 2:
                continue
            users = consumers.get(node.output[0], [])
            if not users or any(u.op_type != "MatMul" or u.input[1] != node.output[0] for u in users):
                continue
            w = node.input[0]
            n_out, k = shapes[w]
            q4_weights.add(w)
            drop.append(node)
            for u in users:
                x = u.input[0]
                new = helper.make_node("MatMulNBits", [x, w + ".q4", w + ".scales"], list(u.output), name=u.name + "/q4",
                                       domain="com.microsoft", K=k, N=n_out, bits=4, block_size=BLOCK,
                                       accuracy_level=accuracy_level)
                u.CopyFrom(new)
        for node in drop:
            g.node.remove(node)
    if f16:
        _to_fp16(m, [i.name for i in real_inputs], list(outs))

    b = GraphBuilder(graph, out_dir, max_chunk_bytes)
    rename = {}
    for w in weight_inputs:
        ck = param_map.get(w)
        new_name = ck if ck is not None else f"{graph}.{w}"
        if w in q4_weights:
            packed, scales = quantize_q4(src.get(ck), act)
            b.weight(new_name + ".q4", packed)
            b.weight(new_name + ".scales", scales)
            rename[w + ".q4"], rename[w + ".scales"] = new_name + ".q4", new_name + ".scales"
            continue
        arr = src.get(ck) if ck is not None else buffers[w]
        if arr.dtype == np.float32 and f16:
            arr = arr.astype(np.float16)
        b.weight(new_name, arr)
        rename[w] = new_name
    for node in g.node:
        for i, x in enumerate(node.input):
            if x in rename:
                node.input[i] = rename[x]
    b.nodes = list(g.node)
    return b.save(list(real_inputs), list(g.output))
