"""The Streamlit app through streamlit.testing: default run, links in and out, bad links."""

import json

import pytest
from app_support import APP, TIMEOUT, animations, copied_links, open_app, settle
from streamlit.testing.v1 import AppTest

from featviz.config import Config


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cache"))
    # AppTest runs pages directly (legacy multipage mode, restored before every run): see ui.page_frame.
    monkeypatch.setenv("FEATVIZ_APPTEST", "1")


def query(at: AppTest) -> dict[str, str]:
    out = {}
    for k, v in at.query_params.items():
        out[k] = v[-1] if isinstance(v, list) else v
    return out


def run_charts(at: AppTest) -> list:
    """The page's plotly charts other than those of the section "The theorem, measured" (ui.theorem_panels)."""
    return [c for c in at.get("plotly_chart") if not (c.key or "").startswith("theorem_")]


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_default_run_shows_recovery_and_writes_the_link():
    at = open_app()
    text = markdown_text(at)
    assert "Result (last frame):" in text
    assert f"of {Config().m} neurons on a teacher line" in text
    # One chart: the animation took the place of the empty panels shown while it trained.
    (spec,) = animations(at).values()
    assert len(spec["frames"]) == len(spec["layout"]["sliders"][0]["steps"]) > 10
    # The URL holds the whole current config.
    assert Config.from_mapping(query(at)) == Config()
    # The copy-link box holds a link with the same parameters.
    (code,) = copied_links(at)
    assert "m=30" in code and "a_star=1%2C-1%2C1" in code


def test_link_round_trip_params_to_widgets_to_params():
    cfg = Config(d=6, k=2, teachers="planar", angles=(0.0, 70.0), a_star=(1.5, -0.5), m=12, lam=0.02, seed=3)
    at = open_app(cfg.to_mapping())
    assert at.number_input(key="w_d").value == 6
    assert at.number_input(key="w_m").value == 12
    assert at.selectbox(key="w_teachers").value == "planar"
    assert at.text_input(key="w_angles").value == "0,70"
    assert at.text_input(key="w_a_star").value == "1.5,-0.5"
    assert at.number_input(key="w_lam").value == pytest.approx(0.02)
    assert Config.from_mapping(query(at)) == cfg
    assert not at.warning


def test_widget_change_then_train_updates_the_link():
    at = open_app({"m": "10", "epochs": "2", "steps": "100"})
    at.number_input(key="w_m").set_value(14)
    at.run()
    assert query(at)["m"] == "10"  # not yet: a half-edited config trains nothing
    assert any("press **Train**" in i.value for i in at.info)
    at.button(key="train").click()
    settle(at)
    assert query(at)["m"] == "14"
    assert "of 14 neurons on a teacher line" in markdown_text(at)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"m": "abc"}, "m"),
        ({"lr": "-1"}, "lr"),
        ({"d": "nan"}, "d"),
        ({"teachers": "spiral"}, "teachers"),
        ({"a_star": "1,2"}, "a_star"),
        ({"k": "9999", "m": "10"}, "k"),
    ],
)
def test_invalid_link_value_shows_a_message_and_falls_back(params, bad):
    at = open_app(params | {"epochs": "1", "steps": "50", "zzz_unknown": "1"})
    warnings = [w.value for w in at.warning]
    assert any(f"`{bad}`" in w and "must be" in w for w in warnings), warnings
    # The shown config is valid, uses the default for the bad parameter, and is in the URL.
    shown = Config.from_mapping(query(at))
    assert getattr(shown, bad) == getattr(Config(), bad) or bad == "a_star"
    assert "zzz_unknown" not in query(at)
    assert len(animations(at)) == 1


def test_over_budget_config_is_refused_with_what_to_reduce(monkeypatch):
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "1e6")
    at = open_app({"m": "50", "steps": "1000"})
    errors = [e.value for e in at.error]
    assert any("too large" in e and "Reduce" in e for e in errors), errors
    assert not any("*" in e for e in errors), errors  # a bare * would open italics in Markdown
    assert len(animations(at)) == 0


def test_a_rejected_typed_value_shows_literally():
    at = open_app({"epochs": "1", "steps": "50"})
    at.text_input(key="w_a_star").set_value("2*3,1,*1*")
    at.button(key="train").click()
    settle(at)
    errors = [e.value for e in at.error]
    # Every * escaped: Markdown shows '2*3' and the allowed range as typed, no italics.
    assert any("`a_star`" in e and "2\\*3" in e for e in errors), errors
    assert all("*" not in e.replace("\\*", "") for e in errors), errors


def open_page(page: str, params: dict | None = None) -> AppTest:
    return open_app(params, page=page)


def test_lessons_page_runs_the_linked_lesson_and_shows_its_check():
    at = open_page("pages/lessons.py", {"lesson": "too-much-regularization"})
    assert at.radio(key="lesson_pick").value == "too-much-regularization"
    assert query(at) == {"lesson": "too-much-regularization"}
    passed = [s.value for s in at.success]
    assert passed and "Check passed" in passed[0] and "30 of 30 neurons dead" in passed[0]
    assert len(animations(at)) == 1
    # Picking another lesson updates the link.
    at.radio(key="lesson_pick").set_value("lazy")
    settle(at)
    assert query(at) == {"lesson": "lazy"}
    assert any("Check passed" in s.value for s in at.success)


def test_lessons_page_bad_lesson_name_falls_back_with_a_message():
    at = open_page("pages/lessons.py", {"lesson": "<script>"})
    assert any("`lesson`" in w.value and "must be one of" in w.value for w in at.warning)
    assert query(at) == {"lesson": "recovery"}


def test_theory_page_certificate_from_the_link():
    at = open_page("pages/theory.py", {"angles": "0,45,100", "a_star": "1,1,-1"})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["max |η|"] == "1.000000"
    assert float(metrics["ρ in the plane"]) > 0
    assert metrics["valid certificate"] == "yes"
    assert query(at) == {"angles": "0,45,100", "a_star": "1,1,-1"}
    assert len(run_charts(at)) == 2  # certificate and descent directions


def test_theory_page_invalid_teachers_fall_back_with_a_message():
    at = open_page("pages/theory.py", {"angles": "0,0.2", "a_star": "1,1"})
    assert any("`angles`" in w.value for w in at.warning)
    assert query(at)["angles"] == "0,60,120"


def test_compare_page_default_is_lam_zero_against_weight_decay():
    at = open_page("pages/compare.py")
    q = query(at)
    a = Config.from_mapping({k: v for k, v in q.items() if not k.startswith("b.")})
    assert a.lam == 0 and q["b.lam"] == "0.1"
    assert [k for k in q if k.startswith("b.")] == ["b.lam"]
    text = markdown_text(at)
    assert "A: λ = 0" in text and "B: λ = 0.1" in text
    assert len(animations(at)) == 1
    assert not any("Train both" in i.value for i in at.info)  # the widgets hold the shown pair


def test_compare_page_asks_for_train_both_after_b_is_edited():
    at = open_page("pages/compare.py", Config(m=12, epochs=2, steps=100).to_mapping() | {"b.lam": "0.1"})
    at.number_input(key="cb_lam").set_value(0.2)
    settle(at)
    assert any("press **Train both**" in i.value for i in at.info)
    assert query(at)["b.lam"] == "0.1"  # not trained yet: the shown pair is kept


def test_compare_page_link_round_trip_and_bad_b_value():
    params = Config(m=12, epochs=2, steps=100).to_mapping() | {"b.seed": "4", "b.lr": "oops"}
    at = open_page("pages/compare.py", params)
    assert any(w.value.startswith("B: Parameter `lr`") for w in at.warning)
    q = query(at)
    assert q["b.seed"] == "4" and "b.lr" not in q
    assert at.multiselect(key="cmp_diff").value == ["seed"]


def test_divergence_shows_the_step_a_smaller_lr_and_the_frames_before_it():
    at = open_app({"lr": "50"})
    errors = [e.value for e in at.error]
    assert any("diverged at step" in e and "lr = 5" in e for e in errors), errors
    assert len(animations(at)) == 1  # the frames up to the divergence are shown
    assert "Result (last frame):" in markdown_text(at)


def test_widgets_keep_the_config_after_visiting_another_page():
    at = open_app({"m": "12", "epochs": "2", "steps": "100", "a_star": "2,-1,1"})
    at.switch_page("pages/lessons.py")
    settle(at)
    at.switch_page("pages/playground.py")
    settle(at)
    # Streamlit drops the state of widgets a run did not draw; they come back at the config's values.
    assert at.number_input(key="w_m").value == 12
    assert at.text_input(key="w_a_star").value == "2,-1,1"
    at.button(key="train").click()
    settle(at)
    assert Config.from_mapping(query(at)).m == 12


def test_link_warnings_stay_while_the_linked_config_is_shown():
    at = open_app({"m": "abc", "epochs": "2", "steps": "100"})
    assert any("`m`" in w.value for w in at.warning)
    settle(at)  # a later rerun of the same page (e.g. when training ends)
    assert any("`m`" in w.value for w in at.warning)
    at.number_input(key="w_seed").set_value(5)
    at.button(key="train").click()
    settle(at)  # a new config: the link's messages are done
    assert not at.warning


def test_two_dimensional_planar_link_is_taken_whole():
    link = {"d": "2", "k": "4", "teachers": "planar", "angles": "0,45,90,135", "a_star": "1,-1,1,-1", "m": "40"}
    at = open_app(link | {"epochs": "2", "steps": "100"})
    assert not at.warning, [w.value for w in at.warning]
    q = query(at)
    assert {name: q[name] for name in link} == link
    assert at.text_input(key="w_angles").value == "0,45,90,135"
    assert "of 40 neurons on a teacher line" in markdown_text(at)
    assert len(animations(at)) == 1


def test_conflicting_link_gives_one_message_and_keeps_the_rest():
    # k = 4 orthonormal teachers do not fit in d = 2: d is left out, everything else is kept.
    at = open_app({"d": "2", "k": "4", "a_star": "2,-1,1,-1", "m": "16", "epochs": "2", "steps": "100"})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Parameter `d`:"), warnings
    assert "orthonormal teachers" in warnings[0]
    shown = Config.from_mapping(query(at))
    assert shown.d == Config().d
    assert (shown.k, shown.a_star, shown.m, shown.epochs, shown.steps) == (4, (2.0, -1.0, 1.0, -1.0), 16, 2, 100)


def test_widgets_appear_where_their_parameter_matters():
    at = open_app({"teachers": "random", "lam": "0", "epochs": "1", "steps": "50"})
    keys = {w.key for w in at.number_input} | {w.key for w in at.text_input} | {w.key for w in at.selectbox}
    assert "w_sep" in keys  # random teachers
    assert not {"w_angles", "w_eta1", "w_n", "w_lam_decay"} & keys  # planar, paper, samples, lam > 0
    assert "w_symmetric" in keys
    at.selectbox(key="w_algo").set_value("paper")
    at.number_input(key="w_lam").set_value(0.01)
    at.run()
    keys = {w.key for w in at.number_input} | {w.key for w in at.selectbox}
    assert {"w_eta1", "w_lam_decay"} <= keys and "w_symmetric" not in keys


def _preview_script():
    import streamlit as st

    from featviz import ui
    from featviz.config import Config

    slot = ui.AnimationView("animation")
    run = ui.obtain_run(Config(m=6, epochs=1, steps=20, frames=4, seed=424242), area=st.container(), figure_slot=slot)
    st.markdown(f"run: {run is not None}")


def test_finished_run_says_the_chart_is_loading_not_training():
    """The panels left in the slot after the run is done (the page draws the animation next)."""
    at = AppTest.from_function(_preview_script, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "run: True" in markdown_text(at)
    (spec,) = animations(at).values()
    title = json.dumps(spec["layout"]["title"], ensure_ascii=False)
    from featviz import ui

    assert ui.LOADING_NOTE in title and ui.TRAINING_NOTE not in title


def test_streamlit_still_needs_the_direct_link_work_around():
    """ui.frame.page_frame leaves Streamlit's legacy multipage mode by hand: fail when that changes.

    If this fails after a Streamlit upgrade, check whether a setting now replaces
    leave_legacy_multipage_mode, or whether the attribute it sets still does what it did.
    """
    import inspect

    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    from featviz.ui.frame import leave_legacy_multipage_mode

    saved = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = None
        PagesManager(APP)  # a server's first session: app.py has a pages/ folder next to it
        assert PagesManager.uses_pages_directory is True
        leave_legacy_multipage_mode()
        PagesManager(APP)  # later sessions keep the mode the frame chose
        assert PagesManager.uses_pages_directory is False
    finally:
        PagesManager.uses_pages_directory = saved
    # In legacy mode the script runner runs the linked page's script itself, without app.py.
    source = inspect.getsource(script_runner)
    assert "if PagesManager.uses_pages_directory:" in source and "_mpa_v1(self._main_script_path)" in source
    # No setting turns the legacy mode off (the only one about pages hides their sidebar).
    options = config.get_config_options()
    assert [k for k in options if "page" in k.lower() or "navigation" in k.lower()] == ["client.showSidebarNavigation"]


def test_k_plus_button_keeps_planar_lines_apart():
    at = open_app({"teachers": "planar", "k": "3"})
    assert at.text_input(key="w_angles").value == "0,60,120"
    for _ in range(2):  # k 3 -> 5 with the + button: the evenly spaced lines stay evenly spaced
        at.number_input(key="w_k").increment().run()
    assert at.text_input(key="w_angles").value == "0,36,72,108,144"
    assert at.text_input(key="w_a_star").value == "1,-1,1,-1,1"
    at.text_input(key="w_angles").set_value("0,40,90,130,150").run()  # typed lines are kept
    at.number_input(key="w_k").increment().run()
    angles = [float(a) for a in at.text_input(key="w_angles").value.split(",")]
    assert angles[:5] == [0, 40, 90, 130, 150]
    gaps = [min(abs(x - y) % 180, 180 - abs(x - y) % 180) for i, x in enumerate(angles) for y in angles[:i]]
    assert min(gaps) >= 15, angles
    assert not at.exception


def test_the_width_cookie_is_read_only_as_whole_px_in_range():
    from featviz.chart import WIDTH_RANGE, cookie_width

    assert cookie_width("940") == 940
    assert cookie_width(str(WIDTH_RANGE[0])) == WIDTH_RANGE[0] and cookie_width(str(WIDTH_RANGE[1])) == WIDTH_RANGE[1]
    for bad in (None, "", "0", "479", "4001", "94O", "-940", "940.5", " 940", "1e3", "9" * 40, "9²0"):
        assert cookie_width(bad) is None, bad
