#!/usr/bin/env bash
# Full 7B-shape export bench (not CI; issue 10): random weights at the released shapes and
# names (Qwen2-7B LLM, Whisper-large-v3 encoder + Q-Former, SigLIP-so400m 26 layers), all five
# graphs, q4f16 LLM + q4f16 encoders by default (--vision-dtype/--audio-dtype fp16: the 6.5 GB form). Measures peak RSS (/usr/bin/time -v), wall
# time, bytes written, the largest chunk; then loads the bundle in onnxruntime-node and
# generates 8 tokens (tokens/s). Results: $OUT/bench.json (copy the numbers to bench/README.md).
#
#   bash bench/export-7b.sh [OUT_DIR] [extra export.py args, e.g. --dtype q4 --vision-dtype q4]
# Needs ~5 GB of free disk (6.5 GB with fp16 encoders), ~6 GB RAM for the export, ~6-9 GB to load.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/bench-7b}
shift || true
DTYPE=q4f16
prev=""
for a in "$@"; do
  if [ "$prev" = "--dtype" ]; then DTYPE=$a; fi
  prev=$a
done
mkdir -p "$OUT"
PY=/usr/bin/python3
/usr/bin/time -v -o "$OUT/time-export.txt" nice $PY models/export/export.py \
  --random-shape qwen2-7b,whisper-large-v3,siglip-so400m --seed 0 --dtype "$DTYPE" --out "$OUT/bundle" "$@" \
  2>&1 | tee "$OUT/export.log"
# load + 8 greedy tokens in onnxruntime-node (decoder + embed_tokens; the prompt = the system turn ids)
cat > "$OUT/greedy.json" <<EOF
{"decoder": "$OUT/bundle/onnx/decoder_model_merged.onnx", "embed": "$OUT/bundle/onnx/embed_tokens.onnx",
 "promptIds": [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198],
 "steps": 8, "layers": 28, "kvHeads": 4, "headDim": 128,
 "kvDtype": "$( [ "$DTYPE" = q4f16 ] || [ "$DTYPE" = fp16 ] && echo float16 || echo float32 )",
 "out": "$OUT/greedy-out.json", "threads": 2}
EOF
/usr/bin/time -v -o "$OUT/time-load.txt" nice node models/export/tests/ort_greedy.mjs "$OUT/greedy.json"
$PY - "$OUT" <<'EOF'
import json, os, re, sys
out = sys.argv[1]
def tv(p):
    t = open(p).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    parts = [float(x) for x in wall.split(":")]
    sec = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    return rss / 2 ** 20, sec
m = json.load(open(os.path.join(out, "bundle", "bundle.json")))
graphs = {}
for g, e in m["graphs"].items():
    chunks = [x["bytes"] for x in e["externalData"]]
    graphs[g] = {"dtype": e["dtype"], "bytes": e["bytes"] + sum(chunks), "chunks": len(chunks),
                 "largestChunk": max(chunks) if chunks else 0}
total = sum(v["bytes"] for v in graphs.values())
er, et = tv(os.path.join(out, "time-export.txt"))
lr, lt = tv(os.path.join(out, "time-load.txt"))
gr = json.load(open(os.path.join(out, "greedy-out.json")))
steps = gr["stepMs"]
res = {"graphs": graphs, "totalBytes": total, "largestChunk": max(v["largestChunk"] for v in graphs.values()),
       "exportPeakRssGiB": round(er, 2), "exportSeconds": round(et, 1),
       "loadPeakRssGiB": round(lr, 2), "loadSeconds": round(lt, 1), "createMs": round(gr["createMs"]),
       "prefillMs (14 tokens)": round(gr["prefillMs"]), "msPerToken": round(sum(steps) / len(steps)) if steps else None,
       "tokensPerSecond": round(1000 * len(steps) / sum(steps), 3) if steps else None, "ids": gr["ids"]}
json.dump(res, open(os.path.join(out, "bench.json"), "w"), indent=1)
print(json.dumps(res, indent=1))
EOF
