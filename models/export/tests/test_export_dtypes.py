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
