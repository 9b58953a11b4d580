"""bundle.json schema/integrity, golden.json structure, determinism of the tiny export."""
import hashlib
import json
import os
import re

import export

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MANIFEST_TS = os.path.join(REPO, "src", "core", "bundle", "manifest.ts")


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _ts_fields(interface):
    """Field names of one interface in manifest.ts (keeps us in step with the TS type)."""
    src = open(MANIFEST_TS).read()
    m = re.search(r"interface " + interface + r"\b[^{]*\{(.*?)\n\}", src, re.S)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return {f for f in re.findall(r"^\s*(\w+)\??:", body, re.M)}


def test_manifest(tiny_bundle):
    with open(os.path.join(tiny_bundle, "bundle.json")) as f:
        m = json.load(f)
    assert m["format"] == "salmonn-bundle" and m["version"] == 2 and m["randomWeights"] is True
    assert m["family"] == "video-salmonn-2"
    if os.path.exists(MANIFEST_TS):
        assert set(m) == _ts_fields("BundleManifest")
        for key, iface in (("vision", "VisionConfig"), ("sampling", "SamplingConfig"), ("audio", "AudioConfig"),
                           ("llm", "LlmConfig"), ("prompt", "PromptConfig"), ("generation", "GenerationConfig")):
            assert set(m[key]) == _ts_fields(iface), key
        for name, g in m["graphs"].items():
            # the exporter writes largestTensorBytes for every graph (the preflight's maxBufferSize check)
            optional = set() if name == "decoder_model_merged" else {"kvCache", "logits"}
            assert set(g) == (_ts_fields("GraphEntry") | _ts_fields("BundleFile")) - optional, name
    files = [g for g in m["graphs"].values()] + m["tokenizer"]["files"] + [m["golden"]]
    files += [x for g in m["graphs"].values() for x in g["externalData"]]
    for e in files:
        p = os.path.join(tiny_bundle, e["path"])
        assert os.path.getsize(p) == e["bytes"] and _sha(p) == e["sha256"], e["path"]
    assert [os.path.basename(f["path"]) for f in m["tokenizer"]["files"]] == ["tokenizer.json", "tokenizer_config.json"]
    assert m["vision"]["tokensPerFrame"] == 12 and m["audio"]["tokensPerWindow"] == 60
    dec = m["graphs"]["decoder_model_merged"]
    assert dec["inputs"] == {"inputs_embeds": "inputs_embeds", "attention_mask": "attention_mask",
                             "position_ids": "position_ids", "past_key": "past_key_values.{i}.key",
                             "past_value": "past_key_values.{i}.value"}
    assert dec["outputs"] == {"logits": "logits", "present_key": "present.{i}.key", "present_value": "present.{i}.value"}
    assert dec["kvCache"] == {"dtype": "float32", "layout": "batch,kv_heads,sequence,head_dim"}
    assert m["graphs"]["embed_tokens"]["device"] == "cpu" and m["graphs"]["vision_encoder"]["device"] == "gpu"
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tiny_bundle) for f in fs)
    assert total < 45 * 1024 * 1024


def test_golden(tiny_bundle):
    with open(os.path.join(tiny_bundle, "golden.json")) as f:
        g = json.load(f)
    assert g["prompt"]["systemIds"] == [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198]
    assert g["prompt"]["beforeIds"][-3:] == [151644, 872, 198]
    assert g["prompt"]["afterIds"][:2] == [198, 198] and g["prompt"]["afterIds"][-5:] == [151645, 198, 151644, 77091, 198]
    assert [c["name"] for c in g["cases"]] == ["synthetic_4.5s", "synthetic_31s", "synthetic_6.5s", "fixture_testsrc2_5s"]
    for c in g["cases"]:
        assert len(c["runs"]) == 4
        for r in c["runs"]:
            n = sum(s["visualTokens"] + s["audioTokens"] for s in r["layout"]) + r["trailingAudio"]
            assert n == r["avTokens"]
            assert r["promptLength"] == len(r["inputIds"]) == len(g["prompt"]["beforeIds"]) + n + len(g["prompt"]["afterIds"])
            assert len(r["generated"]["ids"]) == 32 or r["generated"]["stopped"]
    assert g["cases"][1]["audioFeatures"]["shape"] == [120, 24]
    # 7 frames, 60 audio tokens: spread stretches to 63 rows, 9 per frame, with repeats.
    spread = next(r for r in g["cases"][2]["runs"] if r["interleave"] == "spread")
    rows = [i for seg in spread["audioIndices"] for i in seg]
    assert [s["audioTokens"] for s in spread["layout"]] == [9] * 7 and len(rows) == 63
    assert sorted(set(rows)) == list(range(60)) and rows == sorted(rows)


def test_tiny_export_is_deterministic(tiny_bundle, tmp_path):
    out = str(tmp_path / "again")
    assert export.main(["--tiny", "--seed", "0", "--out", out]) == 0
    a = sorted(os.path.relpath(os.path.join(d, f), tiny_bundle) for d, _, fs in os.walk(tiny_bundle) for f in fs)
    b = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    assert a == b
    for rel in a:
        assert _sha(os.path.join(tiny_bundle, rel)) == _sha(os.path.join(out, rel)), rel
