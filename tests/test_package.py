"""The installable package: its public API and examples, and `pip install` into a fresh environment."""

from __future__ import annotations

import doctest
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import clean_env, install

import featviz
from featviz.cli import main
from featviz.config import Config

# ---- the public API -------------------------------------------------------------------------


def test_doctests_of_the_public_api_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples save runs in the working directory
    result = doctest.testmod(featviz, verbose=False, report=True)
    assert result.failed == 0
    assert result.attempted >= 30
    assert (tmp_path / "run.npz").is_file()


def _examples(obj) -> str:
    return "\n".join(ex.source for ex in doctest.DocTestParser().get_examples(inspect.getdoc(obj) or ""))


def test_every_public_name_has_a_docstring_and_an_example():
    module_examples = _examples(featviz)
    for name in featviz.__all__:
        obj = getattr(featviz, name)
        if name != "LESSONS":  # a tuple: its documentation is the module's section on it
            assert inspect.getdoc(obj), name
        own = _examples(obj) if inspect.isfunction(obj) and obj.__module__ == "featviz" else ""
        assert re.search(rf"featviz\.{name}\b", module_examples + own), f"no example uses featviz.{name}"


def test_dir_is_the_public_api_and_every_name_resolves():
    assert dir(featviz) == sorted(featviz.__all__)
    for name in featviz.__all__:
        assert getattr(featviz, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'engine_version'"):
        featviz.engine_version  # noqa: B018


def test_importing_featviz_and_its_config_imports_no_heavy_package():
    code = (
        "import sys, featviz, featviz.config; "
        "print(sorted(m for m in ('numpy', 'plotly', 'torch', 'streamlit', 'tqdm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd())
    # featviz.config is plain Python; featviz itself loads its names on first use.
    assert out.stdout.strip() == "[]"


def test_train_draws_a_progress_bar_to_the_end(capsys):
    run = featviz.train(Config(epochs=1, steps=40, frames=4), progress=True)
    err = capsys.readouterr().err
    assert run.status == "ok"
    assert "training" in err and "40/40" in err and "mse=" in err


def test_train_rejects_what_it_cannot_use():
    with pytest.raises(TypeError, match=r"featviz\.Config"):
        featviz.train({"d": 3})
    with pytest.raises(TypeError, match="progress must be"):
        featviz.train(Config(epochs=1, steps=5, frames=2), progress="auto")
    with pytest.raises(ValueError, match="no lesson 'recover'; one of: recovery, "):
        featviz.check("recover")


def test_check_of_a_lesson_trains_its_config_when_no_run_is_given():
    les = featviz.lesson("too-much-regularization")
    given = featviz.check(les, featviz.train(les.config))
    trained = featviz.check("too-much-regularization")
    assert trained == given and trained.passed


def test_the_console_script_entry_point_is_cli_main(capsys):
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert 'featviz = "featviz.cli:main"' in text
    with pytest.raises(SystemExit) as e:
        main(["train", "--help"])
    assert e.value.code == 0
    assert "--lam" in capsys.readouterr().out


# ---- pip install into a fresh virtual environment -------------------------------------------


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=clean_env())


@pytest.mark.slow
def test_pip_install_gives_the_package_its_api_and_the_console_script(tmp_path):
    python = install(tmp_path)
    venv = python.parent.parent
    work = tmp_path / "work"
    work.mkdir()

    code = (
        "import json, featviz\n"
        "from featviz import Config, train\n"
        "run = train(Config(epochs=1, steps=50, frames=5))\n"
        "print(json.dumps({'file': featviz.__file__, 'status': run.status, 'frames': run.n_frames}))\n"
    )
    done = _run(python, "-c", code, cwd=work)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["status"] == "ok" and got["frames"] == 5
    assert Path(got["file"]).is_relative_to(venv)  # the installed copy, not the checkout

    # Only the featviz package is installed: no pages, tests, bench or scripts.
    listing = "import importlib.metadata as m; print('\\n'.join(str(f) for f in m.files('featviz')))"
    files = _run(python, "-c", listing, cwd=work).stdout.split()
    tops = {f.split("/")[0] for f in files if not f.startswith("..")}
    assert tops == {"featviz", "featviz-0.1.0.dist-info"}
    assert "featviz/cli.py" in files and "featviz/progress.py" in files
    # The browser side of the app's elements is installed with them.
    browser_side = {"featviz/chart/chart.js", "featviz/chart/vendor/plotly-featviz.min.js", "featviz/ui/copy_link.js"}
    assert browser_side <= set(files)

    script = venv / "bin" / "featviz"
    helped = subprocess.run([str(script), "train", "--help"], capture_output=True, text=True, cwd=work, env=clean_env())
    assert helped.returncode == 0, helped.stderr
    for flag in ("--d", "--k", "--m", "--lam", "--epochs", "--steps", "--out", "--cache"):
        assert f"{flag} " in helped.stdout, flag
    trained = subprocess.run(
        [str(script), "train", "--epochs", "1", "--steps", "20", "--frames", "3", "--out", "r.npz"],
        capture_output=True,
        text=True,
        cwd=work,
        env=clean_env(),
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["frames"] == 3 and (work / "r.npz").is_file()
    as_module = _run(python, "-m", "featviz", "train", "--help", cwd=work)
    assert as_module.returncode == 0 and "--lam" in as_module.stdout


@pytest.mark.slow
def test_editable_install_imports_the_checkout_and_only_featviz(tmp_path):
    python = install(tmp_path, editable=True)
    work = tmp_path / "work"
    work.mkdir()
    code = (
        "import importlib.util, featviz\n"
        "print(featviz.__file__)\n"
        "print([n for n in ('pages', 'bench', 'scripts', 'app') if importlib.util.find_spec(n)])\n"
    )
    done = _run(python, "-c", code, cwd=work)
    assert done.returncode == 0, done.stderr
    file, others = done.stdout.splitlines()
    assert Path(file) == tmp_path / "src" / "featviz" / "__init__.py"
    assert others == "[]"
