"""featviz.upload: hostile files get one clear UploadError; valid files give the same run back."""

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featviz.config import Config
from featviz.engine import train
from featviz.run import ARRAY_FIELDS
from featviz.upload import UploadError, load_run_bytes

CAP = 2**20  # 1 MB: keeps the hostile files of these tests small


@pytest.fixture(scope="module")
def run():
    return train(Config().replace(d=4, k=2, m=6, epochs=2, steps=20, frames=6))


@pytest.fixture(scope="module")
def valid(run):
    return run.to_npz_bytes()


def members(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


def npz(data: bytes, **changes) -> bytes:
    """A copy of the run file `data` with some members replaced (None removes one)."""
    arrays = members(data) | changes
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: v for k, v in arrays.items() if v is not None})
    return buf.getvalue()


def message(data: bytes, **kw) -> str:
    with pytest.raises(UploadError) as e:
        load_run_bytes(data, **kw)
    text = str(e.value)
    assert "\n" not in text and 10 < len(text) < 300
    return text


def test_valid_round_trip(run, valid):
    back = load_run_bytes(valid)
    assert back.config == run.config
    for name in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(run, name))
        assert getattr(back, name).dtype == getattr(run, name).dtype
    assert back.summary() == run.summary()
    assert (back.status, back.message, back.diverged_step) == (run.status, run.message, run.diverged_step)


def test_empty_file():
    assert message(b"") == "The file is empty."


def test_truncated_file(valid):
    for cut in (10, len(valid) // 2, len(valid) - 5):
        assert "Not a r" in message(valid[:cut])


def test_random_bytes(rng):
    assert "is not one" in message(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())


def test_file_over_the_cap(valid):
    assert "over the upload cap" in message(valid, max_bytes=len(valid) - 1)


def test_cap_from_the_environment(valid, monkeypatch):
    monkeypatch.setenv("FEATVIZ_MAX_UPLOAD_MB", str(len(valid) / 2 / 2**20))
    assert "FEATVIZ_MAX_UPLOAD_MB" in message(valid)


def _zip_with(data: bytes, name: str, payload: bytes) -> bytes:
    """The run file with member `name` replaced by `payload` (deflated)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, payload if info.filename == name else src.read(info.filename))
    return out.getvalue()


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size of `name` in the zip's central directory (what readers trust)."""
    at = data.rfind(name.encode()) - 46  # the central directory entry, after the local one
    assert data[at : at + 4] == b"PK\x01\x02"
    return data[: at + 24] + size.to_bytes(4, "little") + data[at + 28 :]


def test_zip_bomb_that_expands(valid):
    bomb = _zip_with(valid, "w.npy", bytes(64 * 2**20))  # 64 MB of zeros, ~64 KB compressed
    assert len(bomb) < 200_000
    assert "would unpack to 64 MB" in message(bomb, max_bytes=CAP)


def test_zip_bomb_that_declares_gigabytes(valid):
    bomb = _declare_size(_zip_with(valid, "w.npy", bytes(2 * 2**20)), "w.npy", 3 * 2**30)
    assert "would unpack to 3.07e+03 MB" in message(bomb, max_bytes=CAP)


def test_member_that_lies_about_its_size_is_not_inflated_past_it(valid):
    # Declares 1 KB, holds 64 MB of zeros: reading stops at 1 KB and the member is damaged.
    liar = _declare_size(_zip_with(valid, "w.npy", bytes(64 * 2**20)), "w.npy", 1024)
    assert "damaged" in message(liar, max_bytes=CAP)


def test_arrays_far_over_the_cap(valid, run):
    T, m, _ = run.w.shape
    big = npz(valid, w=np.zeros((T, m, 40_000)))  # 11 MB of float64 against a 1 MB cap
    assert "The array w would unpack to" in message(big, max_bytes=CAP)
    half = np.zeros(CAP // 8 // 2 + 1000)  # two arrays each under the cap, over it together
    both = _zip_with(_zip_with(valid, "w.npy", _npy(half)), "a.npy", _npy(half))
    assert "in all" in message(both, max_bytes=CAP)


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_pickled_objects(valid):
    evil = np.array([{"x": 1}, None], dtype=object)
    assert message(npz(valid, w=evil)) == "The array w holds Python objects; run files hold numbers only."
    assert "holds Python objects" in message(npz(valid, meta=np.array(["a", 1], dtype=object)))


def test_wrong_shapes(valid, run):
    assert "The array w has shape (6, 6, 3)" in message(npz(valid, w=run.w[:, :, :3]))
    assert "The array mse has shape (5,)" in message(npz(valid, mse=run.mse[:5]))
    assert "The array basis has shape" in message(npz(valid, basis=np.zeros((3, 5))))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf(valid, run, bad):
    w = run.w.copy()
    w[2, 1, 0] = bad
    assert message(npz(valid, w=w)) == "The array w holds NaN or inf."


def test_wrong_dtypes(valid, run):
    assert "should hold integers" in message(npz(valid, step=run.step.astype(float)))
    assert "should hold numbers" in message(npz(valid, a=run.a.astype(str)))
    assert "should be one text" in message(npz(valid, config=np.zeros(3)))


def test_other_schema_version(valid):
    meta = json.loads(str(members(valid)["meta"])) | {"engine_version": "1"}
    text = message(npz(valid, meta=np.array(json.dumps(meta))))
    assert "saved by engine version '1'" in text


def test_missing_member_and_bad_metadata(valid):
    assert "it lacks w" in message(npz(valid, w=None))
    assert "not valid JSON" in message(npz(valid, meta=np.array("{oops")))
    meta = json.loads(str(members(valid)["meta"])) | {"status": "fine"}
    assert "valid status" in message(npz(valid, meta=np.array(json.dumps(meta))))


def test_invalid_config(valid):
    cfg = json.loads(str(members(valid)["config"])) | {"d": "5000"}
    assert "config is not valid here: d: must be" in message(npz(valid, config=np.array(json.dumps(cfg))))


def test_stage_codes_and_huge_values(valid, run):
    assert "codes outside" in message(npz(valid, stage=run.stage + 10))
    assert "beyond" in message(npz(valid, a=run.a * 1e300))


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
)


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op, pos, arg in ops:
        if not b:
            break
        pos %= len(b)
        if op == "flip":
            b[pos] ^= arg
        elif op == "truncate":
            del b[pos:]
        else:
            b[pos:pos] = arg
    return bytes(b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_fuzz_mutated_files_give_a_message_or_a_valid_run(valid, ops):
    data = mutate(valid, ops)
    try:
        run = load_run_bytes(data)
    except UploadError as e:
        assert str(e)
        return
    run.check()
    summary = run.summary()
    assert summary["frames"] == run.n_frames >= 1
