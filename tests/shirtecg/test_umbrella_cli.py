"""The umbrella command line."""

import subprocess
import sys

from shirtecg.cli import main


def test_version(capsys):
    """``--version`` prints the installed version and exits 0."""
    try:
        main(["--version"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert out.startswith("shirtecg ")


def test_help_lists_every_package(capsys):
    """``--help`` lists the subcommands of all packages."""
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    for cmd in ("device", "record", "recover", "profile", "augment", "calibrate", "demo"):
        assert cmd in out, cmd


def test_python_m_shirtecg():
    """``python -m shirtecg --version`` works in a subprocess."""
    res = subprocess.run([sys.executable, "-m", "shirtecg", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and "shirtecg" in res.stdout
