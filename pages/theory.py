"""Theory: the setting and the result, the dual certificate, and the descent direction."""

import numpy as np
import streamlit as st

from featviz import ui
from featviz.certificate import planar_certificate
from featviz.config import PARAMS
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

# ---- teacher in a plane: shared by the certificate and the descent picture ----------------
st.header("The dual certificate")
st.markdown(
    r"""
A function $\eta$ on the sphere with $\eta(w^*_i) = \mathrm{sign}(a^*_i)$, $|\eta| \le 1$ and
$1 - |\eta(w)| \ge \rho\,\delta(w)^2$, where $\delta$ is the angle to the nearest teacher line. It bounds the mass
far from the teachers: $\sum_j |a_j|\|w_j\|\,\delta_j^2 \le \text{(optimality gap)} / (\lambda\rho)$.
For teachers in one plane at angles $\varphi_i$:
$\eta(\varphi) = \sum_i \alpha_i k(\varphi - \varphi_i) + \beta_i k'(\varphi - \varphi_i)$, with
$k(\psi) = \frac{|\sin\psi| + \cos\psi\,(\pi/2 - |\psi|) - 1}{2\pi}$ and the $2k$ unknowns fixed by
$\eta(\varphi_i) = s_i$, $\eta'(\varphi_i) = 0$.
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
m1, m2, m3 = st.columns(3)
m1.metric("max |η|", f"{cert.max_abs_eta:.6f}", help="Should be 1, reached only at the teacher lines.")
m2.metric("ρ", f"{cert.rho:.4g}", help="min over angles of (1 − |η|) / δ², away from the teachers.")
ok = abs(cert.max_abs_eta - 1.0) < 1e-6 and cert.rho > 0
m3.metric("valid certificate", "yes" if ok else "no")
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
    st.info(
        "This teacher has no valid certificate of this form (max |η| > 1 or ρ ≤ 0): "
        "teachers too close together make the interpolation overshoot."
    )

# ---- descent direction --------------------------------------------------------------------
st.header("The descent direction")
st.markdown(
    r"""
Picture 1 of the paper: a neuron in the neighbourhood $T_i$ of teacher $i$ moves toward $q_{ij}\,w^*_i$, a share of
the teacher (at balance $\sum_{j \in T_i} q_{ij}^2 = 1$); every other neuron moves toward $0$. Below, the same
teachers trained with the default settings ($m = 24$ in $d = 6$): pick a frame, and each arrow points from a neuron
to its target.
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
    value=min(run.n_frames - 1, max(1, run.n_frames // 3)),
    format_func=lambda i: labels[i],
    key="th_frame",
)
st.plotly_chart(descent_figure(run, frame), theme=None, key="descent", config=ui.CHART_CONFIG)
st.markdown("**Copy link** to this page with these teachers:")
st.code(ui.link_for(ui.query_mapping()), language=None, wrap_lines=True)
