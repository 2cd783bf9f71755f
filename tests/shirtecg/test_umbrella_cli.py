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


def test_parser_and_package_names_load_lazily():
    """Building the whole CLI imports no scikit-learn/SciPy; each public name still resolves."""
    code = (
        "import sys, shirtecg.cli\n"
        "shirtecg.cli._parser()\n"
        "heavy = sorted(m for m in ('sklearn', 'scipy.signal', 'mne') if m in sys.modules)\n"
        "import augment, calibration, noise_profiles\n"
        "for pkg in (augment, calibration, noise_profiles):\n"
        "    assert set(pkg.__all__) <= set(dir(pkg)), pkg\n"
        "    for name in pkg.__all__:\n"
        "        assert getattr(pkg, name) is not None, name\n"
        "try:\n"
        "    calibration.no_such_name\n"
        "except AttributeError as err:\n"
        "    assert 'no_such_name' in str(err)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
