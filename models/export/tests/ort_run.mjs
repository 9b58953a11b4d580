// Run ONNX graphs with onnxruntime-node for the Python tests.
// usage: node ort_run.mjs job.json
// job = { runs: [ { model, outDir, inputs: { name: { dtype, dims, file } } } ] }
//   dtype: 'float32' | 'float16' (raw IEEE half bits) | 'int64' | 'int32' | 'uint8' | 'bool' (one byte each)
// Each input file holds raw little-endian data. For every run, writes <outDir>/<output>.bin
// (raw data of the output's own dtype) and <outDir>/outputs.json ({ name: { dtype, dims } }).
// A run with `"create": true` and no inputs only creates the session (load check).
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const sessions = new Map();
const ARRAYS = { float32: Float32Array, float16: Uint16Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array };

function readTensor({ dtype, dims, file }) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const A = ARRAYS[dtype];
  if (!A) throw new Error(`unsupported dtype ${dtype}`);
  return new ort.Tensor(dtype, new A(ab), dims);
}

for (const run of job.runs) {
  let sess = sessions.get(run.model);
  if (!sess) {
    sess = await ort.InferenceSession.create(run.model, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    sessions.set(run.model, sess);
  }
  if (run.create) continue;
  const feeds = {};
  for (const [name, spec] of Object.entries(run.inputs)) feeds[name] = readTensor(spec);
  const out = await sess.run(feeds);
  fs.mkdirSync(run.outDir, { recursive: true });
  const meta = {};
  for (const [name, t] of Object.entries(out)) {
    const data = t.data;
    fs.writeFileSync(path.join(run.outDir, `${name}.bin`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    meta[name] = { dtype: t.type, dims: t.dims.map(Number) };
  }
  fs.writeFileSync(path.join(run.outDir, 'outputs.json'), JSON.stringify(meta));
}
