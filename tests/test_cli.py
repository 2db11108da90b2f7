"""The command line: params values, --set spellings, and the checks that run before any notebook."""
import pytest

from minas.__main__ import main
from minas.core import config


def test_params_shows_the_profiles_values_beside_the_defaults(capsys):
    assert main(["params", "--profile", "default"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("controller.iterations "))
    default, value = line.split()[1:3]
    assert default == "49" and value.lstrip("*") != "49" and value.startswith("*")  # * marks a profile's change


def test_params_without_profile_and_with_a_bad_one(capsys):
    assert main(["params"]) == 0
    assert "controller.iterations" in capsys.readouterr().out
    assert main(["params", "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1e-3", "5E-4", "0.001"])
def test_set_accepts_numbers_in_any_yaml_spelling(capsys, value):
    # --only 99 stops after the params were validated: the error is about the notebook, not the value
    assert main(["run", "--profile", "smoke", "--set", f"train.lr={value}", "--only", "99"]) == 2
    err = capsys.readouterr().err
    assert "no notebook numbered" in err and "train.lr" not in err


@pytest.mark.parametrize("item,match", [("seed=yes", "seed: 'yes' reads as a YAML boolean"),
                                        ("device=on", "device: 'on' reads as a YAML boolean"),
                                        ("train.lr=ten", "train.lr: expected float")])
def test_set_rejects_words_where_a_number_or_string_is_wanted(capsys, item, match):
    assert main(["run", "--profile", "smoke", "--set", item, "--only", "99"]) == 2
    assert match in capsys.readouterr().err


def test_cell_timeout_is_a_validated_params_key(capsys):
    assert main(["run", "--profile", "smoke", "--cell-timeout", "-5", "--only", "99"]) == 2
    assert "engine.cell_timeout" in capsys.readouterr().err


def test_a_params_file_that_is_a_list(tmp_path, capsys):
    p = tmp_path / "mine.yaml"
    p.write_text("- seed: 1\n")
    assert main(["run", "--profile", str(p), "--only", "99"]) == 2
    assert "top level must be a mapping" in capsys.readouterr().err


def test_help_loads_neither_torch_nor_pandas_and_lists_every_profile_in_params():
    import subprocess
    import sys

    probe = ("import sys, contextlib, io\nimport minas.__main__ as m\nfor argv in (['--help'], ['run', '--help']):\n"
             "    out = io.StringIO()\n    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
             "        m.main(argv)\n    print(out.getvalue())\n"
             "print('heavy:', sorted({k.split('.')[0] for k in sys.modules} & {'torch', 'pandas', 'dask'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert "heavy: []" in done.stdout
    names = sorted(p.stem for p in config.PARAMS_DIR.glob("*.yaml"))
    assert {"smoke", "default", "full", "powered", "exp2"} <= set(names) and tuple(names) == config.PROFILES
    assert ", ".join(names) in " ".join(done.stdout.split())  # `minas run --help` names each of them


def test_where_names_the_output_folder_relative_to_the_current_one(tmp_path, monkeypatch):
    """The closing lines of `minas run` name no machine's folders when the run is under the current folder (issue 33)."""
    from minas import pipeline
    from minas.core import config

    monkeypatch.chdir(tmp_path)
    lines = pipeline.where(config.load("smoke", output_dir=str(tmp_path / "outputs" / "smoke")))
    assert lines[0].startswith("results:   outputs/smoke (") and lines[1] == "notebooks: outputs/smoke/notebooks"
    assert not any(str(tmp_path) in line for line in lines)
    elsewhere = pipeline.where(config.load("smoke", output_dir=str(tmp_path.parent / "other")))
    assert elsewhere[0].startswith(f"results:   {tmp_path.parent / 'other'} (")  # outside it: the absolute folder
