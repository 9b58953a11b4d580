"""export.py's default dtype per graph (graph_dtypes), written out by hand."""
from types import SimpleNamespace

import pytest

import export

ENC = ("vision_encoder", "audio_encoder", "audio_aligner")


@pytest.mark.parametrize("llm,tiny,expected", [
    ("q4f16", False, "q4f16"),  # the ≈ 5 GB 7B bundle
    ("fp16", False, "fp16"),
    ("q4", False, "fp32"),
    ("fp32", False, "fp32"),
    ("q4f16", True, "fp32"),    # tiny goldens check the encoders at 1e-4
    ("q4", True, "fp32"),
])
def test_default_encoder_dtypes(llm, tiny, expected):
    args = SimpleNamespace(dtype=llm, tiny=tiny, vision_dtype=None, audio_dtype=None)
    assert export.graph_dtypes(args) == {g: expected for g in ENC}


def test_flags_override_the_default():
    args = SimpleNamespace(dtype="q4f16", tiny=False, vision_dtype="q4f16", audio_dtype="fp16")
    assert export.graph_dtypes(args) == {"vision_encoder": "q4f16", "audio_encoder": "fp16", "audio_aligner": "fp16"}


@pytest.mark.parametrize("tied,llm,embed,refused", [
    (True, "q4", "fp32", True),     # Qwen2-0.5B: the table is lm_head's 4-bit weight
    (True, "q4f16", "fp16", True),
    (True, "q4", "q4", False),
    (True, "q4", None, False),      # defaults to q4
    (False, "q4", "fp32", False),   # Qwen2-7B: a separate table may be fp32
    (True, "fp32", "fp32", False),  # not quantised: nothing shared at 4 bits
])
def test_tied_quantised_tables_refuse_another_embed_dtype(tmp_path, tied, llm, embed, refused):
    """A tied q4 model used to ignore --embed-dtype fp32 while bundle.json said fp32."""
    cfg = SimpleNamespace(tie_embeddings=tied)
    args = SimpleNamespace(dtype=llm, embed_dtype=embed, accuracy_level=4, max_chunk_bytes=1 << 30,
                           tiny=False, vision_dtype=None, audio_dtype=None)
    stop = RuntimeError("stopped after the check")

    def no_encoders(*_a, **_k):
        raise stop

    monkey = pytest.MonkeyPatch()
    monkey.setattr(export, "export_encoder", no_encoders)
    try:
        with pytest.raises(SystemExit if refused else RuntimeError) as e:
            export.export_direct(cfg, None, str(tmp_path), args, log=lambda *_: None)
        if refused:
            assert "ties its token embeddings to lm_head" in str(e.value) and f"--embed-dtype {embed}" in str(e.value)
        else:
            assert e.value is stop
    finally:
        monkey.undo()
