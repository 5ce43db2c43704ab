"""Runs stay what they were: a few configs' arrays against values recorded before a refactor.

The references were recorded with ENGINE_VERSION 3 (the numba kernel, featviz.kernel; NumPy
and torch 2.13.0 CPU, the pinned versions). What no CPU can change is compared exactly: the
status, the step and stage of every frame, the λ schedule and a* (SHA-256 of their dtype, shape
and bytes). Floats are compared with a relative tolerance of FLOAT_RTOL at a few frames: their
last bits depend on the CPU, since NumPy's reductions, LAPACK/OpenBLAS and torch pick their SIMD
code by it (recorded on an AVX2 machine, checked on an AVX-512 one: up to 7e-14 apart).
On a CPU whose SIMD code was recorded (tests/data/reference_bits.json, keyed by cpu_key()) every
array must also match bit for bit; record a new CPU with `PYTHONPATH=. python tests/test_reference_runs.py`.
On one machine a run is the same bit for bit, whatever the threads (tests/test_kernel.py,
test_engine.py, test_batch.py). A deliberate change of the engine updates ENGINE_VERSION and
these references together.
"""

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from featviz import engine, kernel
from featviz.config import Config

CONFIGS = {
    "default_gd": Config(),
    "paper": Config(algo="paper", m=20, epochs=2, steps=200, frames=30),
    "samples": Config(data="samples", n=200, m=10, epochs=2, steps=150, frames=25),
    "planar_k2": Config(
        d=3, k=2, teachers="planar", angles=(0.0, 60.0), a_star=(1.0, 1.0), m=12, epochs=2, steps=300, frames=20
    ),
    "symmetric_random": Config(
        symmetric="yes", teachers="random", sep=30.0, m=16, epochs=2, steps=300, frames=20, seed=3
    ),
    # Trained by the torch population state up to engine version 2; now by the kernel's inline variant.
    "torch_population": Config(m=80, k=3, d=10, epochs=1, steps=60, frames=12),
    # m*(m+k)*d = 418,500 > kernel.BLAS_ABOVE: the kernel's blas variant, with a λ schedule.
    "blas_population": Config(d=50, m=90, k=3, epochs=2, steps=40, frames=10, lam=0.02, lam_decay=0.5),
    "diverged": Config(lr=3.0, epochs=1, steps=300, frames=20),
}

FIELDS = (  # a Run's recorded arrays
    "teacher_w",
    "teacher_a",
    "basis",
    "step",
    "stage",
    "lam",
    "mse",
    "train_loss",
    "objective",
    "w",
    "a",
    "alpha",
    "beta",
)


EXACT_FIELDS = ("teacher_a", "step", "stage", "lam")  # the same bytes on every CPU
FLOAT_RTOL = 1e-11  # |got - recorded| <= FLOAT_RTOL * max(|recorded|, 1)


BITS = Path(__file__).parent / "data" / "reference_bits.json"  # cpu_key() -> config -> field -> SHA-256


def cpu_key() -> str:
    """What picks the SIMD code of NumPy, OpenBLAS, torch and numba here, e.g.
    "numpy 2.4.6 AVX512_ICL|openblas SkylakeX|torch AVX512|llvm znver4"."""
    import llvmlite.binding as llvm
    import threadpoolctl
    import torch
    from numpy._core._multiarray_umath import __cpu_features__ as features

    simd = [
        f for f in ("AVX512_SPR", "AVX512_ICL", "AVX512_SKX", "AVX512F", "AVX2", "FMA3", "SSE42") if features.get(f)
    ]
    blas = sorted(
        f"{i['internal_api']} {i.get('architecture')}"
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas"
    )
    return "|".join(
        [
            f"numpy {np.__version__} {simd[0] if simd else 'baseline'}",
            *blas,
            f"torch {torch.backends.cpu.get_cpu_capability()}",
            f"llvm {llvm.get_host_cpu_name()}",
        ]
    )


def run_digests(run) -> dict:
    return {f: digest(getattr(run, f)) for f in FIELDS}


def digest(arr: np.ndarray) -> str:
    a = np.ascontiguousarray(arr)
    return hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).hexdigest()


# Frame 0 of every run with the default teacher, student and seed: the initial state, before any step.
DEFAULT_START = {
    "step": 0,
    "stage": 0,
    "lam": 0.05,
    "mse": 1.1660241347910318,
    "train_loss": 1.1660241347910318,
    "objective": 1.1810241347910317,
    "alpha": 0.0,
    "w[0,0]": -0.04587958568971512,
    "a[0]": -0.1,
    "beta[0]": 0.0,
}

REFERENCE = {
    "default_gd": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 60,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "4d0aef4ca786a07ca206485fdaee35c28068b1802c8da9d2ea966b7a321ac3dd",
            "stage": "cb26a40c4e860306ba546ca3a9f1f75573e9fe2bd0e56c0f3f4ef7248041f6f7",
            "lam": "a60532f9d02a0d6e01d0b718c420d6e9da6e4248d9c47e04e972d9b6dff6689d",
        },
        "values": {
            0: DEFAULT_START,
            30: {
                "step": 67,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.08534747979968837,
                "train_loss": 0.08534747979968837,
                "objective": 0.15296004559658433,
                "alpha": 0.19543643236322747,
                "w[0,0]": -0.0010067301311310595,
                "a[0]": -0.08243162940224887,
                "beta[0]": 0.11853145426872999,
            },
            59: {
                "step": 4000,
                "stage": 4,
                "lam": 0.000390625,
                "mse": 1.267189795282897e-06,
                "train_loss": 1.267189795282897e-06,
                "objective": 0.0011706257672431542,
                "alpha": 0.0008537235162020893,
                "w[0,0]": 0.015592664428417845,
                "a[0]": -0.16836830341292083,
                "beta[0]": 0.042009912422102544,
            },
        },
    },
    "paper": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 30,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "3f24f9705bb5924ed7dd79eda46c41431a3d18c194458796b38f12fe28fb31f7",
            "stage": "640840ea7c34b6b249391bd9fb62cd82856cd9554914b867cac6de8d7c292f45",
            "lam": "f414458f53a9cbc67ed83ea7eff840898a875d9028c3cdbae4ee1ddd213ef957",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.05,
                "mse": 1.181690113816209,
                "train_loss": 1.181690113816209,
                "objective": 1.191690113816209,
                "alpha": 0.0,
                "w[0,0]": -0.04587958568971512,
                "a[0]": -0.1,
                "beta[0]": 0.0,
            },
            15: {
                "step": 19,
                "stage": 3,
                "lam": 0.05,
                "mse": 0.12811210523250416,
                "train_loss": 0.12811210523250416,
                "objective": 0.23877246590957246,
                "alpha": -0.04326268034957829,
                "w[0,0]": 0.09848615144520653,
                "a[0]": 0.045636215926586496,
                "beta[0]": 0.20220733050806255,
            },
            29: {
                "step": 402,
                "stage": 3,
                "lam": 0.025,
                "mse": 0.005646655281743684,
                "train_loss": 0.005646655281743684,
                "objective": 0.0705378810931085,
                "alpha": 0.05152289449745335,
                "w[0,0]": 0.014541288442848443,
                "a[0]": 0.1800000414265635,
                "beta[0]": 0.20220733050807022,
            },
        },
    },
    "samples": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 25,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "dc02868e50121c3d6a6c071cb57685d3ca4709b8a954265cda258da6f87aad7c",
            "stage": "37ecdb218e4972f215df6da6429c0393ebfe2e497e743f56090623b23e62969d",
            "lam": "c78ad0dfe92513b6a60c781bda3dc8cd39c151b38386fe23ce458202f02fd1cc",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.05,
                "mse": 1.188822078965996,
                "train_loss": 0.914904039996609,
                "objective": 0.919904039996609,
                "alpha": 0.0,
                "w[0,0]": -0.04587958568971512,
                "a[0]": -0.1,
                "beta[0]": 0.0,
            },
            12: {
                "step": 16,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.2781759069836831,
                "train_loss": 0.2388522026933179,
                "objective": 0.2437571468186653,
                "alpha": 0.33997293078240276,
                "w[0,0]": -0.04092219610494491,
                "a[0]": -0.07245117996989103,
                "beta[0]": 0.16750079556307418,
            },
            24: {
                "step": 300,
                "stage": 4,
                "lam": 0.025,
                "mse": 0.014168365853689191,
                "train_loss": 0.007994796638050878,
                "objective": 0.06915020878177287,
                "alpha": 0.07007828751144708,
                "w[0,0]": 0.02329198702097613,
                "a[0]": -0.25250030089266606,
                "beta[0]": 0.07357875924827378,
            },
        },
    },
    "planar_k2": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 20,
        "sha256": {
            "teacher_a": "a1a0085bb1886af788e16daa3c7c455b7bb2f15db6e44c76cbb83d9dc4e78e37",
            "step": "9d4899da7ded8a79436043e84dda73b4f41640be73a316fc7c7d0b314e14a637",
            "stage": "7d03d6cf4cb039713ca04183bceb41ed3fd0105f96a2e14e467390d09bebf686",
            "lam": "b687d68a4d8a416e185652898e4558740eb760d663165a6163b346d04489ac98",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.05,
                "mse": 1.5965625384980433,
                "train_loss": 1.5965625384980433,
                "objective": 1.6025625384980433,
                "alpha": 0.0,
                "w[0,0]": 0.074150520420252,
                "a[0]": 0.1,
                "beta[0]": 0.0,
            },
            10: {
                "step": 28,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.1224765847880146,
                "train_loss": 0.1224765847880146,
                "objective": 0.14688435908717914,
                "alpha": 0.6330600090921934,
                "w[0,0]": 0.03734913589358284,
                "a[0]": 0.1634644306561388,
                "beta[0]": 0.02410840293084747,
            },
            19: {
                "step": 600,
                "stage": 4,
                "lam": 0.025,
                "mse": 0.0032320935097963077,
                "train_loss": 0.0032320935097963077,
                "objective": 0.046787195989237376,
                "alpha": 0.10284970945280764,
                "w[0,0]": 0.06206492172716571,
                "a[0]": 0.4405864744023758,
                "beta[0]": 0.018391440218101296,
            },
        },
    },
    "symmetric_random": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 20,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "9d4899da7ded8a79436043e84dda73b4f41640be73a316fc7c7d0b314e14a637",
            "stage": "7d03d6cf4cb039713ca04183bceb41ed3fd0105f96a2e14e467390d09bebf686",
            "lam": "b687d68a4d8a416e185652898e4558740eb760d663165a6163b346d04489ac98",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.05,
                "mse": 1.0601038314528508,
                "train_loss": 1.0601038314528508,
                "objective": 1.0681038314528508,
                "alpha": 0.0,
                "w[0,0]": -0.022744110794060562,
                "a[0]": 0.1,
                "beta[0]": 0.0,
            },
            10: {
                "step": 28,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.24032423314285856,
                "train_loss": 0.24032423314285856,
                "objective": 0.2538532977274568,
                "alpha": 0.36643484773766555,
                "w[0,0]": 0.017062396899081556,
                "a[0]": 0.1705623693770958,
                "beta[0]": 0.13106164866399966,
            },
            19: {
                "step": 600,
                "stage": 4,
                "lam": 0.025,
                "mse": 0.005119947653370094,
                "train_loss": 0.005119947653370094,
                "objective": 0.06988023944799314,
                "alpha": 0.05315315231565469,
                "w[0,0]": -0.0013070455894597288,
                "a[0]": 0.5325626094410686,
                "beta[0]": 0.08719197482526164,
            },
        },
    },
    "torch_population": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 12,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "5a212ef3191bd663028fccf9061b42cc66d909d379eac9c7ff8113e5937484ee",
            "stage": "827b604f16dbf38ad5e9860f98ca9fd698c0984935ecf2a372479550bc0e2aae",
            "lam": "70a18d7fd0307abdc8eb02e0ce6dcd06aa640211a3c65b7c3da3da212b36985a",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.05,
                "mse": 1.1391503119021473,
                "train_loss": 1.1391503119021473,
                "objective": 1.1791503119021474,
                "alpha": 0.0,
                "w[0,0]": -0.04587958568971512,
                "a[0]": -0.1,
                "beta[0]": 0.0,
            },
            6: {
                "step": 8,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.22437940993934857,
                "train_loss": 0.22437940993934857,
                "objective": 0.26777279688292277,
                "alpha": 0.23100676473829204,
                "w[0,0]": -0.04115277891427192,
                "a[0]": -0.07843048910810857,
                "beta[0]": 0.17603347219915966,
            },
            11: {
                "step": 60,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.05878831495664344,
                "train_loss": 0.05878831495664344,
                "objective": 0.14345835025046277,
                "alpha": 0.13104192724194436,
                "w[0,0]": -0.00712037580048135,
                "a[0]": -0.07073052552052957,
                "beta[0]": 0.13289716439924082,
            },
        },
    },
    "blas_population": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 10,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "7fabe434f1891ce8868aab321a297c77347ed1ce7afdca47468057177d9bdd36",
            "stage": "4a025d5a72a982d59e00355bc4249024e674f7cfa6d909921f2add5217241239",
            "lam": "2080e7f966b0b3daadf06b7704225354bf4a509b5c86e93e1bb0dcd7459f2fe2",
        },
        "values": {
            0: {
                "step": 0,
                "stage": 0,
                "lam": 0.02,
                "mse": 1.1399730147261948,
                "train_loss": 1.1399730147261948,
                "objective": 1.1579730147261948,
                "alpha": 0.0,
                "w[0,0]": -0.004240384087510314,
                "a[0]": -0.1,
                "beta[0]": 0.0,
            },
            5: {
                "step": 10,
                "stage": 4,
                "lam": 0.02,
                "mse": 0.24917822681448953,
                "train_loss": 0.24917822681448953,
                "objective": 0.2689057449669245,
                "alpha": 0.2549019796002212,
                "w[0,0]": -0.005420184104764861,
                "a[0]": -0.08772007417499061,
                "beta[0]": 0.04051717233144495,
            },
            9: {
                "step": 80,
                "stage": 4,
                "lam": 0.01,
                "mse": 0.011189391637840884,
                "train_loss": 0.011189391637840884,
                "objective": 0.03745463017896851,
                "alpha": 0.09110033948701672,
                "w[0,0]": -0.004647835214277434,
                "a[0]": -0.08058342539071489,
                "beta[0]": 0.019239653929288187,
            },
        },
    },
    "diverged": {
        "status": "diverged",
        "diverged_step": 4,
        "n_frames": 4,
        "sha256": {
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "step": "cad1ae4803cc827db3648b679d3bef098fe2e74ad9bf07a715fb0bd6a57263e9",
            "stage": "ca8eb28064a97691cdb0c6a12786ea1420a93cf6ad79b828f8bb1ac709817f86",
            "lam": "c78ea19eb97e7f5d24846fe5dbefd4d90d275f5cc29c5818f049e7ab30a5f284",
        },
        "values": {
            0: DEFAULT_START,
            2: {
                "step": 2,
                "stage": 4,
                "lam": 0.05,
                "mse": 63488.737799679955,
                "train_loss": 63488.737799679955,
                "objective": 63511.79596957782,
                "alpha": -12.314098220656003,
                "w[0,0]": -0.14708670017880493,
                "a[0]": 2.0179800732436015,
                "beta[0]": -4.996871051860138,
            },
            3: {
                "step": 3,
                "stage": 4,
                "lam": 0.05,
                "mse": 9.718286008426997e16,
                "train_loss": 9.718286008426997e16,
                "objective": 9.718286010986006e16,
                "alpha": 943.8066153496727,
                "w[0,0]": -485.5801531613486,
                "a[0]": 726.050952744025,
                "beta[0]": -225.79062937216986,
            },
        },
    },
}


def test_the_configs_cover_each_state_and_algorithm():
    assert not engine.needs_torch(CONFIGS["default_gd"]) and engine.needs_torch(CONFIGS["samples"])
    sizes = [(c.m, c.k, c.d) for c in CONFIGS.values() if c.data == "population"]
    assert {kernel.uses_blas(*size) for size in sizes} == {False, True}  # both variants of the kernel
    assert set(REFERENCE) == set(CONFIGS)


@pytest.fixture(scope="module", params=list(CONFIGS))
def trained(request):
    return request.param, engine.train(CONFIGS[request.param])


def test_run_matches_the_reference(trained):
    name, run = trained
    ref = REFERENCE[name]
    assert (run.status, run.diverged_step, run.n_frames) == (ref["status"], ref["diverged_step"], ref["n_frames"])
    assert {f: digest(getattr(run, f)) for f in EXACT_FIELDS} == ref["sha256"]
    for i, values in ref["values"].items():
        assert (int(run.step[i]), int(run.stage[i]), float(run.lam[i])) == (
            values["step"],
            values["stage"],
            values["lam"],
        ), f"frame {i}"
        got = {
            "mse": float(run.mse[i]),
            "train_loss": float(run.train_loss[i]),
            "objective": float(run.objective[i]),
            "alpha": float(run.alpha[i]),
            "w[0,0]": float(run.w[i, 0, 0]),
            "a[0]": float(run.a[i, 0]),
            "beta[0]": float(run.beta[i, 0]),
        }
        far = {k: (v, values[k]) for k, v in got.items() if abs(v - values[k]) > FLOAT_RTOL * max(abs(values[k]), 1.0)}
        assert not far, f"frame {i}: (got, recorded) {far}"
    bits = json.loads(BITS.read_text()).get(cpu_key())
    if bits is not None:  # a CPU recorded before: every array bit for bit
        assert run_digests(run) == bits[name]


def test_bits_are_recorded_for_every_config():
    recorded = json.loads(BITS.read_text())
    assert recorded and all(set(configs) == set(CONFIGS) for configs in recorded.values())
    assert all(set(fields) == set(FIELDS) for configs in recorded.values() for fields in configs.values())


# The .npz of the "paper" run (train_seconds set to 0.25): its members in order, the digests of
# its config, meta and exact arrays, and the run's float arrays stored byte for byte.
NPZ_MEMBERS = [
    "config",
    "meta",
    *FIELDS,
    "mass",
    "nearest",
    "line_angle_deg",
    "fate",
    "captured",
    "far_mass",
    "total_mass",  # saved since the figures show it (total mass against sum |a*_i|)
    "counts",
    "balance",
    "orth_norm",
]
NPZ_SHA256 = {
    "config": "55cc0d41ae5049647cb0244432b53d3e210f9938a1749082ae1fd2eddc40887d",
    "meta": "8f64309868f3c9b4894e292ee1d4ffc2bf2638320735efc95dbcff31d99571f3",
    **REFERENCE["paper"]["sha256"],
}


def test_saved_run_file_is_unchanged():
    run = engine.train(CONFIGS["paper"])
    run.train_seconds = 0.25
    with np.load(io.BytesIO(run.to_npz_bytes()), allow_pickle=False) as z:
        assert z.files == NPZ_MEMBERS
        assert {name: digest(z[name]) for name in NPZ_SHA256} == NPZ_SHA256
        for name in FIELDS:
            assert digest(z[name]) == digest(getattr(run, name)), name


# ---- engine version 3 against version 2 ------------------------------------------------------

# Engine version 2 trained the population loss in NumPy (small) or torch (large); version 3 in the
# numba kernel. Its runs' arrays (tests/data/reference_runs_engine2.npz: the per-frame scalars in
# full, w, a, beta at a few frames; not the sampled run, which did not change) against today's:
# the largest normwise relative difference, max |new - old| / max |old| per array, measured at
# 3.4e-12 (default_gd's a, 4000 steps).
ENGINE2 = Path(__file__).parent / "data" / "reference_runs_engine2.npz"
ENGINE2_RTOL = 1e-11


@pytest.mark.parametrize("name", [name for name in CONFIGS if name != "samples"])
def test_runs_agree_with_engine_version_2(name):
    run = engine.train(CONFIGS[name])
    with np.load(ENGINE2) as old:
        frames = old[f"{name}/frames"]
        for field in ("lam", "mse", "train_loss", "objective", "alpha", "w", "a", "beta"):
            new = getattr(run, field)
            new = new[frames] if field in ("w", "a", "beta") else new
            want = old[f"{name}/{field}"]
            assert new.shape == want.shape, field
            err = np.max(np.abs(new - want)) / max(np.max(np.abs(want)), 1e-300)
            assert err <= ENGINE2_RTOL, (field, err)


if __name__ == "__main__":  # PYTHONPATH=. python tests/test_reference_runs.py: record this CPU's bits
    recorded = json.loads(BITS.read_text()) if BITS.exists() else {}
    recorded[cpu_key()] = {name: run_digests(engine.train(cfg)) for name, cfg in CONFIGS.items()}
    BITS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"{BITS}: recorded {cpu_key()}")
