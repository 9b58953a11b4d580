import { defineConfig, type Connect, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

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
// The worker's two builds (src/worker/ort-web.ts): onnxruntime-web/webgpu loads the asyncify
// variant, onnxruntime-web/jspi the jspi one (only where the browser has JSPI and WebGPU runs).
const ortFiles = () => readdirSync(ORT_DIR).filter((f) => /^ort-wasm-simd-threaded\.(asyncify|jspi)\.(mjs|wasm)$/.test(f));

type Middleware = Connect.NextHandleFunction;

const MIME: Record<string, string> = { '.wasm': 'application/wasm', '.mjs': 'text/javascript', '.json': 'application/json' };

/** Serves the files of `dir` that `allow` accepts under a URL prefix, with the isolation headers. */
function serveDir(dir: string, allow: (rel: string) => boolean): Middleware {
  return (req, res, next) => {
    const rel = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/+/, '');
    const file = resolve(dir, rel);
    if (!file.startsWith(resolve(dir) + sep) || !allow(rel) || !existsSync(file) || !statSync(file).isFile()) return next();
    res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
    createReadStream(file).pipe(res);
  };
}

function staticFiles(): Plugin {
  const ort = serveDir(ORT_DIR, (f) => ortFiles().includes(f));
  // Model bundles stay out of builds (a deployment hosts its own); previews serve them.
  const bundles = serveDir(resolve('public/bundles'), () => true);
  return {
    name: 'static-files',
    configureServer(server) {
      server.middlewares.use('/ort/', ort);
    },
    configurePreviewServer(server) {
      server.middlewares.use('/ort/', ort);
      server.middlewares.use('/bundles/', bundles);
    },
    generateBundle(_options, bundle) {
      // onnxruntime-web's JS names its wasm with `new URL(…, import.meta.url)`, so the bundler
      // copies it into assets/ as well: a second 27 MB copy nothing loads (wasmPaths → /ort/).
      for (const name of Object.keys(bundle)) if (/^assets\/ort-wasm[^/]*\.wasm$/.test(name)) delete bundle[name];
      for (const f of ortFiles()) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ORT_DIR, f)) });
      this.emitFile({ type: 'asset', fileName: 'favicon.svg', source: readFileSync(resolve('public/favicon.svg')) });
    },
  };
}

/**
 * `vite build --mode e2e` also builds the test harness pages into dist-e2e/, so the
 * browser tests can run the runtime from a production build (bundled worker, static ORT
 * files, threads) served by `vite preview --mode e2e`.
 */
export default defineConfig(({ mode }) => ({
  plugins: [react(), staticFiles()],
  // E2E_NO_HMR: the test server never reloads pages while someone edits the tree (playwright.config.ts).
  server: { headers: isolationHeaders, ...(process.env.E2E_NO_HMR ? { hmr: false } : {}) },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  // mediabunny pre-bundled up front: otherwise the first worker load re-optimises and reloads the page.
  optimizeDeps: { exclude: ['onnxruntime-web'], include: ['mediabunny'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    copyPublicDir: false,
    ...(mode === 'e2e'
      ? { outDir: 'dist-e2e', rollupOptions: { input: { main: resolve('index.html'), golden: resolve('e2e/harness/golden.html') } } }
      : {}),
  },
}));
