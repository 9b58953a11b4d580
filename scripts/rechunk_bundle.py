#!/usr/bin/python3
"""Copies a bundle with its graphs' weights moved into external-data chunks
(`<graph>.onnx_data`, `<graph>.onnx_data_1`, ...), each at most --chunk-bytes and never
splitting a tensor (one larger than that gets a chunk of its own), and rewrites bundle.json (v2) to list every chunk with its size and
sha256 and each graph's largestTensorBytes. For testing the loader on multi-file bundles.

    /usr/bin/python3 scripts/rechunk_bundle.py SRC DST [--chunk-bytes N] [--min-tensor-bytes N]
"""
import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
from onnx import numpy_helper


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def entry(root, rel):
    p = os.path.join(root, rel)
    return {'path': rel, 'bytes': os.path.getsize(p), 'sha256': sha256(p)}


def rechunk(src_graph, dst_graph, chunk_bytes, min_tensor_bytes):
    model = onnx.load(src_graph, load_external_data=True)
    base = os.path.basename(dst_graph)
    folder = os.path.dirname(dst_graph)
    tensors = list(model.graph.initializer)
    chunks = []  # [name, bytearray]
    largest = 0
    for t in tensors:
        arr = numpy_helper.to_array(t)
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder('<'), copy=False).tobytes()
        largest = max(largest, len(raw))
        if len(raw) < min_tensor_bytes:
            continue
        # A tensor larger than a chunk gets a chunk of its own (tensors are never split).
        if not chunks or len(chunks[-1][1]) + len(raw) > chunk_bytes:
            k = len(chunks)
            chunks.append([f'{base}_data' + (f'_{k}' if k else ''), bytearray()])
        name, buf = chunks[-1]
        offset = len(buf)
        buf.extend(raw)
        # Replace the tensor's data by an external reference.
        dims, dtype, tname = list(t.dims), t.data_type, t.name
        t.Clear()
        t.name, t.data_type = tname, dtype
        t.dims.extend(dims)
        t.data_location = onnx.TensorProto.EXTERNAL
        for k, v in (('location', name), ('offset', str(offset)), ('length', str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = k, v
    for name, buf in chunks:
        with open(os.path.join(folder, name), 'wb') as f:
            f.write(buf)
    with open(dst_graph, 'wb') as f:
        f.write(model.SerializeToString())
    return [c[0] for c in chunks], largest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--chunk-bytes', type=int, default=4 << 20)
    ap.add_argument('--min-tensor-bytes', type=int, default=1024)
    ap.add_argument('--name', default=None)
    a = ap.parse_args()
    if os.path.exists(a.dst):
        shutil.rmtree(a.dst)
    shutil.copytree(a.src, a.dst, ignore=shutil.ignore_patterns('*.onnx', '*.onnx_data*'))
    with open(os.path.join(a.src, 'bundle.json')) as f:
        m = json.load(f)
    for role, g in m['graphs'].items():
        os.makedirs(os.path.dirname(os.path.join(a.dst, g['path'])), exist_ok=True)
        names, largest = rechunk(os.path.join(a.src, g['path']), os.path.join(a.dst, g['path']), a.chunk_bytes, a.min_tensor_bytes)
        folder = os.path.dirname(g['path'])
        g.update(entry(a.dst, g['path']))
        g['externalData'] = [entry(a.dst, f'{folder}/{n}' if folder else n) for n in names]
        g['largestTensorBytes'] = largest
    if a.name:
        m['name'] = a.name
    with open(os.path.join(a.dst, 'bundle.json'), 'w') as f:
        json.dump(m, f, indent=2)
    total = sum(len(g['externalData']) for g in m['graphs'].values())
    print(f'{a.dst}: {total} external-data chunks')


if __name__ == '__main__':
    main()
