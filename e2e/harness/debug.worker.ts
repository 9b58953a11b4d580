/// <reference lib="webworker" />
/**
 * The app's caption worker plus the harness's debug messages (debug.ts): the same
 * engine and protocol as src/worker/caption.worker.ts, with memory stats and a real GPU
 * device loss on request. Test builds only.
 */
import { loseGpuDevice, runStats, stats, type DebugMessage, type DebugReply } from './debug';
import { serve, webEngine } from '../../src/worker/serve';
import { ortWebFor } from '../../src/worker/ort-web';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const reply = (m: DebugReply) => scope.postMessage(m);

serve(scope, webEngine(scope), {
  onToken: () => runStats.tokens++,
  onInterrupt: () => {
    runStats.tokensAtInterrupt = runStats.tokens;
  },
  extra(message, engine) {
    const m = message as { type?: string } & Partial<Omit<DebugMessage, 'type'>>;
    if (m.type === 'caption' || m.type === 'ask') {
      runStats.tokens = 0;
      runStats.tokensAtInterrupt = null;
    }
    if (m.type !== 'debug') return false;
    const { debugId, action } = m as DebugMessage;
    if (action === 'stats') reply({ type: 'debug-result', debugId, result: { ok: true, stats: stats() } });
    else {
      const onGpu = Object.values(engine.loaded?.backends ?? {}).includes('webgpu');
      // the build the engine picked for a bundle on WebGPU (JSPI where the browser has it)
      void ortWebFor(onGpu)
        .then(({ ort }) => loseGpuDevice(ort, onGpu))
        .catch((e: unknown) => ({ ok: false, message: String(e) }))
        .then((result) => reply({ type: 'debug-result', debugId, result }));
    }
    return true;
  },
});
