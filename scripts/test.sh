#!/usr/bin/env bash
# `npm test`: every check and test of the project, then one totals line
# "N passed, N failed" that adds up every runner (checks, vitest, pytest, Playwright).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=.test-output
rm -rf "$OUT"; mkdir -p "$OUT"
CHECKS="$OUT/checks.tsv"
: >"$CHECKS"

step() { # step NAME COMMAND...: runs a command, records it as one check
  local name=$1; shift
  echo "── $name"
  if "$@"; then printf '%s\tpassed\n' "$name" >>"$CHECKS"; else printf '%s\tfailed\n' "$name" >>"$CHECKS"; fi
}

bash scripts/ensure-system.sh || { echo "0 passed, 1 failed"; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }

# Generated inputs: the tiny random-weight bundle and the media fixtures.
if [ ! -f public/bundles/tiny/bundle.json ]; then step "build tiny bundle" npm run --silent models:tiny; fi
# (a fixture without the q8 decoders, or a mirror without the q8 variant, predates them: rebuilt)
if [ ! -f public/bundles/lite-fixture/onnx/decoder_model_merged_quantized.onnx ]; then step "build lite fixture" npm run --silent models:lite-fixture; fi
if ! grep -q '"q8"' models/lite/mirror/pins.json 2>/dev/null; then step "lay the lite fixture out as a Hub mirror" npm run --silent models:lite-mirror; fi
for q in q4 q4f16; do
  if [ ! -f public/bundles/tiny-$q/bundle.json ]; then step "build tiny $q bundle" npm run --silent models:tiny-$q; fi
done
# A Qwen2-0.5B-shaped q4 bundle (random weights, several chunks per graph) for e2e/large-bundle.spec.ts.
if [ ! -f public/bundles/qwen05-q4/bundle.json ]; then step "build Qwen2-0.5B-shaped q4 bundle" npm run --silent models:qwen05-q4; fi
if [ -f e2e/fixtures/make-fixtures.sh ]; then step "make media fixtures" bash e2e/fixtures/make-fixtures.sh; fi

step lint npx eslint .
step typecheck npx tsc --noEmit -p .

echo "── unit tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$OUT/vitest.json"

if [ -d models/export/tests ]; then
  echo "── model exporter tests (pytest)"
  # -o addopts=: the slow real-shape check too (Qwen2-0.5B q4 vs the dequantised reference, ≈ 4 min).
  (cd models/export && /usr/bin/python3 -m pytest -q -o addopts= tests --junitxml="../../$OUT/pytest.xml")
fi

echo "── browser tests (Playwright, headless Chromium)"
npx playwright test

node scripts/totals.mjs "$OUT"
