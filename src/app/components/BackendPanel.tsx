import { describeBackend, type Capabilities } from '../../core/runtime/capabilities';
import { backendReason } from '../lib/backend';
import { useEngine } from '../state/engine';

/** Which compute backend this browser offers, and whether threaded WASM can run. */
export function BackendPanel({ capabilities }: { capabilities: Capabilities | null }) {
  const ready = useEngine((s) => s.model.ready);
  const prefer = useEngine((s) => s.model.prefer);
  const reason = backendReason(capabilities, ready, prefer);
  if (!capabilities) {
    return (
      <section className="panel" aria-busy="true" aria-label="Compute backend">
        <p>Checking this browser's GPU…</p>
      </section>
    );
  }
  const gpu = capabilities.webgpu;
  return (
    <section className="panel" aria-label="Compute backend">
      <h2>Compute backend</h2>
      <dl className="facts">
        <dt>Backend</dt>
        <dd data-testid="backend">{describeBackend(capabilities)}</dd>
        {reason ? (
          <>
            <dt>The model runs on</dt>
            <dd data-testid="backend-reason">{reason}</dd>
          </>
        ) : null}
        {gpu ? (
          <>
            <dt>WebGPU adapter</dt>
            <dd data-testid="gpu-adapter">
              {gpu.vendor || 'unknown vendor'} / {gpu.architecture || 'unknown architecture'}
              {gpu.isFallback ? ' (software)' : ''}
            </dd>
            <dt>shader-f16</dt>
            <dd data-testid="shader-f16">{gpu.shaderF16 ? 'yes' : 'no'}</dd>
          </>
        ) : (
          <>
            <dt>WebGPU</dt>
            <dd data-testid="gpu-adapter">{capabilities.webgpuUnavailableReason}</dd>
          </>
        )}
        <dt>Cross-origin isolated</dt>
        <dd data-testid="isolated">{capabilities.crossOriginIsolated ? 'yes' : 'no'}</dd>
        <dt>WASM threads</dt>
        <dd data-testid="wasm-threads">{capabilities.wasmThreads}</dd>
        <dt>WebCodecs</dt>
        <dd data-testid="webcodecs">{capabilities.webcodecs ? 'yes' : 'no'}</dd>
      </dl>
    </section>
  );
}
