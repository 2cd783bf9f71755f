"""Synthetic no-ECG activity noise of a shirt, and the front end's square test signal.

What a shirt records when the wearer has no heart (science_anchors §1), per activity:

* ``rest`` — amplifier white noise (about 1.5 µV RMS), 50 Hz mains, respiration (0.2–0.3 Hz) and
  slow electrode drift;
* ``sitting`` — more baseline wander, occasional postural shifts with small EMG bursts;
* ``walking`` — electrode-motion artifact locked to the step rate (about 1.8 steps/s) with
  harmonics and a stride (half-step) component, step-locked EMG, faster respiration;
* ``arm_movement`` — bursty pectoral EMG (20–150 Hz) and motion artifacts (0.5–4 Hz) during the
  bursts;
* ``test_signal`` — the ADS129x-style internal square wave (peak-to-peak ``amplitude_mv``,
  levels ±amplitude/2, ``freq_hz``) plus amplifier noise, for ADC calibration.

Channels are modelled as electrodes against one shared reference electrode (``ch_k = e_k − e_ref``,
like limb leads against RA), which gives the cross-channel correlation of a real shirt. Noise is
produced in fixed internal blocks of one second, so the output depends only on the seed, never on
how it is requested (:meth:`ActivityNoise.read` any number of samples at a time, no seams).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from shirtecg_common.random import check_random_state

ACTIVITIES = ("rest", "sitting", "walking", "arm_movement", "test_signal")

# per-activity levels in volts (RMS for noise, amplitude for sinusoids) and rates
_PARAMS = {
    "rest": dict(drift=30e-6, resp=25e-6, resp_hz=0.25, emg_tonic=2e-6, burst_rate=0.0,
                 burst_emg=0.0, burst_motion=0.0, step=0.0),
    "sitting": dict(drift=70e-6, resp=40e-6, resp_hz=0.25, emg_tonic=3e-6, burst_rate=0.08,
                    burst_emg=15e-6, burst_motion=60e-6, step=0.0),
    "walking": dict(drift=150e-6, resp=70e-6, resp_hz=0.4, emg_tonic=6e-6, burst_rate=0.0,
                    burst_emg=0.0, burst_motion=0.0, step=350e-6),
    "arm_movement": dict(drift=100e-6, resp=50e-6, resp_hz=0.3, emg_tonic=5e-6, burst_rate=0.6,
                         burst_emg=60e-6, burst_motion=250e-6, step=0.0),
    "test_signal": dict(drift=0.0, resp=0.0, resp_hz=0.25, emg_tonic=0.0, burst_rate=0.0,
                        burst_emg=0.0, burst_motion=0.0, step=0.0),
}
WHITE_V = 1.5e-6
MAINS_V = 8e-6


def _enbw_scale(sos, sfreq, n_ir_s=20.0):
    """1 / RMS of unit white noise after the filter ``sos`` (from its impulse response)."""
    n = int(min(max(n_ir_s * sfreq, 64), 2_000_000))
    imp = np.zeros(n)
    imp[0] = 1.0
    h = signal.sosfilt(sos, imp)
    return 1.0 / np.sqrt(np.sum(h * h))


class _Filtered:
    """White noise through a stateful filter, scaled to unit RMS: seamless across blocks."""

    def __init__(self, sos, n_rows, sfreq):
        self.sos = sos
        self.scale = _enbw_scale(sos, sfreq)
        self.zi = np.zeros((sos.shape[0], n_rows, 2))

    def __call__(self, rng, n):
        x = rng.standard_normal((self.zi.shape[1], n))
        y, self.zi = signal.sosfilt(self.sos, x, axis=-1, zi=self.zi)
        return y * self.scale


class ActivityNoise:
    """Streaming generator of one activity's noise, in volts.

    Parameters
    ----------
    activity : str
        One of ``rest``, ``sitting``, ``walking``, ``arm_movement``, ``test_signal``.
    n_channels : int
    sfreq : float
        Sampling rate in Hz.
    random_state : None | int | numpy.random.Generator
        Seed of everything drawn.
    line_freq : float
        Mains frequency (50 or 60 Hz).
    amplitude_mv, freq_hz : float
        The test square wave (``test_signal`` only): peak-to-peak amplitude and frequency.
    """

    def __init__(self, activity, n_channels, sfreq, random_state=None, line_freq=50.0,
                 amplitude_mv=1.0, freq_hz=1.0):
        if activity not in _PARAMS:
            raise ValueError(f"unknown activity {activity!r}; accepted: {', '.join(ACTIVITIES)}")
        if int(n_channels) != n_channels or n_channels < 1:
            raise ValueError(f"n_channels must be a positive int, got {n_channels!r}")
        if not sfreq > 0:
            raise ValueError(f"sfreq must be > 0, got {sfreq!r}")
        if not (amplitude_mv > 0 and freq_hz > 0):
            raise ValueError(f"amplitude_mv and freq_hz must be > 0, got {amplitude_mv}, "
                             f"{freq_hz}")
        self.activity = activity
        self.n_channels = int(n_channels)
        self.sfreq = float(sfreq)
        self.line_freq = float(line_freq)
        self.amplitude_mv = float(amplitude_mv)
        self.freq_hz = float(freq_hz)
        self.p = dict(_PARAMS[activity])
        self._rng = check_random_state(random_state)
        self._block = max(int(round(self.sfreq)), 1)
        self._t = 0  # samples produced into the internal buffer so far
        self._buf = np.empty((self.n_channels, 0))
        self._setup()

    # -- public -----------------------------------------------------------------------------------
    def read(self, n_times) -> np.ndarray:
        """The next ``n_times`` samples, float64 volts, shape (n_channels, n_times)."""
        n_times = int(n_times)
        parts, have = [self._buf], self._buf.shape[1]
        while have < n_times:
            new = self._generate(self._block)
            parts.append(new)
            have += new.shape[1]
        out = np.concatenate(parts, axis=1) if len(parts) > 1 else self._buf
        self._buf = out[:, n_times:]
        return out[:, :n_times]

    # -- model ------------------------------------------------------------------------------------
    def _setup(self):
        rng, fs, n_el = self._rng, self.sfreq, self.n_channels + 1
        nyq = fs / 2
        # per-electrode coupling of each source: the reference electrode (row 0) couples less
        self._w_motion = rng.uniform(0.5, 1.5, n_el) * rng.choice([-1, 1], n_el)
        self._w_motion[0] *= 0.6
        self._w_resp = rng.uniform(0.3, 1.2, n_el) * rng.choice([-1, 1], n_el)
        self._w_emg = rng.uniform(0.5, 1.5, n_el)
        self._mains_amp = MAINS_V * rng.uniform(0.5, 1.5, self.n_channels)
        self._mains_phase = rng.uniform(0, 2 * np.pi, self.n_channels)
        self._resp_phase = rng.uniform(0, 2 * np.pi)
        self._step_phase = rng.uniform(0, 2 * np.pi)
        self._step_hz = rng.uniform(1.7, 1.9)
        n_h = 5
        self._step_amp = rng.uniform(0.2, 1.0, (n_el, n_h)) / np.arange(1, n_h + 1) ** 0.8
        self._step_amp[:, 0] = 1.0
        self._step_theta = rng.uniform(0, 2 * np.pi, (n_el, n_h))
        self._stride = rng.uniform(0.1, 0.3, n_el)
        self._drift = _Filtered(signal.butter(2, min(0.3, 0.4 * nyq), fs=fs, output="sos"),
                                n_el, fs)
        emg_hi = min(150.0, 0.45 * fs)
        self._emg = _Filtered(signal.butter(4, [min(20.0, emg_hi / 2), emg_hi], "bandpass", fs=fs,
                                            output="sos"), n_el, fs)
        self._motion = _Filtered(signal.butter(2, [0.5, min(4.0, 0.4 * nyq)], "bandpass", fs=fs,
                                               output="sos"), n_el, fs)
        self._slow = _Filtered(signal.butter(1, min(0.1, 0.4 * nyq), fs=fs, output="sos"), 3, fs)
        self._bursts = []  # [start_sample, length, amplitude]
        rate = self.p["burst_rate"]
        self._next_burst = int(self._gap_s(rng) * fs) if rate > 0 else None

    def _generate(self, n):
        rng, fs, p = self._rng, self.sfreq, self.p
        t = self._t + np.arange(n)
        slow = self._slow(rng, n)  # slow modulations: respiration rate, step rate, mains level
        el = np.zeros((self.n_channels + 1, n))
        if p["drift"]:
            el += p["drift"] * self._drift(rng, n)
        if p["resp"]:
            f = p["resp_hz"] * (1 + 0.15 * slow[0])
            phase = self._resp_phase + 2 * np.pi * np.cumsum(f) / fs
            self._resp_phase = phase[-1] % (2 * np.pi)
            el += p["resp"] * self._w_resp[:, None] * np.sin(phase)[None, :]
        if p["step"]:
            el += self._steps(slow[1], n)
        env = self._burst_envelope(t)
        if p["emg_tonic"] or p["burst_emg"]:
            level = p["emg_tonic"] + p["burst_emg"] * env
            if p["step"]:  # heel strikes recruit trunk muscles once per step
                level = level + 3 * p["emg_tonic"] * (0.5 + 0.5 * np.cos(self._last_step)) ** 6
            el += self._w_emg[:, None] * level[None, :] * self._emg(rng, n)
        if p["burst_motion"]:
            el += p["burst_motion"] * env[None, :] * self._w_motion[:, None] * self._motion(rng, n)
        x = el[1:] - el[0]
        x += WHITE_V * rng.standard_normal((self.n_channels, n))
        tt = t / fs
        mains = self._mains_amp[:, None] * (1 + 0.2 * slow[2])[None, :]
        arg = 2 * np.pi * self.line_freq * tt[None, :] + self._mains_phase[:, None]
        x += mains * (np.sin(arg) + 0.15 * np.sin(3 * arg))
        if self.activity == "test_signal":
            x += self.square(t)[None, :]
        self._t += n
        return x

    def square(self, t):
        """The test square wave at sample indices ``t`` (volts): +A/2 in the first half-period."""
        half = (np.floor(2 * self.freq_hz * np.asarray(t) / self.sfreq) % 2) == 0
        return np.where(half, 0.5, -0.5) * self.amplitude_mv * 1e-3

    def _steps(self, slow, n):
        f = self._step_hz * (1 + 0.03 * slow)
        phase = self._step_phase + 2 * np.pi * np.cumsum(f) / self.sfreq
        self._step_phase = phase[-1] % (4 * np.pi)
        self._last_step = phase % (2 * np.pi)
        h = np.arange(1, self._step_amp.shape[1] + 1)
        wave = np.einsum("eh,ehn->en", self._step_amp,
                         np.cos(h[None, :, None] * phase[None, None, :]
                                + self._step_theta[:, :, None]))
        wave += self._stride[:, None] * np.cos(0.5 * phase)[None, :]  # left/right asymmetry
        return self.p["step"] * self._w_motion[:, None] * wave / np.sqrt(2.5)

    _last_step = 0.0

    def _gap_s(self, rng):
        """Pause before the next burst: gamma(3), so movements repeat more regularly than Poisson."""
        return rng.gamma(3.0, 1.0 / (3.0 * self.p["burst_rate"]))

    def _burst_envelope(self, t):
        """Sum of raised-cosine bursts (0…1) at samples ``t``; bursts drawn ahead as needed."""
        env = np.zeros(t.size)
        if self._next_burst is None:
            return env
        rng, fs, end = self._rng, self.sfreq, int(t[-1]) + 1
        while self._next_burst < end:
            length = max(int(rng.uniform(0.4, 1.5) * fs), 2)
            self._bursts.append((self._next_burst, length, rng.uniform(0.5, 1.0)))
            self._next_burst += length + int(self._gap_s(rng) * fs)
        keep = []
        for start, length, amp in self._bursts:
            lo, hi = max(start, int(t[0])), min(start + length, end)
            if hi > lo:
                k = np.arange(lo, hi)
                env[k - int(t[0])] += amp * np.sin(np.pi * (k - start + 0.5) / length) ** 2
            if start + length > end:
                keep.append((start, length, amp))
        self._bursts = keep
        return env


def synthesize(activity, n_channels, n_times, sfreq, random_state=None, **kwargs) -> np.ndarray:
    """``n_times`` samples of ``activity`` noise, float64 volts, shape (n_channels, n_times).

    Same as ``ActivityNoise(activity, n_channels, sfreq, random_state, **kwargs).read(n_times)``;
    see :class:`ActivityNoise` for the activities and options.
    """
    return ActivityNoise(activity, n_channels, sfreq, random_state, **kwargs).read(n_times)


def test_signal(n_channels, n_times, sfreq, amplitude_mv=1.0, freq_hz=1.0, random_state=None):
    """The square test signal (peak-to-peak ``amplitude_mv``) plus amplifier and mains noise."""
    return synthesize("test_signal", n_channels, n_times, sfreq, random_state,
                      amplitude_mv=amplitude_mv, freq_hz=freq_hz)


test_signal.__test__ = False  # not a pytest test, despite the name
