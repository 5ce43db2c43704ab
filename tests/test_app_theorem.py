"""The section "The theorem, measured" under runs, and ρ on the Theory page, through streamlit.testing."""

import re

import pytest
from app_support import APP, open_app, static_charts
from streamlit.testing.v1 import AppTest

from featviz.config import Config
from featviz.ui.theorem import SECTION_TITLE

TIMEOUT = 180


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FEATVIZ_APPTEST", "1")


def open_page(page: str | None, params: dict) -> AppTest:
    return open_app(params, page=page, timeout=TIMEOUT)


def section(at: AppTest):
    found = [e for e in at.expander if e.label == SECTION_TITLE]
    return found[0] if found else None


def number_after(text: str, words: str) -> float:
    return float(re.search(re.escape(words) + r"\s*\**([-0-9.e+]+)", text).group(1))


def test_playground_run_with_weight_decay_shows_the_bound_and_the_law():
    at = open_page(None, {"epochs": "4", "steps": "300"})
    sec = section(at)
    assert sec is not None
    charts = static_charts(sec)
    assert [k.split("_")[1] for k in sorted(charts)] == ["bound", "lam2"]
    assert all(fig["data"] and "frames" not in fig for fig in charts.values())
    text = "\n".join(m.value for m in sec.markdown)
    assert number_after(text, "fitted slope") == pytest.approx(2.0, abs=0.05)
    assert number_after(text, "lie within") < 5.0  # percent from k λ²/(4 K̃(1))
    caption = "\n".join(c.value for c in sec.caption)
    assert number_after(caption, "ρ =") == pytest.approx(0.13, abs=0.01)
    assert "The bound holds at every frame" in caption


def test_no_theorem_section_without_weight_decay():
    at = open_page(None, {"lam": "0", "epochs": "2", "steps": "100"})
    assert section(at) is None
    assert not static_charts(at)


def test_planar_playground_run_bounds_with_reference_runs():
    cfg = Config(d=6, k=2, teachers="planar", angles=(0.0, 75.0), a_star=(1.0, -1.0), m=24, epochs=2, steps=300)
    at = open_page(None, cfg.to_mapping())
    sec = section(at)
    assert len(static_charts(sec)) == 2
    caption = "\n".join(c.value for c in sec.caption)
    assert number_after(caption, "ρ =") == pytest.approx(0.405, abs=0.01)


def test_three_stage_lesson_shows_stage_two_below_a_fifth_of_the_floor():
    at = open_page("pages/lessons.py", {"lesson": "three-stages"})
    sec = section(at)
    keys = set(static_charts(sec))
    assert keys == {"theorem_bound_three-stages", "theorem_lam2_three-stages", "theorem_stages_three-stages"}
    text = "\n".join(m.value for m in sec.markdown)
    assert number_after(text, "stage 2 (the ridge fit) ends at") < 20.0  # percent of the linear floor


def test_surplus_lesson_renders_with_its_check_and_the_section():
    at = open_page("pages/lessons.py", {"lesson": "surplus-dies"})
    assert any("Check passed" in s.value for s in at.success)
    assert section(at) is not None


def test_theory_page_shows_rho_on_the_sphere_and_in_the_plane():
    at = open_page("pages/theory.py", {"angles": "0,75", "a_star": "1,-1"})
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["ρ on the sphere"]) == pytest.approx(0.405, rel=0.02)
    assert float(metrics["ρ in the plane"]) == pytest.approx(1.19, rel=0.02)
    assert metrics["valid certificate"] == "yes"
    assert any(h.value == "Your Playground teachers" for h in at.subheader)
    assert "Picture 1" not in "\n".join(m.value for m in at.markdown)


def test_theory_page_uses_the_playground_teachers_and_says_when_there_is_no_certificate():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["cfg"] = Config(d=6, k=2, teachers="planar", angles=(0.0, 75.0), a_star=(1.0, -1.0))
    at.switch_page("pages/theory.py")
    at.run()
    first = [m for m in at.metric][:4]
    assert first[0].label == "ρ on the sphere" and float(first[0].value) == pytest.approx(0.405, rel=0.02)
    assert first[1].label == "ρ in the plane" and float(first[1].value) == pytest.approx(1.19, rel=0.02)
    # Six random lines in d = 4, signs alternating: the interpolation overshoots (|η| > 1), and the page says so.
    crowded = Config(
        d=4, k=6, teachers="random", sep=10.0, a_star=(1.0, -1.0) * 3, angles=(0.0, 10.0, 20.0, 30.0, 40.0, 50.0)
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["cfg"] = crowded
    at.switch_page("pages/theory.py")
    at.run()
    assert [m for m in at.metric][3].value == "no"
    assert any("No certificate was found" in w.value for w in at.warning)


def test_waiting_for_reference_runs_survives_a_job_finishing_between_two_looks(monkeypatch):
    """The reference runs' progress loop looked at the jobs twice a pass: a job that finished in
    between left it nothing to wait on (StopIteration, seen as the app's error page)."""
    import numpy as np

    from featviz.jobs import DONE, RUNNING
    from featviz.ui import theorem

    class Job:  # running at the first look at `finished`, done from the second on
        def __init__(self):
            self.looks, self.run = 0, None

        @property
        def finished(self):
            self.looks += 1
            return self.looks > 1

        @property
        def state(self):
            return DONE if self.looks > 1 else RUNNING

        def wait(self, timeout):
            return self.looks > 1

    class Manager:
        def submit(self, cfg):
            return Job()

    class Box:
        def empty(self):
            return self

        def progress(self, *a, **k):
            pass

        def info(self, text):
            raise AssertionError(text)

    lams = (0.05, 0.025)
    monkeypatch.setattr(theorem, "reference_configs", lambda run: {lam: Config(lam=lam) for lam in lams})
    monkeypatch.setattr(theorem, "manager", Manager)
    monkeypatch.setattr(theorem, "mass_objective", lambda run: np.array([0.5, 0.01]))
    run = type("R", (), {"teacher_a": np.array([1.0, -1.0, 1.0])})()
    ref = theorem._reference_objectives(Box(), run)
    assert [ref(lam) for lam in lams] == [0.01, 0.01]
