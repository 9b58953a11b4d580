"""One GroupQueryAttention node as models/export/salmonn/qwen2_onnx.py's decoder wires it
(seqlens_k = sum(attention_mask) - 1 and total_sequence_length from the mask's shape, inside
the graph; do_rotary with cos/sin caches [max_positions, head_dim/2]; KV [B, kv_heads, S,
head_dim]) and the feeds (shapes and seeds) of `past:rows` cases, as JSON for e2e/harness/ortprobe.ts.

  python3 scripts/gqa_probe_graph.py OUT.json --heads 4 --kv-heads 2 --head-dim 16 0:31 0:32 40:31
"""
import argparse
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def graph(heads: int, kv_heads: int, head_dim: int, max_positions: int) -> bytes:
    inv = 1.0 / (1e6 ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    freqs = np.arange(max_positions, dtype=np.float32)[:, None] * inv[None]
    vi = helper.make_tensor_value_info
    nodes = [
        helper.make_node('ReduceSum', ['attention_mask', 'axes1'], ['mask_sum'], keepdims=0),
        helper.make_node('Sub', ['mask_sum', 'one'], ['seqlens_k64']),
        helper.make_node('Cast', ['seqlens_k64'], ['seqlens_k'], to=TensorProto.INT32),
        helper.make_node('Shape', ['attention_mask'], ['mask_shape']),
        helper.make_node('Gather', ['mask_shape', 'idx1'], ['total64'], axis=0),
        helper.make_node('Cast', ['total64'], ['total_sequence_length'], to=TensorProto.INT32),
        helper.make_node('GroupQueryAttention', ['q', 'k', 'v', 'past_key', 'past_value', 'seqlens_k',
                                                 'total_sequence_length', 'cos_cache', 'sin_cache'],
                         ['out', 'present_key', 'present_value'], domain='com.microsoft', num_heads=heads,
                         kv_num_heads=kv_heads, do_rotary=1, rotary_interleaved=0, local_window_size=-1),
    ]
    inits = [numpy_helper.from_array(np.array([1], np.int64), 'axes1'), numpy_helper.from_array(np.array(1, np.int64), 'one'),
             numpy_helper.from_array(np.array(1, np.int64), 'idx1'),
             numpy_helper.from_array(np.cos(freqs), 'cos_cache'), numpy_helper.from_array(np.sin(freqs), 'sin_cache')]
    kv = [1, kv_heads, 'past', head_dim]
    g = helper.make_graph(nodes, 'gqa', [vi('q', 1, [1, 's', heads * head_dim]), vi('k', 1, [1, 's', kv_heads * head_dim]),
                                         vi('v', 1, [1, 's', kv_heads * head_dim]), vi('past_key', 1, kv), vi('past_value', 1, kv),
                                         vi('attention_mask', TensorProto.INT64, [1, 'total'])],
                          [vi('out', 1, [1, 's', heads * head_dim]), vi('present_key', 1, [1, kv_heads, 'total', head_dim]),
                           vi('present_value', 1, [1, kv_heads, 'total', head_dim])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('com.microsoft', 1)])
    onnx.checker.check_model(m)
    return m.SerializeToString()


def feeds(seed, heads, kv_heads, head_dim, past, rows):
    seeds = iter(range(seed, seed + 5))

    def f(*shape):  # the page fills it with pseudo-random floats from the seed
        return {'type': 'float32', 'dims': list(shape), 'seed': next(seeds)}
    return {'q': f(1, rows, heads * head_dim), 'k': f(1, rows, kv_heads * head_dim), 'v': f(1, rows, kv_heads * head_dim),
            'past_key': f(1, kv_heads, past, head_dim), 'past_value': f(1, kv_heads, past, head_dim),
            'attention_mask': {'type': 'int64', 'dims': [1, past + rows], 'data': [1] * (past + rows)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('cases', nargs='+', help='past:rows')
    ap.add_argument('--heads', type=int, required=True)
    ap.add_argument('--kv-heads', type=int, required=True)
    ap.add_argument('--head-dim', type=int, required=True)
    a = ap.parse_args()
    cases = [tuple(int(x) for x in c.split(':')) for c in a.cases]
    model = graph(a.heads, a.kv_heads, a.head_dim, max(p + s for p, s in cases))
    out = [{'name': f'past {p}, rows {s}', 'feeds': feeds(10 * i, a.heads, a.kv_heads, a.head_dim, p, s)} for i, (p, s) in enumerate(cases)]
    with open(a.out, 'w') as fh:
        json.dump({'model': list(model), 'cases': out}, fh)


if __name__ == '__main__':
    main()
