"""torch.onnx.export of the five graphs (opset 17), deterministic bytes, external data
for graphs over 2 GB, optional fp16 weight storage."""
from __future__ import annotations

import io
import os
import tempfile
import warnings
from typing import Dict, List, Tuple

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

from .config import SalmonnConfig

OPSET = 17
TWO_GB = 2 * 1024 ** 3 - 64 * 1024 ** 2  # leave headroom for the graph itself


def graph_io(cfg: SalmonnConfig) -> Dict[str, Tuple[List[str], List[str]]]:
    pkv_in, pkv_out = [], []
    for i in range(cfg.layers):
        pkv_in += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        pkv_out += [f"present.{i}.key", f"present.{i}.value"]
    return {
        "vision_encoder": (["pixel_values"], ["image_features"]),
        "audio_encoder": (["input_features"], ["last_hidden_state"]),
        "audio_aligner": (["encoder_hidden_states"], ["audio_features"]),
        "embed_tokens": (["input_ids"], ["inputs_embeds"]),
        "decoder_model_merged": (["inputs_embeds", "attention_mask", "position_ids"] + pkv_in, ["logits"] + pkv_out),
    }


def example_inputs(name: str, cfg: SalmonnConfig):
    s = cfg.image_size
    if name == "vision_encoder":
        return (torch.zeros(2, 3, s, s),)
    if name == "audio_encoder":
        return (torch.zeros(2, cfg.num_mels, cfg.mel_frames),)
    if name == "audio_aligner":
        return (torch.zeros(2, cfg.encoder_frames, cfg.audio_hidden),)
    if name == "embed_tokens":
        return (torch.zeros(1, 3, dtype=torch.int64),)
    if name == "decoder_model_merged":
        b, sq, past = 1, 2, 3
        pkv = [torch.zeros(b, cfg.kv_heads, past, cfg.head_dim) for _ in range(2 * cfg.layers)]
        return (torch.zeros(b, sq, cfg.hidden), torch.ones(b, past + sq, dtype=torch.int64),
                torch.arange(past, past + sq).unsqueeze(0), *pkv)
    raise KeyError(name)


def dynamic_axes(name: str, cfg: SalmonnConfig) -> dict:
    ins, outs = graph_io(cfg)[name]
    if name == "vision_encoder":
        return {"pixel_values": {0: "frames"}, "image_features": {0: "frames"}}
    if name == "audio_encoder":
        return {"input_features": {0: "windows"}, "last_hidden_state": {0: "windows"}}
    if name == "audio_aligner":
        return {"encoder_hidden_states": {0: "windows"}, "audio_features": {0: "audio_tokens"}}
    if name == "embed_tokens":
        return {"input_ids": {0: "batch_size", 1: "seq"}, "inputs_embeds": {0: "batch_size", 1: "seq"}}
    d = {"inputs_embeds": {0: "batch_size", 1: "seq"}, "attention_mask": {0: "batch_size", 1: "total"},
         "position_ids": {0: "batch_size", 1: "seq"}, "logits": {0: "batch_size", 1: "seq"}}
    for n in ins[3:]:
        d[n] = {0: "batch_size", 2: "past"}
    for n in outs[1:]:
        d[n] = {0: "batch_size", 2: "total"}
    return d


def _clean(model: onnx.ModelProto) -> None:
    """Strip fields that may vary between runs (doc strings, stack traces)."""
    model.doc_string = ""
    model.producer_name = "salmonn-export"
    model.producer_version = "1"
    for n in model.graph.node:
        n.doc_string = ""
    model.graph.doc_string = ""


def _to_fp16_weights(model: onnx.ModelProto) -> None:
    """Store float initializers (>= 16 elements) as float16, each followed by a Cast back
    to float32: half the bytes, compute and graph I/O stay float32."""
    g = model.graph
    new_inits, casts = [], []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= 16:
            arr = numpy_helper.to_array(init).astype(np.float16)
            h = numpy_helper.from_array(arr, init.name + "_fp16")
            new_inits.append(h)
            casts.append(helper.make_node("Cast", [h.name], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "_cast"))
        else:
            new_inits.append(init)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)


def _stream_external(model: onnx.ModelProto, src_dir: str, out_path: str, fp16: bool) -> List[str]:
    """Move every initializer into one `<graph>.onnx.data` file tensor by tensor (never the
    whole model in memory), optionally converting float32 weights to float16 + Cast."""
    loc = os.path.basename(out_path) + ".data"
    casts = []
    with open(os.path.join(os.path.dirname(out_path), loc), "wb") as data:
        for init in model.graph.initializer:
            if init.data_location == TensorProto.EXTERNAL:
                info = {e.key: e.value for e in init.external_data}
                with open(os.path.join(src_dir, info["location"]), "rb") as f:
                    f.seek(int(info.get("offset", 0)))
                    raw = f.read(int(info["length"])) if "length" in info else f.read()
            else:
                raw = init.raw_data if init.HasField("raw_data") else numpy_helper.to_array(init).tobytes()
            if fp16 and init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= 16:
                raw = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()
                orig = init.name
                init.name = orig + "_fp16"
                init.data_type = TensorProto.FLOAT16
                casts.append(helper.make_node("Cast", [init.name], [orig], to=TensorProto.FLOAT, name=orig + "_cast"))
            pad = (-data.tell()) % 64
            data.write(b"\0" * pad)
            offset = data.tell()
            data.write(raw)
            init.ClearField("raw_data")
            for f in ("float_data", "int64_data", "int32_data", "double_data"):
                init.ClearField(f)
            del init.external_data[:]
            for k, v in (("location", loc), ("offset", str(offset)), ("length", str(len(raw)))):
                e = init.external_data.add()
                e.key, e.value = k, v
            init.data_location = TensorProto.EXTERNAL
    if casts:
        nodes = list(model.graph.node)
        del model.graph.node[:]
        model.graph.node.extend(casts + nodes)
    onnx.save_model(model, out_path)
    return [loc]


def export_graph(module: torch.nn.Module, name: str, cfg: SalmonnConfig, out_path: str, dtype: str = "fp32",
                 force_external: bool = False) -> List[str]:
    """Export one graph to `out_path`; returns external-data file names (relative).
    Graphs whose weights exceed 2 GB (or force_external) get one `<name>.onnx.data` file."""
    ins, outs = graph_io(cfg)[name]
    args = example_inputs(name, cfg)
    out_dir = os.path.dirname(out_path)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f == os.path.basename(out_path) + ".data":
            os.remove(os.path.join(out_dir, f))
    weights = sum(p.numel() * 4 for p in module.parameters())
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp_path = os.path.join(tmp, "g.onnx")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about constant head sizes
            torch.onnx.export(module, args, tmp_path, input_names=ins, output_names=outs,
                              dynamic_axes=dynamic_axes(name, cfg), opset_version=OPSET,
                              do_constant_folding=True)
        if weights > TWO_GB or force_external or any(f != "g.onnx" for f in os.listdir(tmp)):
            model = onnx.load(tmp_path, load_external_data=False)
            _clean(model)
            return _stream_external(model, tmp, out_path, dtype == "fp16")
        model = onnx.load(tmp_path)
    _clean(model)
    if dtype == "fp16":
        _to_fp16_weights(model)
    onnx.save_model(model, out_path)
    return []
