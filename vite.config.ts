import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Threaded WASM needs cross-origin isolation (SharedArrayBuffer): every response carries
 * COOP/COEP, on the dev and the preview server alike.
 */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * onnxruntime-web's wasm + loader files are served as plain static files under /ort/ and
 * `ort.env.wasm.wasmPaths` points there (src/core/runtime/ort-web.ts). Bundling them into
 * the app made threaded session creation hang after `vite build` (ENVIRONMENT.md).
 */
const ORT_DIR = resolve('node_modules/onnxruntime-web/dist');
const ortFiles = () => readdirSync(ORT_DIR).filter((f) => /^ort-wasm-simd-threaded.*\.(mjs|wasm)$/.test(f));

function ortStatic(): Plugin {
  const serve: Plugin['configureServer'] = (server) => {
    server.middlewares.use('/ort/', (req, res, next) => {
      const name = (req.url ?? '').split('?')[0].replace(/^\//, '');
      if (!ortFiles().includes(name)) return next();
      res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
      for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
      createReadStream(join(ORT_DIR, name)).pipe(res);
    });
  };
  return {
    name: 'ort-static',
    configureServer: serve,
    configurePreviewServer: serve as Plugin['configurePreviewServer'],
    generateBundle() {
      for (const f of ortFiles()) {
        this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ORT_DIR, f)) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), ortStatic()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
