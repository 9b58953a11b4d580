"""golden.json setupRuns (the released checkpoint's run set-up) against hand-worked values."""
import json
import os


def _golden(tiny_bundle):
    with open(os.path.join(tiny_bundle, "golden.json")) as f:
        return json.load(f)


def _run(c, modality, sampling="paper", penalty=1.0):
    return next(r for r in c["setupRuns"] if r["modality"] == modality and r["setup"]["sampling"] == sampling
                and r["setup"]["repetitionPenalty"] == penalty)


def test_setup_runs(tiny_bundle):
    g = _golden(tiny_bundle)
    assert g["defaults"]["sampling"] == "paper" and g["defaults"]["promptVariant"] == "official"
    v = g["prompt"]["variants"]
    # official = training minus both 151645 (system turn, user turn)
    assert v["training"]["beforeIds"] == g["prompt"]["beforeIds"] and v["training"]["afterIds"] == g["prompt"]["afterIds"]
    assert v["official"]["beforeIds"] == [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 198, 151644, 872, 198]
    assert v["official"]["afterIds"] == [i for i in g["prompt"]["afterIds"] if i != 151645]
    assert len(v["official"]["afterIds"]) == len(v["training"]["afterIds"]) - 1
    cases = {c["name"]: c for c in g["cases"]}
    for c in g["cases"]:
        for r in c["setupRuns"]:
            assert r["inputIds"] == r["inputIdsByVariant"][r["setup"]["promptVariant"]]
            assert 151645 not in r["inputIds"]
            assert r["promptLength"] == len(r["inputIds"]) == len(r["inputIdsByVariant"]["training"]) - 2
    # synthetic_4.5s: 45 frames at 10 fps -> frames 0,10,20,30,40, T = 4.5, T/F = 0.9:
    # "0.9" "1.8" "2.7" "3.6" "4.5", 3 tokens each ("." = 13, digit d = 15 + d), no zero rows;
    # 5 * (12 + 3) = 75 rows
    vr = _run(cases["synthetic_4.5s"], "video")
    assert [l["timeTokens"]["text"] for l in vr["layout"]] == ["0.9", "1.8", "2.7", "3.6", "4.5"]
    assert vr["layout"][0]["timeTokens"]["ids"] == [15, 13, 24]
    assert [l["timeTokens"]["zeroRows"] for l in vr["layout"]] == [0] * 5
    assert vr["timeTokenWidth"] == 3 and vr["avTokens"] == 75
    # synthetic_31s, paper: 62 frames at 2 fps -> r = 2 -> 31 candidates > 30 -> 30 frames; T/F = 31/30:
    # "1.0".."9.3" 3 tokens, "10.3".."31.0" 4 -> width 4, 9 frames with 1 zero row; 30 * (12 + 4) = 480
    vr = _run(cases["synthetic_31s"], "video")
    assert [l["timeTokens"]["zeroRows"] for l in vr["layout"]] == [1] * 9 + [0] * 21
    assert vr["layout"][13]["timeTokens"]["text"] == "14.5" and vr["avTokens"] == 480
    # checkpoint preset: 31 candidates <= 110 -> all 31 (0, 2, ..., 60); T/F = 1 -> "1.0".."31.0"
    ck = _run(cases["synthetic_31s"], "video", "checkpoint")
    assert ck["frameIndices"] == list(range(0, 62, 2)) and ck["setup"]["maxFrames"] == 110
    assert [l["timeTokens"]["text"] for l in ck["layout"]][::10] == ["1.0", "11.0", "21.0", "31.0"]
    assert ck["avTokens"] == 31 * (12 + 4)
    # audio only, paper max_time 30 s: synthetic_31s's 496000 samples -> 480000, one window, 60 tokens
    ar = _run(cases["synthetic_31s"], "audio")
    assert ar["audioInput"]["preparedAudioSamples"] == 480000 and ar["audioInput"]["windows"] == 1
    assert ar["avTokens"] == 60 and cases["synthetic_31s"]["inputs"]["windows"] == 2
    # the penalty run: same prompt and block as the unpenalised A+V spread run, p = 1.1
    pen = _run(cases["synthetic_4.5s"], "audio-video", penalty=1.1)
    base = next(r for r in cases["synthetic_4.5s"]["setupRuns"]
                if r["interleave"] == "spread" and r["setup"]["repetitionPenalty"] == 1.0)
    assert pen["setup"]["penaltyScope"] == "generated"
    assert pen["inputIds"] == base["inputIds"] and pen["inputsEmbeds"] == base["inputsEmbeds"]
    assert pen["generated"]["ids"] != base["generated"]["ids"]
