// Run ONNX graphs with onnxruntime-node for the Python tests.
// usage: node ort_run.mjs job.json
// job = { runs: [ { model, outDir, inputs: { name: { dtype: 'float32'|'int64', dims, file } } } ] }
// Each input file holds raw little-endian data. For every run, writes <outDir>/<output>.bin
// (raw float32/int64) and <outDir>/outputs.json ({ name: { dtype, dims } }).
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const sessions = new Map();

function readTensor({ dtype, dims, file }) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (dtype === 'float32') return new ort.Tensor('float32', new Float32Array(ab), dims);
  if (dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(ab), dims);
  throw new Error(`unsupported dtype ${dtype}`);
}

for (const run of job.runs) {
  let sess = sessions.get(run.model);
  if (!sess) {
    sess = await ort.InferenceSession.create(run.model, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    sessions.set(run.model, sess);
  }
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
