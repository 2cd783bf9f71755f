"""Free recording: activity keys pressed while recording become activity annotations.

End to end through the real pty emulator playing back known codes: ``shirtecg record --free``
in its own process, keys fed line by line through a pipe and key by key through a terminal
(a pty in cbreak mode). The annotations are checked against spans computed here, plainly,
from the journal's marks, and every sample against the codes sent.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import termios
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import pytest
from record_helpers import REPO, VPC, SocketShirt, start_emulator, stop_emulator

from acquisition.activity_keys import KeyReader, activity_spans, key_command, parse_key_map
from acquisition.capture import read_journal
from acquisition.recorder import Recorder, RecordTimeouts
from acquisition.session import build_session, read_session
from shirtecg_common.errors import UserError

TIMEOUTS = ["--handshake-timeout", "10", "--stall-timeout", "1", "--reconnect-timeout", "4"]


def _spans_reference(marks, end):
    """What the annotations must be: an activity runs from its mark to the next mark that
    names another activity (or none), or to the end; written without the package."""
    out, current = [], None
    for m in marks:
        if current is not None and m["activity"] == current[0]:
            continue
        if current is not None:
            out.append((current[0], current[1], min(m["sample"], end)))
        current = (m["activity"], min(m["sample"], end)) if m["activity"] else None
    if current is not None:
        out.append((current[0], current[1], end))
    return [s for s in out if s[2] > s[1]]


def _ann(raw):
    sf = raw.info["sfreq"]
    a = raw.annotations
    return [(d, round(o * sf), round((o + u) * sf))
            for d, o, u in zip(a.description, a.onset, a.duration)]


class _Lines:
    """Collect a process's stderr lines; wait for one containing a text."""

    def __init__(self, pipe):
        self.lines, self._cv = [], threading.Condition()
        threading.Thread(target=self._run, args=(pipe,), daemon=True).start()

    def _run(self, pipe):
        for line in pipe:
            with self._cv:
                self.lines.append(line)
                self._cv.notify_all()

    def wait_for(self, text, timeout=20):
        with self._cv:
            ok = self._cv.wait_for(lambda: any(text in x for x in self.lines), timeout)
        assert ok, f"no {text!r} in {self.lines}"


def _record_free(tmp, name, codes_csv, feed, stdin_tty, extra=()):
    """Emulator (playback) → ``python -m acquisition record --free``; ``feed(write)`` types."""
    emu, port = start_emulator("--format", "shirt-v1", "--playback", codes_csv, "--sfreq", 500)
    master = None
    try:
        if stdin_tty:
            master, slave = pty.openpty()
            before = termios.tcgetattr(slave)
            stdin = slave
        else:
            stdin = subprocess.PIPE
        proc = subprocess.Popen(
            [sys.executable, "-m", "acquisition", "record", "--port", port, "--format",
             "shirt-v1", "--free", "--out", str(tmp), "--name", name, *TIMEOUTS,
             *map(str, extra)],
            cwd=REPO, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        err = _Lines(proc.stderr)
        err.wait_for("free recording: keys")
        if stdin_tty:
            feed(lambda text: os.write(master, text.encode()))
        else:
            feed(lambda text: (proc.stdin.write(text), proc.stdin.flush()))
        out = proc.stdout.read()
        rc = proc.wait(30)
        after = termios.tcgetattr(slave) if stdin_tty else None
        if stdin_tty:
            os.close(slave)
        else:
            proc.stdin.close()
        return {"rc": rc, "stdout": out, "stderr": "".join(err.lines),
                "tty_restored": None if after is None else after == before,
                "path": tmp / f"{name}_raw.fif"}
    finally:
        if master is not None:
            os.close(master)
        stop_emulator(emu)


def _typed(steps):
    def feed(write):
        for text, pause in steps:
            time.sleep(pause)
            write(text)
    return feed


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("free")
    codes = np.random.default_rng(3).integers(-2**23, 2**23, size=(4000, 4))
    src = tmp / "codes.csv"
    np.savetxt(src, codes, fmt="%d", delimiter=",")
    # piped: one command per line, ends with q; 'x' means nothing, 'walking' by name
    piped = _typed([("s\n", 0.4), ("w\n", 0.4), ("w\n", 0.2), (" \n", 0.3), ("x\n", 0.2),
                    ("arm_movement\n", 0.2), ("q\n", 0.4)])
    # terminal: single keys in cbreak mode (no Enter), custom keys, ends by --seconds
    keyed = _typed([("1", 0.3), ("2", 0.4), (" ", 0.3), ("1", 0.3)])
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(_record_free, tmp, "piped", src, piped, False)
        b = pool.submit(_record_free, tmp, "keyed", src, keyed, True,
                        ("--seconds", 2.4, "--keys", "1=sitting,2=stairs"))
        return {"codes": codes, "piped": a.result(), "keyed": b.result(), "tmp": tmp}


def _check_session(run, codes):
    assert run["rc"] == 0, run["stderr"]
    raw, meta = read_session(run["path"])
    data = raw.get_data(picks="all")
    n = raw.n_times
    # nothing lost: every sample the emulator played is there, bit-exact, no gaps
    np.testing.assert_array_equal(data, codes[:n].T * VPC)
    assert meta["counts"]["lost_samples"] == 0 and meta["gaps"] == []
    assert meta["counts"]["frames"] >= n and meta["mode"] == "free" and meta["protocol"] == []
    marks = [e for e in read_journal(run["path"].with_name(
        run["path"].name.replace("_raw.fif", ".journal.jsonl"))) if e["event"] == "mark"]
    spans = _spans_reference(marks, n)
    assert sorted(_ann(raw)) == sorted(spans)
    assert meta["activities"] == [{"activity": a, "first_sample": b, "n_samples": c - b}
                                  for a, b, c in spans]
    return raw, meta, marks, spans


def test_piped_keys_annotate_activities(runs):
    run = runs["piped"]
    raw, meta, marks, spans = _check_session(run, runs["codes"])
    assert [m["activity"] for m in marks] == ["sitting", "walking", None, "arm_movement", None]
    assert [s[0] for s in spans] == ["sitting", "walking", "arm_movement"]
    samples = [m["sample"] for m in marks]
    # the pauses between presses (0.4, 0.5, 0.4, 0.4 s) show up in the device's samples
    assert samples[0] > 0 and all(b - a > 0.2 * 500 for a, b in pairwise(samples))
    assert meta["stop_reason"] == "stopped" and raw.n_times >= samples[-1]
    assert "key 'x' does nothing" in run["stderr"]
    assert "saved " in run["stdout"]


def test_terminal_keys_in_cbreak_mode_and_timed_end(runs):
    run = runs["keyed"]
    raw, meta, _, spans = _check_session(run, runs["codes"])
    assert raw.n_times == 1200 and meta["stop_reason"] == "complete"  # --seconds 2.4
    assert [s[0] for s in spans] == ["sitting", "stairs", "sitting"]
    assert spans[-1][2] == 1200  # the open activity ends with the recording
    assert run["tty_restored"] is True  # the terminal is back in its original mode


def test_recover_rebuilds_the_same_annotations(runs, tmp_path):
    run = runs["piped"]
    raw, meta = read_session(run["path"])
    name = run["path"].name.replace("_raw.fif", "")
    raw2, meta2 = build_session(run["path"].parent, name)  # what `shirtecg recover` builds
    assert _ann(raw2) == _ann(raw) and meta2["activities"] == meta["activities"]


def test_api_press_from_another_thread(tmp_path):
    codes = np.arange(6000, dtype=np.int64).reshape(2000, 3) - 3000
    dev = SocketShirt(codes, sfreq=500.0)
    rec = Recorder(dev.url, "shirt-v1", tmp_path, "api", None, quiet=True, seconds=3.5,
                   timeouts=RecordTimeouts(handshake_s=10.0, stall_s=1.0, reconnect_s=4.0))
    marks = []

    def press():
        while getattr(rec, "settings", None) is None:
            time.sleep(0.02)
        for key, pause in (("r", 0.3), ("walking", 0.5), (" ", 0.3), ("q", 0.2), ("s", 0)):
            time.sleep(pause)
            rec.press(key)
            marks.append(key)

    t = threading.Thread(target=press)
    t.start()
    try:
        path, _ = rec.run()
    finally:
        t.join()
        dev.close()
    raw, meta = read_session(path)
    assert marks == ["r", "walking", " ", "q", "s"] and meta["stop_reason"] == "stopped"
    assert raw.n_times < 1750  # stopped by 'q' (about 1.3 s in), not by seconds=3.5
    got = _ann(raw)
    assert [g[0] for g in got] == ["rest", "walking"]  # the 's' after 'q' marks nothing
    assert got[0][2] == got[1][1] and got[1][2] - got[1][1] > 0.15 * 500  # contiguous
    np.testing.assert_array_equal(raw.get_data(picks="all"), codes[:raw.n_times].T * VPC)


def test_key_commands_and_spans():
    km = parse_key_map("s=sitting, x=stairs")
    assert km == {"s": "sitting", "x": "stairs"}
    assert key_command("x", km) == ("start", "stairs")
    assert key_command("stairs", km) == ("start", "stairs")
    assert key_command(" ", km) == key_command("space", km) == ("end", None)
    assert key_command("q", km) == ("stop", None)
    assert key_command("z", km) is None and key_command("", km) is None
    for bad, words in (("q=walking", "reserved"), ("s=sitting,s=rest", "twice"),
                       ("ab=rest", "single-character"), ("s=BAD_x", "BAD"), ("s", "KEY=")):
        with pytest.raises(UserError, match=words):
            parse_key_map(bad)
    marks = [{"activity": "a", "sample": 10}, {"activity": "a", "sample": 20},
             {"activity": "b", "sample": 30}, {"activity": None, "sample": 30},
             {"activity": None, "sample": 35}, {"activity": "c", "sample": 40},
             {"activity": "d", "sample": 40}, {"activity": "e", "sample": 120}]
    assert activity_spans(marks, 100) == [("a", 10, 30), ("d", 40, 100)]
    assert activity_spans(marks, 100) == _spans_reference(marks, 100)


def test_key_reader_lines_from_a_pipe_and_from_a_text_stream():
    got = []
    r, w = os.pipe()
    with os.fdopen(r, "r") as stream:
        reader = KeyReader(stream, got.append)
        assert reader.start() == "lines"
        os.write(w, b"s\r\nwal")  # a line split across writes, CRLF, no newline at EOF
        time.sleep(0.1)
        os.write(w, b"king\n \nq")
        os.close(w)
        reader._thread.join(2)
        reader.close()
    assert got == ["s", "walking", " ", "q"]
    got.clear()
    reader = KeyReader(io.StringIO("a\nspace\n"), got.append)  # no file descriptor
    assert reader.start() == "lines"
    reader._thread.join(2)
    assert got == ["a", "space"]


def test_key_reader_cbreak_on_a_terminal_and_restore():
    master, slave = pty.openpty()
    got = []
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            before = termios.tcgetattr(slave)
            reader = KeyReader(stream, got.append)
            assert reader.start() == "keys"
            mode = termios.tcgetattr(slave)
            assert not mode[3] & termios.ICANON and not mode[3] & termios.ECHO
            os.write(master, b"sw q")  # no Enter: each key arrives alone
            end = time.monotonic() + 2
            while len(got) < 4 and time.monotonic() < end:
                time.sleep(0.01)
            reader.close()
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
    assert got == ["s", "w", " ", "q"]
