/// <reference lib="webworker" />
/** Test-only module worker: runs a bundle load off the main thread, as the app does. */
import { runLoad } from './bundle-run';

self.onmessage = async (ev: MessageEvent<{ baseUrl: string }>) => {
  self.postMessage(await runLoad(ev.data.baseUrl, 'worker'));
};
