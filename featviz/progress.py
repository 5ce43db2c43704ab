"""A progress bar behind the engine's progress callback, for training from Python and Jupyter.

The engine reports progress through one callable, ``progress(step, total, mse)``, called about
every 0.2 s and once at the end; the app's background jobs pass one that stores the numbers for the
page to poll. ``ProgressBar`` is the same callable drawn by ``tqdm.auto``: a widget in Jupyter
(with ipywidgets installed), a text bar on a terminal.
"""

from __future__ import annotations

from tqdm.auto import tqdm


class ProgressBar:
    """``bar(step, total, mse)`` moves a ``tqdm.auto`` bar to `step` of `total` and shows the mse.

    The bar is created at the first call, so it knows the total; close it when training ends,
    also when training raised (``with ProgressBar() as bar: engine.train(cfg, progress=bar)``).
    Keyword arguments go to ``tqdm`` (e.g. ``file=`` or ``disable=``).
    """

    def __init__(self, desc: str = "training", **tqdm_kwargs):
        self._desc = desc
        self._tqdm_kwargs = tqdm_kwargs
        self._bar: tqdm | None = None

    def __call__(self, step: int, total: int, mse: float) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, desc=self._desc, unit="step", **self._tqdm_kwargs)
        bar = self._bar
        bar.total = total
        bar.set_postfix(mse=f"{mse:.3g}", refresh=False)
        bar.update(step - bar.n)  # update() redraws, at most every tqdm.mininterval

    @property
    def n(self) -> int:
        """The step shown (0 before the first call)."""
        return 0 if self._bar is None else int(self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
