#!/usr/bin/python3
"""The lite fixture in exactly the public Hub layout: a mirror folder a Hub endpoint can point at.

Lays the graphs, config and tokenizer files of the fixture bundle (make_fixture.py) out as
<repo>/resolve/<commit>/<path>, with the repo names, commit hashes and file names of
models/lite/pins.json (the variants given, q4 and q8 by default: the fixture's graphs have fp32
I/O, as the public q4 / q8 / uint8 graphs do; its q4f16 graphs would need fp16 I/O). The q4
names hold the fixture's float32 graphs; the q8 decoders (`*_quantized.onnx`) its int8 copies
(make_fixture.py, quantize_q8.py). Writes pins.json at the mirror root: the same record with the
fixture's sizes and sha256, named as random-weight.

usage: /usr/bin/python3 models/lite/make_mirror.py --fixture public/bundles/lite-fixture --out models/lite/mirror [--variants q4,q8]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
# fixture path -> (repo key, path in the repo, or the graph role whose pinned path it takes)
FIXTURE_FILES = {
    "llava": ["config.json", "generation_config.json", "preprocessor_config.json", "video_processor/preprocessor_config.json",
              "chat_template.json", "added_tokens.json", "tokenizer.json", "tokenizer_config.json"],
    "whisper": ["config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"],
    "ast": ["config.json", "preprocessor_config.json"],
}
PREFIX = {"llava": "", "whisper": "whisper/", "ast": "ast/"}
FIXTURE_GRAPHS = {
    "vision_encoder": "onnx/vision_encoder.onnx",
    "embed_tokens": "onnx/embed_tokens.onnx",
    "decoder_model_merged": "onnx/decoder_model_merged.onnx",
    "speech_encoder": "whisper/onnx/encoder_model.onnx",
    "speech_decoder": "whisper/onnx/decoder_model_merged.onnx",
    "sound_tagger": "ast/onnx/model.onnx",
}
# a q8 graph of these roles: the fixture's int8 copy (make_fixture.py Q8_DECODERS)
FIXTURE_Q8_GRAPHS = {
    "decoder_model_merged": "onnx/decoder_model_merged_quantized.onnx",
    "speech_decoder": "whisper/onnx/decoder_model_merged_quantized.onnx",
}


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)  # same bytes, no second copy on disk
    except OSError:
        shutil.copyfile(src, dst)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fixture_graph(role, g):
    return FIXTURE_Q8_GRAPHS[role] if g["dtype"] == "q8" and role in FIXTURE_Q8_GRAPHS else FIXTURE_GRAPHS[role]


def build(fixture, out, variants):
    with open(os.path.join(HERE, "pins.json")) as f:
        pins = json.load(f)
    if os.path.isdir(out):
        shutil.rmtree(out)
    root = lambda k: os.path.join(out, pins[k]["repo"], "resolve", pins[k]["revision"])  # noqa: E731
    # The sound tagger is optional: a fixture built with --no-sound-tagger has no ast/ folder.
    tagger = os.path.isdir(os.path.join(fixture, "ast"))
    for k, files in FIXTURE_FILES.items():
        if k == "ast" and not tagger:
            continue
        for rel in files:
            place(os.path.join(fixture, PREFIX[k] + rel), os.path.join(root(k), rel))
    mirrored = {}
    placed = {}  # mirror path -> fixture path (one file per public name)
    for variant in variants:
        spec = pins["variants"][variant]
        graphs = {}
        for role, g in spec["graphs"].items():
            if role == "sound_tagger" and not tagger:
                continue
            dst = os.path.join(root(g["repo"]), g["path"])
            src = fixture_graph(role, g)
            if placed.setdefault(dst, src) != src:
                raise ValueError(f"{variant} {role}: {g['path']} would hold both {placed[dst]} and {src}")
            if not os.path.exists(dst):
                place(os.path.join(fixture, src), dst)
            graphs[role] = {**g, "bytes": os.path.getsize(dst), "approxBytes": os.path.getsize(dst), "lfsSha256": sha256(dst)}
        mirrored[variant] = {**spec, "graphs": graphs}
    mirror = {k: v for k, v in pins.items() if k not in ("$comment", "variants") and (k != "ast" or tagger)}
    mirror.update({
        "$comment": "Written by models/lite/make_mirror.py: the fixture's sizes and sha256 under the public repos, commits and paths.",
        "name": "Lite fixture from the Hub layout ({variant}, random weights)",  # {variant}: filled in by the loader
        "randomWeights": True,
        "variants": mirrored,
    })
    with open(os.path.join(out, "pins.json"), "w") as f:
        json.dump(mirror, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default="public/bundles/lite-fixture")
    ap.add_argument("--out", default="models/lite/mirror")
    ap.add_argument("--variants", default="q4,q8", help="comma-separated, in the pins' order (best first)")
    args = ap.parse_args()
    build(args.fixture, args.out, args.variants.split(","))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
