"""The package's import structure: no import cycle, and the layers below the UI stay light.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import`` of a
featviz module counts, at module level or inside a function (a lazy import still runs).
Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "featviz"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom node, at any depth, except under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The featviz modules that module `name` (file `path`) imports."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from featviz import exact` imports the module featviz.exact.
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        for target in targets:
            # `import featviz.a.b` runs featviz.a.b; keep the longest known module named.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target != "featviz":
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imported_modules(name, path, known) for name, path in mods.items()}


def test_the_graph_reader_sees_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "featviz"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from featviz.b import x\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from featviz import a\nfrom featviz import sub\n"
    )
    (pkg / "sub" / "__init__.py").write_text("from . import c\n")
    (pkg / "sub" / "c.py").write_text("from ..a import f\n")
    known = {"featviz", "featviz.a", "featviz.b", "featviz.sub", "featviz.sub.c"}
    assert imported_modules("featviz.a", pkg / "a.py", known) == {"featviz.b"}
    assert imported_modules("featviz.b", pkg / "b.py", known) == {"featviz.sub"}
    assert imported_modules("featviz.sub", pkg / "sub" / "__init__.py", known) == {"featviz.sub.c"}
    assert imported_modules("featviz.sub.c", pkg / "sub" / "c.py", known) == {"featviz.a"}


def test_the_package_graph_holds_the_known_edges():
    graph = import_graph()
    assert "featviz.config" in graph["featviz.engine"]
    assert "featviz.torch_state" in graph["featviz.engine"]  # a lazy import
    assert "featviz.state" in graph["featviz.torch_state"]


def test_no_import_cycle_in_featviz():
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")


# ---- the import contract ------------------------------------------------------------------

# Modules below the UI layer: importing one loads neither torch (about 2 s, needed only to
# train large or sampled runs) nor streamlit (the UI layer only).
LIGHT_MODULES = (
    "featviz.config",
    "featviz.run",
    "featviz.metrics",
    "featviz.figures",
    "featviz.budget",
    "featviz.certificate",
    "featviz.lessons",
    "featviz.exact",
    "featviz.settings",
)
HEAVY = ("torch", "streamlit")
# The UI layer: the only featviz modules that may import streamlit.
# The Streamlit layer: the pages' glue and the chart element mounted in them.
UI_LAYER = ("featviz.ui", "featviz.chart")

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules} & set(sys.argv[2:]))))
"""


def heavy_imports_of(module: str) -> list[str]:
    """The heavy packages a fresh interpreter holds after importing `module`."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, module, *HEAVY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_import_neither_torch_nor_streamlit(module):
    assert heavy_imports_of(module) == []


def test_the_probe_sees_a_heavy_import():
    assert heavy_imports_of("featviz.torch_state") == ["torch"]


def test_only_the_ui_layer_imports_streamlit():
    importers = set()
    for name, path in modules().items():
        for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                importers.add(name)
    assert importers, "the UI layer imports streamlit"
    assert {n for n in importers if not any(n == ui or n.startswith(ui + ".") for ui in UI_LAYER)} == set()


def test_only_the_figures_package_imports_its_private_modules():
    private = {name for name in modules() if name.startswith("featviz.figures._")}
    assert "featviz.figures._neurons" in private
    users = {name for name, deps in import_graph().items() if deps & private and not name.startswith("featviz.figures")}
    assert users == set()


def test_benchmarks_do_not_import_from_tests():
    test_modules = {p.stem for p in (ROOT / "tests").glob("*.py")}
    for path in sorted((ROOT / "bench").glob("*.py")):
        imported = set()
        for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            imported |= {n.partition(".")[0] for n in names}
        assert "tests" not in imported and not imported & test_modules, path.name
