"""Reference input features (numpy / torch), the contract the TypeScript port follows.

log_mel  -- Whisper log-mel (PIPELINE §3). Everything is computed in float64, the result
            is rounded to float32 once at the end:
  1. x = audio (float32, 16 kHz), zero-padded at the end to exactly 480000 samples
     (longer input is an error: split into 30 s windows first).
  2. centre: reflect-pad 200 samples on both sides (numpy 'reflect', edge not repeated).
  3. frames t = 0..3000 (3001 frames), frame t = xpad[160 t : 160 t + 400] * hann,
     hann[n] = 0.5 - 0.5 cos(2 pi n / 400) (periodic).
  4. power = |rfft(frame)|^2 -> 201 bins; drop the last frame -> 3000 frames.
  5. mel = filters[n_mels, 201] @ power  (slaney mel scale + slaney norm, fmin 0,
     fmax 8000, like librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels)).
  6. L = log10(max(mel, 1e-10)); L = max(L, L.max() - 8); out = (L + 4) / 4.
pixel_values -- the checkpoint's SigLipImageProcessor path: transformers' resize with
  PILImageResampling.BICUBIC, i.e. PIL `Image.resize((size, size), Image.BICUBIC)` on
  the uint8 RGB frame (separable, antialiased when shrinking, a = -0.5, fixed-point
  weights, rounded and clipped to uint8 after each pass), no crop, no aspect keep; then
  /255, then (x - mean) / std per channel; layout [F, 3, size, size].
"""
from __future__ import annotations

from typing import Optional

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_SAMPLES = 480000
N_FRAMES = 3000


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(n_mels: int, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-style mel filter bank [n_mels, n_fft//2+1], float64 (librosa's formula)."""
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_pts = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2)
    mel_f = _mel_to_hz(mel_pts)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float64)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    return weights * enorm[:, None]


def hann_periodic(n: int = N_FFT) -> np.ndarray:
    k = np.arange(n, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2 * np.pi * k / n)


def log_mel(audio: np.ndarray, n_mels: int) -> np.ndarray:
    """[n_mels, 3000] float32 log-mel of one 30 s window (see module doc)."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if x.shape[0] > N_SAMPLES:
        raise ValueError(f"log_mel takes at most {N_SAMPLES} samples, got {x.shape[0]}")
    x = np.concatenate([x, np.zeros(N_SAMPLES - x.shape[0], np.float32)]).astype(np.float64)
    pad = N_FFT // 2
    xp = np.pad(x, (pad, pad), mode="reflect")
    n_frames = 1 + (xp.shape[0] - N_FFT) // HOP  # 3001
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = xp[idx] * hann_periodic()[None, :]
    spec = np.fft.rfft(frames, axis=-1)
    power = (spec.real ** 2 + spec.imag ** 2)[:-1]  # [3000, 201]
    mel = mel_filters(n_mels) @ power.T  # [n_mels, 3000]
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0).astype(np.float32)


def split_windows(audio: np.ndarray, window_samples: int = N_SAMPLES) -> list:
    """Consecutive 30 s pieces; the last one shorter (log_mel zero-pads it)."""
    n = audio.shape[0]
    count = max(1, -(-n // window_samples))
    return [audio[i * window_samples:(i + 1) * window_samples] for i in range(count)]


def select_channel(audio: np.ndarray, channel="0") -> np.ndarray:
    """Mono from [n] or [n, C] (soundfile's layout). channel 0: the checkpoint's
    `audio[:, 0]` (av_dataset.py:144-145); "mix": ffmpeg's normalised downmix (stereo
    (L + R) / 2; other layouts the mean), as src/core/media/resample.ts."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        return a
    if str(channel) == "0":
        return np.ascontiguousarray(a[:, 0])
    if channel != "mix":
        raise ValueError(f"unknown channel {channel!r}")
    c = a.shape[1]
    if c == 6:  # FL FR FC LFE BL BR: 1/sqrt2, 1/sqrt2, 1, 0, 1/2, 1/2, normalised to sum 1
        w = np.array([0.5 ** 0.5, 0.5 ** 0.5, 1.0, 0.0, 0.5, 0.5])
        w = w / w.sum()
    else:
        w = np.full(c, 1.0 / c)
    return (a.astype(np.float64) @ w).astype(np.float32)


def prepare_audio(audio: np.ndarray, duration: Optional[float], sr: int = SAMPLE_RATE,
                  max_time: Optional[float] = None) -> np.ndarray:
    """PIPELINE §3 in the checkpoint's order (av_dataset.py:150-157): zero-pad to >= 1 s,
    then truncate to round(sr * duration) when there is a video (duration = its real time),
    else (audio-only input, duration None) to round(sr * max_time) when max_time is given."""
    a = np.asarray(audio, dtype=np.float32).reshape(-1)
    if a.shape[0] < sr:
        a = np.concatenate([a, np.zeros(sr - a.shape[0], np.float32)])
    if duration is not None:
        a = a[: round(sr * duration)]
    elif max_time is not None:
        a = a[: round(sr * max_time)]
    return a


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 RGB [F, h, w, 3] -> uint8 [F, size, size, 3] with PIL's BICUBIC (see module doc)."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(f)).resize((size, size), Image.BICUBIC)) for f in frames])


def pixel_values(frames: np.ndarray, size: int, mean, std) -> np.ndarray:
    """frames uint8 RGB [F, h, w, 3] -> float32 [F, 3, size, size] (see module doc)."""
    x = resize_frames(frames, size).astype(np.float32) / np.float32(255.0)
    m = np.asarray(mean, np.float32).reshape(1, 1, 1, 3)
    s = np.asarray(std, np.float32).reshape(1, 1, 1, 3)
    return np.ascontiguousarray(((x - m) / s).transpose(0, 3, 1, 2)).astype(np.float32)
