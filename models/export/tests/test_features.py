"""log-mel reference vs an independent torch.stft implementation; pixel preprocessing."""
import numpy as np
import torch

from salmonn.features import log_mel, mel_filters, pixel_values


def _torch_log_mel(audio, n_mels):
    x = torch.zeros(480000, dtype=torch.float64)
    x[: audio.shape[0]] = torch.from_numpy(audio.astype(np.float64))
    win = torch.hann_window(400, periodic=True, dtype=torch.float64)
    st = torch.stft(x, 400, 160, window=win, center=True, pad_mode="reflect", return_complex=True)
    power = st[:, :-1].abs() ** 2
    mel = torch.from_numpy(mel_filters(n_mels)) @ power
    lg = torch.clamp(mel, min=1e-10).log10()
    lg = torch.maximum(lg, lg.max() - 8.0)
    return ((lg + 4.0) / 4.0).float().numpy()


def test_log_mel_matches_torch_stft():
    rng = np.random.default_rng(0)
    for n, mels in ((16000, 16), (250000, 128), (480000, 80)):
        a = (rng.standard_normal(n) * 0.1).astype(np.float32)
        ref = _torch_log_mel(a, mels)
        got = log_mel(a, mels)
        assert got.shape == (mels, 3000) and got.dtype == np.float32
        assert np.abs(got - ref).max() < 1e-5


def test_mel_filters_slaney():
    from salmonn.features import _hz_to_mel, _mel_to_hz
    f = mel_filters(128)
    assert f.shape == (128, 201)
    assert np.all(f >= 0) and np.all(f.sum(axis=1) > 0)
    hz = np.array([0.0, 500.0, 1000.0, 4000.0, 8000.0])
    assert np.allclose(_mel_to_hz(_hz_to_mel(hz)), hz)
    assert np.isclose(_hz_to_mel(1000.0), 15.0)  # slaney: linear below 1 kHz (3 mels / 200 Hz)
    peaks = f.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)  # filters ordered by frequency
    # slaney norm: filter i has peak 2 / (f[i+2] - f[i]) (area-normalised triangles)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(8000.0), 130))
    assert f[-1].max() <= 2.0 / (mel_f[129] - mel_f[127]) + 1e-12


def test_pixel_values_shape_and_range():
    frames = np.zeros((2, 30, 40, 3), np.uint8)
    frames[1] = 255
    pv = pixel_values(frames, 28, [0.5] * 3, [0.5] * 3)
    assert pv.shape == (2, 3, 28, 28) and pv.dtype == np.float32
    assert np.allclose(pv[0], -1.0) and np.allclose(pv[1], 1.0)
