"""The export's picture: the neuron view of each frame drawn with matplotlib (Agg), read back as pixels.

The picture follows the app's neuron view (the same projection, ``featviz.projection``): the
neurons projected on the teacher span (2-D for a planar span, 3-D with a slow camera turn when
the span has 3 or more dimensions, along w*₁ vs the norm off the line for k = 1), teacher lines
±w*_i in the teacher's colour, aligned neurons in the colour of their teacher, undecided grey,
dead light grey (symbol by fate), marker area proportional to the mass |a_j||w_j|. A caption
gives the step, stage, λ, the fate counts and the mse of each frame; a small mse curve marks
the current frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featviz import projection
from featviz.export.options import DEFAULT_SIZE, check_size
from featviz.metrics import ALIGNED, ALIGNED_DEG, DEAD, DEAD_SHRINK, UNDECIDED

CAMERA_TURN_DEG = 40.0  # 3-D views: the camera turns this far about the vertical over the clip
CAMERA_ELEV_DEG = 24.0
CAMERA_AZIM0_DEG = -70.0

# Layout in inches at 100 dpi for 1280 x 720; larger sizes scale the dpi, so every size shows
# the same picture. Font sizes in points: at 1280 x 720 one point is 100/72 px, so the 17 pt
# caption is 24 px tall (32 px at 1920 x 1080).
CAPTION_PT = 17.0
_BASE_W_IN = 12.8
_FATE_MARKERS = {ALIGNED: "o", UNDECIDED: "D", DEAD: "x"}
_FATE_LABELS = {
    ALIGNED: f"aligned (≤ {ALIGNED_DEG:g}° from a line)",
    UNDECIDED: "undecided",
    DEAD: f"dead (shrank to ≤ {DEAD_SHRINK:g}× its peak)",
}
_MARKER_PX = {2: (6.0, 26.0), 3: (5.0, 20.0)}  # (smallest, largest) marker diameter by view dimension
_TEXT = "#222222"
_MUTED = "#555555"
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class ExportView:
    """Per-frame drawing data of a run's neuron view, as plain arrays."""

    coords: np.ndarray  # (T,m,n), n = 2 or 3
    teacher_dirs: np.ndarray  # (k,n) unit projected teacher directions, 0 when out of view
    color_index: np.ndarray  # (T,m) index into palette: teacher t, then undecided, then dead
    palette: np.ndarray  # (k+2,4) RGBA in [0,1]
    fate: np.ndarray  # (T,m)
    diameter_px: np.ndarray  # (T,m) marker diameter at 1280 x 720
    extent: float  # half-width of the fixed axes
    r: int  # dimension of the teacher span
    axis_titles: tuple[str, ...]

    @property
    def ndim(self) -> int:
        return self.coords.shape[-1]

    @classmethod
    def from_run(cls, run) -> ExportView:
        from featviz.figures import FATE_COLORS, TEACHER_COLORS

        met = run.metrics
        r = run.basis.shape[0]
        k = run.teacher_w.shape[0]
        coords = projection.project(run.basis, run.w, met.orth_norm)
        tdirs = projection.teacher_directions(run.teacher_w, run.basis)
        titles = projection.axis_titles(r, coords.shape[-1])
        index = projection.color_index(met.fate, met.nearest, k)
        hexes = [TEACHER_COLORS[t % len(TEACHER_COLORS)] for t in range(k)]
        palette = np.array([_rgba(c) for c in [*hexes, FATE_COLORS[UNDECIDED], FATE_COLORS[DEAD]]])
        mass = np.nan_to_num(met.mass, nan=0.0, posinf=0.0)
        small, big = _MARKER_PX[coords.shape[-1]]
        diameter = projection.marker_sizes(mass, projection.mass_ref(mass), small=small, big=big)
        coords = np.nan_to_num(coords, nan=0.0, posinf=1e30, neginf=-1e30)
        extent = projection.extent(coords)
        return cls(coords, tdirs, index, palette, met.fate, diameter, extent, r, titles)


def _rgba(hex_color: str) -> tuple[float, float, float, float]:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, 1.0)


def frame_caption(run, i: int) -> tuple[str, str, str]:
    """The three caption lines of frame i: where, fates, loss."""
    n_al, n_dead, n_und = (int(x) for x in run.metrics.counts[i])
    where = f"step {int(run.step[i]):,} · {run.stage_name(i)} · λ = {float(run.lam[i]):.3g}"
    fates = f"{n_al} aligned · {n_und} undecided · {n_dead} dead (of {run.config.m})"
    return where, fates, f"mse {float(run.mse[i]):.3g}    frame {i + 1} of {run.n_frames}"


def _config_lines(c) -> tuple[str, str]:
    extra = f" at {', '.join(f'{a:g}°' for a in c.angles)}" if c.teachers == "planar" and c.k > 1 else ""
    return (
        f"d = {c.d}, k = {c.k} {c.teachers} teachers{extra}",
        f"m = {c.m} neurons, {c.algo}, λ = {c.lam:g} (× {c.lam_decay:g} per epoch), init = {c.init:g}",
    )


# ---- the renderer ---------------------------------------------------------------------


class FrameRenderer:
    """One matplotlib figure for a run; ``frame(i)`` updates its artists and returns RGB pixels (H,W,3)."""

    def __init__(self, run, size: tuple[int, int] = DEFAULT_SIZE):
        # Imported here: the command line imports featviz.export for its options and should not
        # pay for matplotlib and plotly unless it exports.
        import matplotlib
        from matplotlib import font_manager
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter, NullFormatter
        from PIL import ImageFont

        from featviz.figures import FATE_COLORS, TEACHER_COLORS

        self.run = run
        self.size = check_size(size)
        self.view = v = ExportView.from_run(run)
        w_px, h_px = self.size
        self.dpi = w_px / _BASE_W_IN
        self._pt_per_px = 72.0 / 100.0  # marker sizes are given in px at the 1280-wide layout
        fig = Figure(figsize=(_BASE_W_IN, h_px / self.dpi), dpi=self.dpi, facecolor="white")
        FigureCanvasAgg(fig)  # the Agg canvas directly: no pyplot, no global backend state
        self.fig = fig
        three_d = v.ndim == 3
        aspect = h_px / w_px  # the view is square: its width in figure units follows the height
        # 2-D: room at the left and bottom for tick labels and axis titles; 3-D draws no ticks.
        rect = (0.005, 0.06, 0.86 * aspect, 0.86) if three_d else (0.06, 0.1, 0.8 * aspect, 0.8)
        ax = fig.add_axes(rect)
        self.ax = ax
        e = v.extent
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(projection.view_title(v.r), fontsize=14, color=_TEXT, pad=4)
        self.teacher_lines = [
            ax.plot([], [], color=TEACHER_COLORS[i % len(TEACHER_COLORS)], lw=3.0, zorder=1)[0]
            for i in range(len(v.teacher_dirs))
        ]
        self.scatters = {}
        for f in (DEAD, UNDECIDED, ALIGNED):  # aligned drawn last, on top
            style = dict(marker=_FATE_MARKERS[f], zorder=3 if f == ALIGNED else 2)
            style |= dict(linewidths=1.8) if f == DEAD else dict(edgecolors="white", linewidths=0.6)
            self.scatters[f] = ax.scatter(np.zeros(0), np.zeros(0), **style)
        titles = v.axis_titles
        if three_d:
            # An orthographic 3-D view drawn on 2-D axes: a box, three coordinate axes and the
            # points, projected per frame. Far cheaper to draw than a matplotlib 3-D scene.
            lim = e * 1.5
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_axis_off()
            self.box = LineCollection([], colors="#D0D0D0", linewidths=0.9, zorder=0)
            self.axes3d = LineCollection([], colors="#AAAAAA", linewidths=1.0, zorder=0)
            ax.add_collection(self.box)
            ax.add_collection(self.axes3d)
            self.axis_labels = [
                ax.text(0, 0, t, fontsize=15, color=_MUTED, ha="center", va="center", zorder=4) for t in titles
            ]
            self.scale_note = ax.text(
                0.0, 0.0, f"box: ±{e / 1.12:.2g} on each axis", transform=ax.transAxes, fontsize=11, color=_MUTED
            )
        else:
            for line, u in zip(self.teacher_lines, v.teacher_dirs, strict=True):
                line.set_data([-2 * e * u[0], 2 * e * u[0]], [-2 * e * u[1], 2 * e * u[1]])
            ax.set_xlim(-e, e)
            ax.set_ylim(-0.06 * e if v.r == 1 else -e, e)
            ax.set_xlabel(titles[0], fontsize=14, labelpad=4)
            ax.set_ylabel(titles[1], fontsize=14, labelpad=4)
            ax.tick_params(labelsize=11)
            ax.grid(True, color="#E5E5E5", lw=0.8)
            ax.set_axisbelow(True)

        # Right column: title, config, the per-frame caption, legend, mse curve.
        x0 = rect[0] + rect[2] + 0.03
        fig.text(x0, 0.95, "Student neurons and teacher lines", fontsize=19, weight="bold", color=_TEXT, va="top")
        line1, line2 = _config_lines(run.config)
        fig.text(x0, 0.885, line1 + "\n" + line2, fontsize=13, color=_MUTED, va="top", linespacing=1.4)
        if run.status != "ok":
            fig.text(x0, 0.79, f"training stopped early: {run.status}", fontsize=13, color="#D55E00", va="top")
        # The caption changes every frame and is most of a frame's text: Pillow draws it onto the
        # pixels (a few ms) instead of matplotlib's text layout (most of a frame's time).
        font_path = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
        self._caption_px = CAPTION_PT * self.dpi / 72.0
        self._caption_font = ImageFont.truetype(font_path, size=round(self._caption_px))
        self._caption_xy = (x0 * w_px, (1 - 0.74) * h_px)
        handles = [
            Line2D([], [], color=TEACHER_COLORS[i % len(TEACHER_COLORS)], lw=3, label=_teacher_label(i, a))
            for i, a in enumerate(run.teacher_a)
        ]
        for f in (ALIGNED, UNDECIDED, DEAD):
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker=_FATE_MARKERS[f],
                    markersize=9,
                    color=FATE_COLORS[f],
                    markeredgewidth=1.6 if f == DEAD else 0.6,
                    markeredgecolor=FATE_COLORS[f] if f == DEAD else "white",
                    label=_FATE_LABELS[f],
                )
            )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(x0 - 0.005, 0.5),
            fontsize=12,
            frameon=False,
            ncol=2 if len(handles) > 7 else 1,
            handlelength=1.8,
            labelspacing=0.35,
        )
        note = "colour: nearest teacher when aligned · area ∝ mass |a||w|"
        fig.text(x0, 0.035, note, fontsize=11, color=_MUTED, va="bottom")
        mse_ax = fig.add_axes((x0 + 0.33, 0.13, 0.99 - (x0 + 0.33), 0.30))
        steps = run.step.astype(float) + 1.0
        mse = np.clip(np.nan_to_num(run.mse, nan=1e30, posinf=1e30), 1e-30, 1e30)
        mse_ax.plot(steps, mse, color="#000000", lw=1.8)
        (self.mse_dot,) = mse_ax.plot([], [], "o", color="#000000", markersize=8, markeredgecolor="white")
        mse_ax.set_xscale("log")
        mse_ax.set_yscale("log")
        for axis in (mse_ax.xaxis, mse_ax.yaxis):  # 10⁻³ as plain text: mathtext costs seconds on first use
            axis.set_major_formatter(FuncFormatter(_power_of_ten))
            axis.set_minor_formatter(NullFormatter())
        mse_ax.set_title("mse", fontsize=13, color=_TEXT, pad=3)
        mse_ax.set_xlabel("step + 1", fontsize=11, labelpad=2)
        mse_ax.tick_params(labelsize=9)
        self._mse = mse
        self._steps = steps
        self._background = None

    def _draw_background(self) -> None:
        """Draw everything that does not change once; frames restore it and draw only what moves.

        Moving: the neurons, the caption and the mse marker; in 3-D the whole scene (the camera
        turns). Skipping the static text and panels makes a frame several times cheaper.
        """
        moving = []  # in drawing order
        if self.view.ndim == 3:
            moving += [self.box, self.axes3d, *self.teacher_lines, *self.axis_labels]
        moving += [*self.scatters.values(), self.mse_dot]
        for artist in moving:
            artist.set_animated(True)
        self._moving = moving
        self.fig.canvas.draw()
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def frame(self, i: int) -> np.ndarray:
        """Frame i as an RGB Pillow image of the export size."""
        from PIL import Image, ImageDraw

        v, run, fig = self.view, self.run, self.fig
        if self._background is None:
            self._draw_background()
        c = v.coords[i]
        if v.ndim == 3:
            turn = CAMERA_TURN_DEG * (i / max(run.n_frames - 1, 1))
            c, depth = self._project3d(c, CAMERA_AZIM0_DEG + turn)
        for f, sc in self.scatters.items():
            sel = np.flatnonzero(v.fate[i] == f)
            if v.ndim == 3:  # far points first, so near ones cover them
                sel = sel[np.argsort(depth[sel])]
            colors = v.palette[v.color_index[i][sel]]
            sc.set_offsets(c[sel])
            sc.set_sizes((v.diameter_px[i][sel] * self._pt_per_px) ** 2)
            sc.set_facecolors(colors)
            if f == DEAD:  # an unfilled marker: its colour is the edge
                sc.set_edgecolors(colors)
        self.mse_dot.set_data([self._steps[i]], [self._mse[i]])
        canvas = fig.canvas
        canvas.restore_region(self._background)
        for artist in self._moving:
            fig.draw_artist(artist)
        image = Image.frombuffer("RGBA", self.size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        ImageDraw.Draw(image).multiline_text(
            self._caption_xy,
            "\n".join(frame_caption(run, i)),
            font=self._caption_font,
            fill=_TEXT,
            spacing=round(0.55 * self._caption_px),
        )
        return image

    def _project3d(self, coords: np.ndarray, azim_deg: float) -> tuple[np.ndarray, np.ndarray]:
        """Orthographic camera at (elevation, azimuth): (n,3) -> screen (n,2), depth (n,) toward the viewer.

        Also moves the box, the coordinate axes, their labels and the teacher lines to this camera.
        """
        el, az = np.radians(CAMERA_ELEV_DEG), np.radians(azim_deg)
        right = np.array([-np.sin(az), np.cos(az), 0.0])
        up = np.array([-np.sin(el) * np.cos(az), -np.sin(el) * np.sin(az), np.cos(el)])
        toward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        proj = np.stack([right, up], 1)  # (3,2)
        e = self.view.extent / 1.12
        corners = np.array([[x, y, z] for x in (-e, e) for y in (-e, e) for z in (-e, e)])
        edges = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
        pc = corners @ proj
        self.box.set_segments([pc[[a, b]] for a, b in edges])
        ends = np.eye(3) * e * 1.25
        pe = ends @ proj
        self.axes3d.set_segments([np.stack([-p, p]) for p in pe])
        for label, p in zip(self.axis_labels, pe * 1.1, strict=True):
            label.set_position(p)
        for line, u in zip(self.teacher_lines, self.view.teacher_dirs, strict=True):
            seg = np.stack([-1.25 * e * u, 1.25 * e * u]) @ proj
            line.set_data(seg[:, 0], seg[:, 1])
        return coords @ proj, coords @ toward

    def frames(self):
        for i in range(self.run.n_frames):
            yield self.frame(i)


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(x: float, _pos=None) -> str:
    if x <= 0 or not np.isfinite(x):
        return ""
    e = round(float(np.log10(x)))
    return f"10{str(e).translate(_SUP)}" if abs(np.log10(x) - e) < 1e-6 else ""


def _teacher_label(i: int, a_star: float) -> str:
    return f"teacher line ±w*{str(i + 1).translate(_SUB)} (a* = {float(a_star):g})"
