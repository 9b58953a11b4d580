#!/usr/bin/env bash
# Checks the system packages the tests need and installs the missing ones with apt when
# run as root; otherwise prints exactly what to install. Debian/Ubuntu.
set -uo pipefail

PY=/usr/bin/python3
missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || [ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
have ffmpeg || missing+=(ffmpeg)
have espeak-ng || missing+=(espeak-ng)
have sox || missing+=(sox)
if [ -x "$PY" ]; then
  "$PY" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  "$PY" -c 'import onnx' 2>/dev/null || missing+=(python3-onnx)
  "$PY" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  "$PY" -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
  "$PY" -c "import PIL" 2>/dev/null || missing+=(python3-pil)
else
  missing+=(python3 python3-torch python3-onnx python3-numpy python3-pytest python3-pil)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && have apt-get; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "apt-get install failed for: ${missing[*]}" >&2; exit 1; }
  exit 0
fi

echo "Missing system packages: ${missing[*]}" >&2
echo "Install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
