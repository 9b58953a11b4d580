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


TRACE_LAYERS = 2


def _layer_of(graph: str):
    """(config field of the repeated layer count, scope of layer j in node names, prefix of layer j
    in parameter names) of an encoder graph with a deep stack of identical layers."""
    if graph == "vision_encoder":
        return "vision_layers", "/layers.{j}/", "tower.vision_tower.vision_model.encoder.layers.{j}."
    if graph == "audio_encoder":
        return "audio_layers", "/layers.{j}/", "layers.{j}."
    return None


def _replicate_layers(model: onnx.ModelProto, graph: str, n_layers: int) -> None:
    """The graph was traced with TRACE_LAYERS layers (tracing runs the forward pass: 26 SigLIP
    / 32 Whisper layers at full width take hours on a small CPU); copy the nodes of the last
    traced layer for layers TRACE_LAYERS..n_layers-1, chained output to input, with their
    parameter inputs renamed to the layer's own names."""
    _, scope, pprefix = _layer_of(graph)
    g = model.graph
    last = TRACE_LAYERS - 1
    sc, pp = scope.format(j=last), pprefix.format(j=last)
    nodes = list(g.node)
    in_layer = [n for n in nodes if sc in n.name]
    produced = {o for n in in_layer for o in n.output}
    ext_inputs = {x for n in in_layer for x in n.input if x and x not in produced}
    consumed_outside = {x for n in nodes if n not in in_layer for x in n.input}
    outs = [o for o in produced if o in consumed_outside]
    prev_scope = scope.format(j=last - 1)
    # (constants of the previous layer that this one reuses stay shared)
    prev_produced = {o for n in nodes if prev_scope in n.name and n.op_type != "Constant" for o in n.output}
    layer_in = [x for x in ext_inputs if x in prev_produced]
    if len(outs) != 1 or len(layer_in) != 1:
        raise RuntimeError(f"{graph}: cannot find the layer boundary ({outs}, {layer_in})")
    out_t, in_t = outs[0], layer_in[0]
    param_vi = {i.name: i for i in g.input}
    new_nodes, new_inputs = [], []
    cur = out_t
    for k in range(TRACE_LAYERS, n_layers):
        suf = f"__layer{k}"
        ren = {o: o + suf for o in produced}
        for n in in_layer:
            c = onnx.NodeProto()
            c.CopyFrom(n)
            c.name = n.name.replace(sc, scope.format(j=k))
            for i, x in enumerate(c.input):
                if x == in_t:
                    c.input[i] = cur
                elif x in ren:
                    c.input[i] = ren[x]
                elif x.startswith(pp):
                    nx = pprefix.format(j=k) + x[len(pp):]
                    if nx not in param_vi:
                        vi = onnx.ValueInfoProto()
                        vi.CopyFrom(param_vi[x])
                        vi.name = nx
                        param_vi[nx] = vi
                        new_inputs.append(vi)
                    c.input[i] = nx
            for i, y in enumerate(c.output):
                c.output[i] = ren[y]
            new_nodes.append(c)
        cur = ren[out_t]
    # consumers of the last traced layer's output now read the last copy's
    pos = max(i for i, n in enumerate(nodes) if n in in_layer) + 1
    for n in nodes[pos:]:
        if n in in_layer:
            continue
        for i, x in enumerate(n.input):
            if x == out_t:
                n.input[i] = cur
    del g.node[:]
    g.node.extend(nodes[:pos] + new_nodes + nodes[pos:])
    g.input.extend(new_inputs)


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
    deep = _layer_of(graph)
    n_layers = getattr(mcfg, deep[0]) if deep else 0
    replicate = deep is not None and n_layers > TRACE_LAYERS
    if replicate:
        mcfg = dataclasses.replace(mcfg, **{deep[0]: TRACE_LAYERS})
    with torch.no_grad():
        model = VideoSalmonn2(mcfg)
        # torch's exporter merges parameters of equal value (fresh LayerNorms: ones / zeros): give
        # those distinct random values (moderate ones: NaN/denormal activations make tracing crawl)
        gen = torch.Generator().manual_seed(0)
        for p in model.parameters():
            if p.numel() < (1 << 16) or bool(p.min() == p.max()):
                p.copy_(0.02 * torch.randn(p.shape, generator=gen) + (1.0 if p.dim() == 1 else 0.0))
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
    for node in g.node:  # torch's doc strings hold stack traces (paths): not deterministic
        node.doc_string = ""
    if replicate:
        _replicate_layers(m, graph, n_layers)
        _, _, pprefix = deep
        pp = pprefix.format(j=TRACE_LAYERS - 1)
        for i in g.input:
            if i.name not in param_map and i.name.startswith(pprefix.split("{j}")[0]):
                j = int(i.name[len(pprefix.split("{j}")[0]):].split(".")[0])
                rest = i.name[len(pprefix.format(j=j)):]
                ck = param_map[pp + rest]
                ck_pp = ck[: len(ck) - len(rest)]
                param_map[i.name] = ck_pp.replace(f"layers.{TRACE_LAYERS - 1}.", f"layers.{j}.") + rest
                shapes[i.name] = shapes[pp + rest]
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
