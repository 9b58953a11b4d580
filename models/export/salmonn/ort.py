"""Run ONNX graphs through onnxruntime-node (tests/ort_run.mjs) from Python."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
HELPER = os.path.join(HERE, "..", "tests", "ort_run.mjs")
_TYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}
_NAMES = {np.dtype(v): k for k, v in _TYPES.items()}


def run_many(runs: List[tuple]) -> List[Dict[str, np.ndarray]]:
    """runs = [(model_path, {input_name: ndarray})]; one node process for all of them."""
    with tempfile.TemporaryDirectory() as tmp:
        job = {"runs": []}
        for r, (model, feeds) in enumerate(runs):
            inputs = {}
            for name, arr in feeds.items():
                arr = np.ascontiguousarray(arr)
                dt = _NAMES[arr.dtype]
                f = os.path.join(tmp, f"in_{r}_{len(inputs)}.bin")
                arr.astype(arr.dtype.newbyteorder("<")).tofile(f)
                inputs[name] = {"dtype": dt, "dims": list(arr.shape), "file": f}
            job["runs"].append({"model": os.path.abspath(model), "inputs": inputs, "outDir": os.path.join(tmp, f"out_{r}")})
        jf = os.path.join(tmp, "job.json")
        with open(jf, "w") as f:
            json.dump(job, f)
        res = subprocess.run(["node", os.path.abspath(HELPER), jf], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed:\n{res.stdout}\n{res.stderr}")
        results = []
        for r in range(len(runs)):
            d = os.path.join(tmp, f"out_{r}")
            with open(os.path.join(d, "outputs.json")) as f:
                meta = json.load(f)
            out = {}
            for name, m in meta.items():
                dt = _TYPES[m["dtype"]]
                out[name] = np.fromfile(os.path.join(d, f"{name}.bin"), dtype=dt).reshape(m["dims"])
            results.append(out)
        return results


GREEDY = os.path.join(HERE, "..", "tests", "ort_greedy.mjs")


def greedy(decoder: str, embed: str, embeds: np.ndarray, steps: int, layers: int, kv_heads: int, head_dim: int,
           kv_dtype=np.float32, stop_ids=(), threads: int = 2, force_ids=None, dump_logits: str = None) -> Dict:
    """Greedy decoding in onnxruntime-node (tests/ort_greedy.mjs) with a direct-built decoder:
    prompt embeddings [1, L, H] (cast to kv_dtype) -> {ids, margins, logits0, createMs, prefillMs, stepMs}."""
    kv = "float16" if np.dtype(kv_dtype) == np.float16 else "float32"
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "embeds.bin")
        e = np.ascontiguousarray(embeds, dtype=np.dtype(kv_dtype).newbyteorder("<"))
        e.tofile(f)
        out = os.path.join(tmp, "out.json")
        job = {"decoder": os.path.abspath(decoder), "embed": os.path.abspath(embed),
               "embeds": {"file": f, "dims": list(e.shape), "dtype": kv}, "steps": int(steps), "layers": int(layers),
               "kvHeads": int(kv_heads), "headDim": int(head_dim), "kvDtype": kv, "stopIds": [int(i) for i in stop_ids],
               "out": out, "threads": int(threads)}
        if force_ids is not None:
            job["forceIds"] = [int(i) for i in force_ids]
        if dump_logits:
            job["dumpLogits"] = os.path.abspath(dump_logits)
        jf = os.path.join(tmp, "job.json")
        with open(jf, "w") as fh:
            json.dump(job, fh)
        res = subprocess.run(["node", os.path.abspath(GREEDY), jf], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"ort_greedy.mjs failed:\n{res.stdout}\n{res.stderr}")
        with open(out) as fh:
            return json.load(fh)
