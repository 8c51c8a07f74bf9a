"""The command line installs with one `pip install` of the repository into a fresh virtualenv, and
runs without Django, settings or a checkout."""

import subprocess

from tests.cli.conftest import ROOT, clean_env


def test_the_installed_command_runs_without_django(hangar_venv, hangar, tmp_path):
    code, out, _ = hangar("--help")
    assert code == 0 and "validate" in out and "deploy" in out
    code, out, _ = hangar("--version")
    assert code == 0 and out.startswith("hangar 0.")
    python = str(hangar_venv / "bin" / "python")
    probe = subprocess.run(
        [python, "-c", "import importlib.util, deployments.artifacts.build as b, hangar_cli, sys; "
         "print(importlib.util.find_spec('django') is None, 'django' in sys.modules, b.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env(), check=True,
    )  # fmt: skip
    no_django, imported, builder_file = probe.stdout.split()
    assert (no_django, imported) == ("True", "False")
    # The builder is the repository's own code, installed, not read from the checkout.
    assert str(hangar_venv) in builder_file and str(ROOT) not in builder_file
    assert "DJANGO_SETTINGS_MODULE" not in clean_env()


def test_the_bad_usage_exit_code_is_2(hangar):
    assert hangar("deploy", "--env", "nowhere", "--version", "0.1.0")[0] == 2
    code, _, err = hangar("runs")
    assert code == 2 and "HANGAR_URL and HANGAR_TOKEN not set" in err
