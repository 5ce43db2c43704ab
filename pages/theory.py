"""Theory: the setting and the result, the dual certificate, and the descent direction."""

import numpy as np
import streamlit as st

from featviz import ui
from featviz.certificate import planar_certificate
from featviz.config import PARAMS, Config
from featviz.descent import opening_frame
from featviz.figures import certificate_figure, descent_figure
from featviz.page_links import THEORY_TEACHERS, planar_teachers

ui.page_frame()

st.title("Theory")

st.markdown(
    r"""
**Setting.** Inputs $x \sim \mathcal N(0, I_d)$. A teacher $f^*(x) = \sum_{i=1}^k a^*_i\,\mathrm{relu}(w^{*\top}_i x)$
with unit directions $w^*_i$, and a wider student
$f(x) = \alpha + \beta^\top x + \sum_{j=1}^m a_j\,\mathrm{relu}(w_j^\top x)$, trained by gradient descent on

$$
L_\lambda(\theta) = \mathbb E_x\big[(f(x) - f^*(x))^2\big] + \tfrac{\lambda}{2}\big(\|a\|^2 + \|W\|_F^2\big).
$$

featviz evaluates the expectation **exactly**: with the arc-cosine kernel
$\mathbb E[\mathrm{relu}(u^\top x)\,\mathrm{relu}(v^\top x)] = \|u\|\|v\|\,\frac{\sin t + (\pi - t)\cos t}{2\pi}$
the loss is a sum over pairs of neurons, with no sampling noise.

**Sign symmetry.** $\mathrm{relu}(z) = z/2 + |z|/2$, so a neuron on $-w^*_i$ is as good as one on $+w^*_i$
(the linear part goes into $\beta$): closeness to a teacher means closeness to the **line** $\pm w^*_i$.

**Result (Zhou & Ge, NeurIPS 2024).** Once the loss is below a threshold, gradient descent on $L_\lambda$ with
$\lambda$ decreasing reaches any loss $\varepsilon$ in polynomial time, and every student neuron ends **within a
small angle of a teacher line or with a small norm**. At balanced norms ($|a_j| = \|w_j\|$) the penalty is
$\lambda \sum_j |a_j|\|w_j\|$, an $\ell_1$ norm on the neurons' masses: far-away neurons are not worth their cost.
Features are learned at the *end* of training too, not only in the first steps, and unlike the lazy (NTK)
regime, where neurons barely move.
"""
)

# ---- the certificate: the Playground's teachers, then teachers in a plane interactively -----
st.header("The dual certificate")
st.markdown(
    r"""
A function $\eta$ on the sphere with $\eta(w^*_i) = \mathrm{sign}(a^*_i)$, $|\eta| \le 1$ and
$1 - |\eta(w)| \ge \rho\,\delta(w)^2$, where $\delta$ is the angle to the nearest teacher line. It bounds the mass
far from the teachers: $\sum_j |a_j|\|w_j\|\,\delta_j^2 \le \text{(optimality gap)} / (\lambda\rho)$.
featviz builds $\eta(w) = \sum_i c_i \tilde K(w^\top w^*_i) + \tilde K'(w^\top w^*_i)\,(w^\top b_i)$ from the
kernel $\tilde K$ (relu with its constant and linear parts removed), with $\eta(w^*_i) = \mathrm{sign}(a^*_i)$ and a
vanishing gradient at each teacher, and searches the **whole sphere** for the smallest $(1 - |\eta|)/\delta^2$:
directions out of the teachers' plane can have a much smaller margin than those in it.
"""
)

st.subheader("Your Playground teachers")
play_cfg = st.session_state.get("cfg")
if play_cfg is None:
    play_cfg = Config()
    st.caption("The Playground's default teachers (open the Playground and train to see your own here).")
kind = play_cfg.teachers + (
    f" at {', '.join(f'{a:g}°' for a in play_cfg.angles)}" if play_cfg.teachers == "planar" else ""
)
a_text = ", ".join(f"{a:g}" for a in play_cfg.a_star)
st.markdown(ui.md(f"k = {play_cfg.k} {kind} teachers in d = {play_cfg.d}, a* = ({a_text}), seed {play_cfg.seed}."))
play_cert = ui.teachers_certificate(play_cfg)
p1, p2, p3, p4 = st.columns(4)
p1.metric("ρ on the sphere", f"{play_cert.rho:.4g}", help="min over all unit directions of (1 − |η|) / δ².")
span_label = "ρ in the plane" if play_cfg.teachers == "planar" and play_cfg.k > 1 else "ρ in the teachers' span"
p2.metric(span_label, f"{play_cert.rho_span:.4g}", help="The same minimum over directions in the span only.")
p3.metric("max |η|", f"{play_cert.max_abs_eta:.6f}", help="Should be 1, reached only at the teacher lines.")
p4.metric("certificate found", "yes" if play_cert.valid else "no")
if play_cert.valid:
    st.markdown(
        f"On these teachers a run's far mass is bounded by (L_λ − L_λ*)/(λ · {play_cert.rho:.3g}): see "
        "“The theorem, measured” under the Playground's run."
    )
else:
    st.warning(ui.md(f"No certificate was found for these teachers: {play_cert.reason}."))
st.page_link("pages/playground.py", label="Change the teachers in the Playground", icon=":material/tune:")

st.subheader("Teachers in a plane")
st.markdown(
    r"""
For teachers in one plane at angles $\varphi_i$, on the circle of that plane
$\eta(\varphi) = \sum_i \alpha_i k(\varphi - \varphi_i) + \beta_i k'(\varphi - \varphi_i)$, with
$k(\psi) = \frac{|\sin\psi| + \cos\psi\,(\pi/2 - |\psi|) - 1}{2\pi}$ and the $2k$ unknowns fixed by
$\eta(\varphi_i) = s_i$, $\eta'(\varphi_i) = 0$. The figure draws $\eta$ on that circle; ρ on the sphere also
looks out of the plane.
"""
)

url = ui.query_mapping()
for name in ("angles", "a_star"):
    key = f"th_{name}"
    if name in url and st.session_state.get(key + "_url") != url[name]:
        st.session_state[key + "_url"] = url[name]
        st.session_state[key] = url[name]
    st.session_state.setdefault(key, THEORY_TEACHERS.to_mapping()[name])

c1, c2 = st.columns(2)
c1.text_input("Teacher angles in the plane (degrees)", key="th_angles", help=PARAMS["angles"].help)
c2.text_input(
    "Teacher output weights a* (their signs matter here)",
    key="th_a_star",
    help=PARAMS["a_star"].help,
)


cfg, messages = planar_teachers(st.session_state["th_angles"], st.session_state["th_a_star"])
for msg in messages:
    st.warning(ui.md(msg))
ui.set_query({"angles": cfg.to_mapping()["angles"], "a_star": cfg.to_mapping()["a_star"]})

cert = planar_certificate(cfg.angles, cfg.a_star)
sphere = ui.teachers_certificate(cfg)
m1, m2, m3, m4 = st.columns(4)
m1.metric("max |η|", f"{cert.max_abs_eta:.6f}", help="Should be 1, reached only at the teacher lines.")
m2.metric(
    "ρ in the plane", f"{cert.rho:.4g}", help="min over angles in the plane of (1 − |η|) / δ², away from the teachers."
)
m3.metric("ρ on the sphere", f"{sphere.rho:.4g}", help="The same minimum over all unit directions of R^d.")
ok = abs(cert.max_abs_eta - 1.0) < 1e-6 and cert.rho > 0 and sphere.valid
m4.metric("valid certificate", "yes" if ok else "no")
st.plotly_chart(
    certificate_figure(
        np.degrees(cert.phi),
        cert.eta,
        teacher_angles_deg=np.array(cfg.angles),
        signs=np.sign(cfg.a_star),
        rho=cert.rho,
        max_abs_eta=cert.max_abs_eta,
    ),
    theme=None,
    key="certificate",
    config=ui.CHART_CONFIG,
)
if not ok:
    why = sphere.reason or "max |η| > 1 or ρ ≤ 0 in the plane"
    st.info(
        ui.md(
            f"These teachers have no valid certificate of this form ({why}): teachers too close together make "
            "the interpolation overshoot."
        )
    )

# ---- descent direction --------------------------------------------------------------------
st.header("The descent direction")
st.markdown(
    r"""
The descent-direction picture: a neuron in the neighbourhood $T_i$ of teacher $i$ moves toward
$q_{ij}\,w^*_i$, a share of the teacher (at balance $\sum_{j \in T_i} q_{ij}^2 = 1$); every other neuron moves
toward $0$. Below, the same teachers trained with the default settings ($m = 24$ in $d = 6$): pick a frame, and
each arrow points from a neuron to its target.
"""
)
status = st.container()
run = ui.obtain_run(cfg, area=status, label="theory")
if run is None:
    st.stop()
labels = [f"step {int(s)} · {run.stage_name(i)}" for i, s in enumerate(run.step)]
frame = st.select_slider(
    "Frame",
    options=list(range(run.n_frames)),
    value=opening_frame(run),  # the neurons have left the origin: the arrows show
    format_func=lambda i: labels[i],
    key="th_frame",
)
st.plotly_chart(descent_figure(run, frame), theme=None, key="descent", config=ui.CHART_CONFIG)
st.markdown("**Copy link** to this page with these teachers:")
ui.copy_link(ui.link_for(ui.query_mapping()))
