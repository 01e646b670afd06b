"""The command line: help, exit codes, --json, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lmlab.cli.main import command_modules, main


def test_help_lists_every_command_group(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in command_modules():
        assert name in out
    assert "example" in out


@pytest.mark.parametrize("group", command_modules())
def test_every_group_help_shows_an_example(group, capsys):
    with pytest.raises(SystemExit):
        main([group, "--help"])
    assert "example" in capsys.readouterr().out


def test_info_json_goes_to_stdout(capsys):
    assert main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lmlab"] and "torch" in data


def test_bad_option_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["info", "--device", "tpu"])
    assert info.value.code == 2


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_user_error_is_one_line_without_traceback(tmp_path):
    """A missing model folder: one line on stderr, exit 2, traceback only with --debug."""
    missing = tmp_path / "nope"
    proc = subprocess.run([sys.executable, "-m", "lmlab.cli.main", "inspect", str(missing)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "model folder not found" in lines[0]
    proc = subprocess.run([sys.executable, "-m", "lmlab.cli.main", "--debug", "inspect", str(missing)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_inspect_shows_config_and_tensors(tmp_path, capsys):
    import numpy as np

    from lmlab.io.folder import save_folder

    save_folder(tmp_path / "m", "whatever", {"n": 2}, {"w": np.zeros((2, 3), np.float32)})
    assert main(["inspect", str(tmp_path / "m"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["type"] == "whatever"
    assert data["tensors"] == {"w": {"shape": [2, 3], "dtype": "float32"}}
    assert data["n_parameters"] == 6


def test_texts_from_a_non_utf8_file_are_a_one_line_error(tmp_path, capsys):
    """Commands that take --input read it through the corpus readers (byte offset in the error)."""
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("buenos días\nniño".encode("latin-1"))
    assert main(["embed", "--input", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # "buenos d" is 8 bytes, so the Latin-1 "í" sits at byte offset 8.
    assert len(err) == 1 and "latin1.txt: not valid UTF-8 at byte offset 8" in err[0]
