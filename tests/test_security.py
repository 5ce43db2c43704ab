"""The served app binds to loopback and no user text reaches a file path."""

import ast
import re
import tomllib
from pathlib import Path

from featviz import cache
from featviz.config import Config, parse_lenient

ROOT = Path(__file__).resolve().parent.parent


def test_server_binds_loopback_and_sends_no_statistics():
    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert conf["server"]["address"] == "127.0.0.1"
    assert conf["browser"]["gatherUsageStats"] is False
    assert conf["client"]["showErrorDetails"] == "none"  # no tracebacks in the browser


def test_cache_file_names_are_hashes_whatever_the_link_says(tmp_path):
    hostile = {"a_star": "../../etc/passwd", "angles": "0,60,120/..", "seed": "1;rm -rf /", "teachers": "planar"}
    cfg, messages = parse_lenient(hostile)
    assert messages  # the bad values were refused ...
    path = cache.path_for(cfg, tmp_path)
    assert path.parent == tmp_path  # ... and the path is the cache folder plus a hash
    assert re.fullmatch(r"run-[0-9a-f]{32}\.npz", path.name)
    assert cache.path_for(Config(seed=7), tmp_path).name != cache.path_for(Config(seed=8), tmp_path).name


def test_no_page_or_ui_module_opens_files():
    """Only the cache (hashed names) and the CLI (its own --out flag) write files."""
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "featviz" / "ui").glob("*.py"), ROOT / "app.py"]:
        tree = ast.parse(path.read_text())
        calls = {
            node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not calls & {"open", "write_text", "write_bytes", "unlink", "savez", "savez_compressed"}, path
