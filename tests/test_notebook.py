"""examples/quickstart.ipynb: committed without outputs, and it runs on a fresh install of featviz."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from packaging_support import clean_env, install  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def _kernel_spec(root: Path, python: Path) -> str:
    """A kernel spec under root (found through JUPYTER_PATH) that runs `python`'s ipykernel."""
    name = "featviz-fresh-install"
    spec = root / "kernels" / name
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))
    return name


def _text(cell) -> str:
    """What the cell printed."""
    return "".join(out.text for out in cell.outputs if out.output_type == "stream")


@pytest.mark.slow
def test_the_notebook_runs_on_a_fresh_install(tmp_path, monkeypatch):
    python = install(tmp_path)
    for key, value in clean_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = _kernel_spec(tmp_path / "jupyter", python)
    work = tmp_path / "work"
    work.mkdir()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Which featviz the kernel imported: the installed copy, never the checkout.
    nb.cells.append(nbformat.v4.new_code_cell("print(featviz.__file__)", id="which-featviz"))
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    cells = {c.id: c for c in nb.cells}

    for c in nb.cells:  # no warning or traceback anywhere
        assert not [o for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"], c.id

    assert Path(_text(cells["which-featviz"]).strip()).is_relative_to(python.parent.parent)

    train = cells["train"]
    assert any(WIDGET in o.get("data", {}) for o in train.outputs), "no notebook progress bar"
    assert _text(train).startswith("ok - ") and "of 30 neurons within 5° of a teacher line" in _text(train)

    animation = [o.data[PLOTLY] for o in cells["animation"].outputs if PLOTLY in o.get("data", {})]
    assert len(animation) == 1  # drawn inline by plotly's standard renderer
    assert len(animation[0]["frames"]) == 60  # Config().frames

    assert "passed: True" in _text(cells["lesson"])

    compare = [o.data[PLOTLY] for o in cells["compare"].outputs if PLOTLY in o.get("data", {})]
    assert len(compare) == 1
    aligned = dict(re.findall(r"λ = ([\d.]+): (\d+) of 40 neurons within", _text(cells["compare"])))
    assert int(aligned["0.0"]) <= 10 and int(aligned["0.1"]) >= 35  # scattered without weight decay, gathered with

    assert "reloaded run equals the saved one: True" in _text(cells["save"])
    assert (work / "default_run.npz").is_file()
