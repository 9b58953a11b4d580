import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT = os.path.dirname(HERE)
sys.path.insert(0, EXPORT)

SEED = 0


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """One tiny bundle (graphs + bundle.json + tokenizer + golden) for the whole run."""
    import export
    out = str(tmp_path_factory.mktemp("tiny_bundle"))
    assert export.main(["--tiny", "--seed", str(SEED), "--out", out]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_model():
    from salmonn.config import tiny_config
    from salmonn.model import VideoSalmonn2
    return VideoSalmonn2(tiny_config()).init_random(SEED)
