"""The style: one registered template on every figure, no colour outside _style, no torch or streamlit."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest

from featviz import figures as F
from featviz.certificate import planar_certificate
from featviz.figures._layout import _log_axis

PACKAGE = Path(F.__file__).parent


def test_template_is_registered_with_okabe_ito_colours():
    assert F.TEMPLATE in pio.templates
    assert tuple(pio.templates[F.TEMPLATE].layout.colorway) == F.TEACHER_COLORS
    assert len(set(F.TEACHER_COLORS)) == 8  # one colour per teacher up to MAX_K


def test_every_figure_uses_the_template(runs, figs):
    run = runs["planar2"]
    cert = planar_certificate((0, 60), (1, -1))
    built = [
        figs["orthonormal3"],
        F.curves_figure(run),
        F.descent_figure(run, 3),
        F.compare_figure(run, runs["line1"]),
        F.certificate_figure(
            np.degrees(cert.phi), cert.eta, teacher_angles_deg=(0, 60), signs=(1, -1), rho=cert.rho, max_abs_eta=1.0
        ),
    ]
    for fig in built:
        assert fig.layout.template == pio.templates[F.TEMPLATE]


def _imported_roots(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_module_imports_neither_streamlit_nor_torch():
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 10  # the package, not one module
    for path in files:
        assert not _imported_roots(path) & {"streamlit", "torch"}, path.name
    # and not through the modules it imports either
    code = "import sys, featviz.figures; print(sorted({'torch', 'streamlit'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}\b|\brgba?\(|\bcolor\s*=\s*[\"'][a-z]+[\"']")
FONT_SIZE = re.compile(r"\b(size|font_size)\s*=\s*\d")


def test_colours_and_font_sizes_are_written_only_in_style():
    assert COLOUR.search('line=dict(color="#D55E00")') and COLOUR.search("fill='rgba(0,0,0,0)'")
    assert COLOUR.search('dict(width=0.5, color="white")') and not COLOUR.search("color=OUTLINE")
    for path in PACKAGE.glob("*.py"):
        if path.name == "_style.py":
            continue
        text = path.read_text()
        assert not COLOUR.findall(text), path.name
        fonts = [line for line in text.splitlines() if "font" in line and FONT_SIZE.search(line)]
        assert not fonts, (path.name, fonts)
    style = (PACKAGE / "_style.py").read_text()
    assert all(c in style for c in F.TEACHER_COLORS)


def test_figure_html_is_standalone_and_does_not_autoplay(runs, figs):
    html = F.figure_html(F.curves_figure(runs["line1"]))
    assert "<html>" in html[:100] and html.rstrip().endswith("</html>")
    assert len(html) > 1_000_000  # plotly.js inlined: works offline
    html = F.figure_html(figs["line1"])
    assert "Plotly.addFrames" in html
    assert "Plotly.animate(" not in html[-2000:]


def test_short_log_axes_label_whole_values():
    ax = _log_axis([-0.7, 0.2])
    assert ax["ticktext"] == ["0.2", "0.5", "1"]
    assert ax["tickvals"] == pytest.approx([0.2, 0.5, 1.0])
    narrow = _log_axis([-2.05, -1.95])  # less than one 1-2-5 step wide
    assert len(narrow["tickvals"]) == 2 and all(0.0089 < v < 0.0113 for v in narrow["tickvals"])
    assert "tickvals" not in _log_axis([-6.0, 1.0]) and _log_axis([-6.0, 1.0])["dtick"] == 1
