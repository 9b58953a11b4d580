/// <reference lib="webworker" />
/**
 * The Web Worker that owns the core: an in-process Engine behind the typed protocol
 * (protocol.ts, serve.ts). The page's main thread never runs model code.
 */
import { serve, webEngine } from './serve';

const scope = self as unknown as DedicatedWorkerGlobalScope;
serve(scope, webEngine(scope));
