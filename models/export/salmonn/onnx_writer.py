"""Build ONNX graphs with onnx.helper and stream their weights into external-data chunks
(PIPELINE §9): `<graph>.onnx_data`, `<graph>.onnx_data_1`, … next to `<graph>.onnx`, each
<= max_chunk_bytes, a tensor never split across chunks, offsets 64-byte aligned. Tensors
are written as they come (one tensor, or one row block of it, in memory at a time)."""
from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MS_OPSET = 1
DEFAULT_MAX_CHUNK = 1_900_000_000  # < Chrome's ~2 GB ArrayBuffer limit (PIPELINE §9)
ALIGN = 64
INLINE_BELOW = 1024  # bytes: shape constants etc. stay inside the .onnx

NP_TO_ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16,
              np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL}


def chunk_name(graph: str, i: int) -> str:
    return f"{graph}.onnx_data" + (f"_{i}" if i else "")


class ChunkedData:
    """Append-only writer of external-data chunks."""

    def __init__(self, out_dir: str, graph: str, max_chunk_bytes: int = DEFAULT_MAX_CHUNK):
        self.dir, self.graph, self.max = out_dir, graph, int(max_chunk_bytes)
        self.files: List[str] = []
        self.f = None
        self.pos = 0
        for fn in os.listdir(out_dir):  # stale chunks of an earlier export
            if fn.startswith(graph + ".onnx_data") or fn == graph + ".onnx.data":
                os.remove(os.path.join(out_dir, fn))

    def _new_chunk(self):
        if self.f:
            self.f.close()
        name = chunk_name(self.graph, len(self.files))
        self.files.append(name)
        self.f = open(os.path.join(self.dir, name), "wb")
        self.pos = 0

    def reserve(self, nbytes: int) -> (str, int):
        """Where a tensor of nbytes goes (a new chunk when it would not fit)."""
        if nbytes > self.max:
            raise ValueError(f"{self.graph}: a tensor of {nbytes} bytes exceeds --max-chunk-bytes {self.max} "
                             "(tensors are never split; split the weight or raise the limit)")
        pad = (-self.pos) % ALIGN
        if self.f is None or self.pos + pad + nbytes > self.max:
            self._new_chunk()
            pad = 0
        self.f.write(b"\0" * pad)
        self.pos += pad
        return self.files[-1], self.pos

    def write(self, b: bytes):
        self.f.write(b)
        self.pos += len(b)

    def close(self) -> List[str]:
        if self.f:
            self.f.close()
            self.f = None
        return list(self.files)


def external_tensor(name: str, dims: Sequence[int], data_type: int, location: str, offset: int,
                    length: int) -> TensorProto:
    t = TensorProto()
    t.name = name
    t.dims.extend(int(d) for d in dims)
    t.data_type = data_type
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


class GraphBuilder:
    """Nodes + initializers for one graph; weights go to ChunkedData as they are added."""

    def __init__(self, graph: str, out_dir: str, max_chunk_bytes: int = DEFAULT_MAX_CHUNK):
        os.makedirs(out_dir, exist_ok=True)
        self.graph, self.dir = graph, out_dir
        self.data = ChunkedData(out_dir, graph, max_chunk_bytes)
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[TensorProto] = []
        self._names: Dict[str, int] = {}
        self.weight_bytes = 0

    # ------------------------------------------------------------------ tensors
    def weight(self, name: str, arr: np.ndarray) -> str:
        """A whole tensor (external unless tiny)."""
        arr = np.ascontiguousarray(arr)
        if arr.nbytes < INLINE_BELOW:
            self.inits.append(numpy_helper.from_array(arr, name))
            return name
        return self.weight_stream(name, arr.shape, arr.dtype, [arr])

    def weight_stream(self, name: str, dims: Sequence[int], dtype, pieces: Iterable[np.ndarray]) -> str:
        """A tensor written piece by piece (row blocks, in order)."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(dims)) * dtype.itemsize
        loc, off = self.data.reserve(nbytes)
        done = 0
        for p in pieces:
            b = np.ascontiguousarray(p, dtype=dtype.newbyteorder("<")).tobytes()
            self.data.write(b)
            done += len(b)
        if done != nbytes:
            raise ValueError(f"{name}: wrote {done} bytes, expected {nbytes}")
        self.inits.append(external_tensor(name, dims, NP_TO_ONNX[dtype], loc, off, nbytes))
        self.weight_bytes += nbytes
        return name

    def const(self, name: str, arr) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    # ------------------------------------------------------------------ nodes
    def fresh(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def node(self, op: str, inputs: List[str], n_out: int = 1, name: Optional[str] = None, domain: str = "",
             outputs: Optional[List[str]] = None, **attrs) -> List[str]:
        name = self.fresh(name or op)
        outs = outputs or [f"{name}/out{j}" if n_out > 1 else f"{name}/out" for j in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, domain=domain, **attrs))
        return outs

    def op(self, op: str, *inputs: str, name: Optional[str] = None, domain: str = "", **attrs) -> str:
        return self.node(op, list(inputs), 1, name=name, domain=domain, **attrs)[0]

    # ------------------------------------------------------------------ save
    def save(self, inputs: List[onnx.ValueInfoProto], outputs: List[onnx.ValueInfoProto]) -> List[str]:
        """Write <graph>.onnx; returns the chunk file names (in order)."""
        files = self.data.close()
        g = helper.make_graph(self.nodes, self.graph, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET),
                                                helper.make_opsetid("com.microsoft", MS_OPSET)], ir_version=8)
        m.producer_name, m.producer_version = "salmonn-export", "2"
        with open(os.path.join(self.dir, self.graph + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
        return files


def rechunk_model(model: onnx.ModelProto, src_dir: str, graph: str, out_dir: str,
                  max_chunk_bytes: int = DEFAULT_MAX_CHUNK, convert=None) -> List[str]:
    """Move the initializers of a loaded model (external or inline) into chunks, tensor by
    tensor; `convert(init, raw) -> (init, raw)` may rewrite a tensor (e.g. float16 storage).
    Saves <out_dir>/<graph>.onnx; returns the chunk names."""
    data = ChunkedData(out_dir, graph, max_chunk_bytes)
    for init in model.graph.initializer:
        if init.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in init.external_data}
            with open(os.path.join(src_dir, info["location"]), "rb") as f:
                f.seek(int(info.get("offset", 0)))
                raw = f.read(int(info["length"])) if "length" in info else f.read()
        else:
            raw = init.raw_data if init.HasField("raw_data") else numpy_helper.to_array(init).tobytes()
        if convert is not None:
            init, raw = convert(init, raw)
        if len(raw) < INLINE_BELOW:
            init.raw_data = raw
            for fld in ("float_data", "int64_data", "int32_data", "double_data"):
                init.ClearField(fld)
            del init.external_data[:]
            init.data_location = TensorProto.DEFAULT
            continue
        loc, off = data.reserve(len(raw))
        data.write(raw)
        for fld in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
            init.ClearField(fld)
        del init.external_data[:]
        for k, v in (("location", loc), ("offset", str(off)), ("length", str(len(raw)))):
            e = init.external_data.add()
            e.key, e.value = k, v
        init.data_location = TensorProto.EXTERNAL
    files = data.close()
    with open(os.path.join(out_dir, graph + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())
    return files
