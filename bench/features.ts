/**
 * Feature extraction speed: the TS Whisper log-mel (128 mels, one 30 s window) against
 * the numpy reference (models/export/salmonn/features.py) timed in the same run, and
 * against real time (30 s of audio).
 */
import { spawnSync } from 'node:child_process';
import { makeLogMelExtractor, logMel } from '../src/core/features/logmel';

const config = { sampleRate: 16000, windowSeconds: 30, numMels: 128, nFft: 400, hopLength: 160, melFrames: 3000 };
const samples = new Float32Array(480000).map((_, n) => Math.sin(n * 0.01) * 0.3 + (((n * 7919) % 2001) - 1000) / 8000);
const ex = makeLogMelExtractor(config);
logMel(ex, samples); // warm-up (JIT)
const runs = 5;
const t0 = performance.now();
for (let i = 0; i < runs; i++) logMel(ex, samples);
const tsMs = (performance.now() - t0) / runs;

const py = spawnSync('/usr/bin/python3', ['-c', `
import sys, time, numpy as np
sys.path.insert(0, 'models/export')
from salmonn.features import log_mel
n = np.arange(480000)
x = (np.sin(n * 0.01) * 0.3 + (((n * 7919) % 2001) - 1000) / 8000).astype(np.float32)
log_mel(x, 128)
t = time.perf_counter()
for _ in range(${runs}): log_mel(x, 128)
print((time.perf_counter() - t) / ${runs} * 1000)
`], { encoding: 'utf8' });
const npMs = py.status === 0 ? Number(py.stdout.trim()) : NaN;

console.log('log-mel, one 30 s window, 128 mels × 3000 frames');
console.log(`  TypeScript (Node): ${tsMs.toFixed(1)} ms   real-time factor ${(30000 / tsMs).toFixed(0)}×`);
console.log(`  numpy reference:   ${Number.isNaN(npMs) ? 'unavailable' : npMs.toFixed(1) + ' ms'}`);
if (!Number.isNaN(npMs)) console.log(`  TS / numpy time ratio: ${(tsMs / npMs).toFixed(2)}`);
