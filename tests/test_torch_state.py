"""The torch states' process-wide setting: training runs on one torch thread, restored after."""

import torch

from featviz import torch_state


def test_thread_setting_survives_overlapping_runs():
    """jobs.py trains in worker threads; torch's thread count is one per process. Runs that
    start and end interleaved must leave it where it was."""
    before = torch.get_num_threads()
    a, b, c = (torch_state._single_thread() for _ in range(3))
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert torch.get_num_threads() == 1  # b still runs
    c.__enter__()
    b.__exit__(None, None, None)
    assert torch.get_num_threads() == 1  # c still runs
    c.__exit__(None, None, None)
    assert torch.get_num_threads() == before
    with torch_state._single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
