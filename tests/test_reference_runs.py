"""Runs stay bit for bit what they were: a few configs' arrays against values recorded before a refactor.

The references were recorded from commit 92ead13 (NumPy and torch 2.13.0 CPU, the pinned
versions) on the project's test machine. Each recorded array is compared through the SHA-256
of its dtype, shape and bytes, and a few float values per run with ``==``. A change of any
bit here means a change of behaviour: a refactor must not cause one; a deliberate change of
the engine updates ENGINE_VERSION and these references together.
"""

import hashlib
import io

import numpy as np
import pytest

from featviz import engine
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
    # m*(m+k) = 6640 >= engine.NUMPY_BELOW: the torch population state.
    "torch_population": Config(m=80, k=3, d=10, epochs=1, steps=60, frames=12),
    "diverged": Config(lr=3.0, epochs=1, steps=300, frames=20),
}

FIELDS = (
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
            "teacher_w": "77b3ba3b967a01aed1b50069adf3ae0b62a7dc1264ae0dc7bcb7a85307e25205",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "e5fb74355c9eb9d226d31baf5e168218e2c1554365810b6046f44e2d979beddb",
            "step": "4d0aef4ca786a07ca206485fdaee35c28068b1802c8da9d2ea966b7a321ac3dd",
            "stage": "cb26a40c4e860306ba546ca3a9f1f75573e9fe2bd0e56c0f3f4ef7248041f6f7",
            "lam": "a60532f9d02a0d6e01d0b718c420d6e9da6e4248d9c47e04e972d9b6dff6689d",
            "mse": "d511039c132e6b09f0f00d2b4551c52b4a972f53261bbf97ebd3d9394c76af0c",
            "train_loss": "d511039c132e6b09f0f00d2b4551c52b4a972f53261bbf97ebd3d9394c76af0c",
            "objective": "bbb52f368813309da4990b3576675e57f74c2e97612116091adcfcb0ea70831e",
            "w": "8f8beb206412a61dd6541b80962c238f4f3c87b3204e53607780e567bfa92e67",
            "a": "7c7913659057e6d0a851b69e29e9ed47edbebb97a14ffda246ece1104204ed04",
            "alpha": "c4d85438a4b19b337e546cfd08cdffd55dd5f02e6547ee1e0921518c43012a92",
            "beta": "2434e7ee52a419799d83903de12eaa890c7e49c4a427c93e952773fd74098e3a",
        },
        "values": {
            0: DEFAULT_START,
            30: {
                "step": 67,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.08534747979968826,
                "train_loss": 0.08534747979968826,
                "objective": 0.15296004559658422,
                "alpha": 0.1954364323632274,
                "w[0,0]": -0.0010067301311310743,
                "a[0]": -0.08243162940224882,
                "beta[0]": 0.11853145426872999,
            },
            59: {
                "step": 4000,
                "stage": 4,
                "lam": 0.000390625,
                "mse": 1.267189795539636e-06,
                "train_loss": 1.267189795539636e-06,
                "objective": 0.0011706257672433413,
                "alpha": 0.0008537235160923984,
                "w[0,0]": 0.01559266442858213,
                "a[0]": -0.16836830341457137,
                "beta[0]": 0.04200991242203812,
            },
        },
    },
    "paper": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 30,
        "sha256": {
            "teacher_w": "77b3ba3b967a01aed1b50069adf3ae0b62a7dc1264ae0dc7bcb7a85307e25205",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "e5fb74355c9eb9d226d31baf5e168218e2c1554365810b6046f44e2d979beddb",
            "step": "3f24f9705bb5924ed7dd79eda46c41431a3d18c194458796b38f12fe28fb31f7",
            "stage": "640840ea7c34b6b249391bd9fb62cd82856cd9554914b867cac6de8d7c292f45",
            "lam": "f414458f53a9cbc67ed83ea7eff840898a875d9028c3cdbae4ee1ddd213ef957",
            "mse": "1d5baa657d78791d1b76bdffedc1fb0f7c6e52a78f4659ace87e6ba15c1e7082",
            "train_loss": "1d5baa657d78791d1b76bdffedc1fb0f7c6e52a78f4659ace87e6ba15c1e7082",
            "objective": "af0c26bde19ae5d0a38e0aafadb90e8bbb960dc330b6c5a14f844d0c6d66eebe",
            "w": "0990e5191c1cf7bbc0dab80d842f31c221a748336fd0c1036f4b9f5d6811b02a",
            "a": "c2619be151e4deb29b66ed333884cd18e47a8b0bdc37b5b288b5d141c4e6bf46",
            "alpha": "3f51ba4064d78b9eb41ecbf82853018aa4eab3a0a52d2e71b4c6564115a614c7",
            "beta": "5e22b88657d4f153654bf38f829f08a1b5cfefc08c2a77c66b2a29f24f71b2fe",
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
                "mse": 0.12811210523250438,
                "train_loss": 0.12811210523250438,
                "objective": 0.23877246590957268,
                "alpha": -0.04326268034957833,
                "w[0,0]": 0.09848615144520653,
                "a[0]": 0.04563621592658653,
                "beta[0]": 0.20220733050806255,
            },
            29: {
                "step": 402,
                "stage": 3,
                "lam": 0.025,
                "mse": 0.005646655281743129,
                "train_loss": 0.005646655281743129,
                "objective": 0.07053788109310853,
                "alpha": 0.051522894497440665,
                "w[0,0]": 0.014541288442848544,
                "a[0]": 0.1800000414265653,
                "beta[0]": 0.20220733050807038,
            },
        },
    },
    "samples": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 25,
        "sha256": {
            "teacher_w": "77b3ba3b967a01aed1b50069adf3ae0b62a7dc1264ae0dc7bcb7a85307e25205",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "e5fb74355c9eb9d226d31baf5e168218e2c1554365810b6046f44e2d979beddb",
            "step": "dc02868e50121c3d6a6c071cb57685d3ca4709b8a954265cda258da6f87aad7c",
            "stage": "37ecdb218e4972f215df6da6429c0393ebfe2e497e743f56090623b23e62969d",
            "lam": "c78ad0dfe92513b6a60c781bda3dc8cd39c151b38386fe23ce458202f02fd1cc",
            "mse": "a6f7776155d446cd2b4a1dcb0a21c319b59269bbefce83d18adc39762877d340",
            "train_loss": "0cbbc1758582e5dbb0eb218728ed99dae4d891b65149a3d1626cf306bed4d688",
            "objective": "77325d1cc1ab35cccdd477724e65bc0c43659f1d133936060c4d61e8504907ca",
            "w": "b4c6f2397308161c6d088d2b949c2fbe7dbf4e4f1ca54367af28fd877603d87b",
            "a": "d5a236c57e24ce692f2c91ebb49cd083313b8f4f99b1560147648aad10f08132",
            "alpha": "0adb00adec20f75fa5234419886aad1761742934b5608334847d4113db16ea9f",
            "beta": "ff57020f4e5eb1f29ac2144b77f8288ea1ea314c07a71f19e75e57c3574ec04e",
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
            "teacher_w": "f9993c24923a335b08bf8ac4f841861cdb80fe0c9069c6377acb491aa2ca1ee5",
            "teacher_a": "a1a0085bb1886af788e16daa3c7c455b7bb2f15db6e44c76cbb83d9dc4e78e37",
            "basis": "9e6195c4809c04f4d005634d3d912a7b708775b7e99526abeb10a9cec103d5f3",
            "step": "9d4899da7ded8a79436043e84dda73b4f41640be73a316fc7c7d0b314e14a637",
            "stage": "7d03d6cf4cb039713ca04183bceb41ed3fd0105f96a2e14e467390d09bebf686",
            "lam": "b687d68a4d8a416e185652898e4558740eb760d663165a6163b346d04489ac98",
            "mse": "45c53909713d0ce005a2ac77b8621f1779b45f3f9e2cd7edff1a131ef406717a",
            "train_loss": "45c53909713d0ce005a2ac77b8621f1779b45f3f9e2cd7edff1a131ef406717a",
            "objective": "1477ebe4070c433cb022b9f79160391d8fd8e0e97b86d3842f40c9545bb5205e",
            "w": "69f92ac0b9cbcfb6fc8b288773dfd892e194d753c1588b5728b6dbf180f60543",
            "a": "50c8d49caf43c7c5dd6c5b1a37ceab37a872c766b9d419a1d5fe8f1612e01ef2",
            "alpha": "610834bf26c8fed23273d3e6634d286452d25dba7ae78c291fe716ec9b262121",
            "beta": "953a45fa1af17969769d8881657eb668a45b4190478fce47a7c61f1cb1ee4731",
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
                "mse": 0.12247658478801471,
                "train_loss": 0.12247658478801471,
                "objective": 0.14688435908717926,
                "alpha": 0.6330600090921934,
                "w[0,0]": 0.03734913589358286,
                "a[0]": 0.16346443065613878,
                "beta[0]": 0.024108402930847463,
            },
            19: {
                "step": 600,
                "stage": 4,
                "lam": 0.025,
                "mse": 0.0032320935097962245,
                "train_loss": 0.0032320935097962245,
                "objective": 0.04678719598923737,
                "alpha": 0.10284970945280669,
                "w[0,0]": 0.06206492172716596,
                "a[0]": 0.44058647440238624,
                "beta[0]": 0.018391440218096446,
            },
        },
    },
    "symmetric_random": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 20,
        "sha256": {
            "teacher_w": "6edec854b5288f3f8ab56cef6761ad7b14e98c1270dc41f77330ff6078a4baaf",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "1bb3fd5948df7d1bbd1049309f7a1e49e9320e221622d8b2ac6fcf24cac46510",
            "step": "9d4899da7ded8a79436043e84dda73b4f41640be73a316fc7c7d0b314e14a637",
            "stage": "7d03d6cf4cb039713ca04183bceb41ed3fd0105f96a2e14e467390d09bebf686",
            "lam": "b687d68a4d8a416e185652898e4558740eb760d663165a6163b346d04489ac98",
            "mse": "321eb29d6009fffabc39e3112133325b4a77cb35427dfda5acf22613afea8edf",
            "train_loss": "321eb29d6009fffabc39e3112133325b4a77cb35427dfda5acf22613afea8edf",
            "objective": "9df8e7cb4a8ccab8c9c522a7d275753b361d8c50c9af46ce2955e6b7626ca7f9",
            "w": "acad9f29dffad3cb879b10b454e842079537e4b1d460fe0bc612b17329567e41",
            "a": "d705dddc32b18024a18a307bfff5845b6639dbe4254e1181112f0eae7a73f6e7",
            "alpha": "0ce159e5c02f4041be3771cebcc37a0e3c0a6eca75f6a664d631b98c02636c70",
            "beta": "9a581023f0abf10dcfc41b736da094edd236070293b862194f30ab5bbc71ec75",
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
                "w[0,0]": 0.01706239689908156,
                "a[0]": 0.17056236937709582,
                "beta[0]": 0.13106164866399966,
            },
            19: {
                "step": 600,
                "stage": 4,
                "lam": 0.025,
                "mse": 0.005119947653369983,
                "train_loss": 0.005119947653369983,
                "objective": 0.06988023944799297,
                "alpha": 0.053153152315654546,
                "w[0,0]": -0.0013070455894594504,
                "a[0]": 0.5325626094410683,
                "beta[0]": 0.08719197482526322,
            },
        },
    },
    "torch_population": {
        "status": "ok",
        "diverged_step": -1,
        "n_frames": 12,
        "sha256": {
            "teacher_w": "77b3ba3b967a01aed1b50069adf3ae0b62a7dc1264ae0dc7bcb7a85307e25205",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "e5fb74355c9eb9d226d31baf5e168218e2c1554365810b6046f44e2d979beddb",
            "step": "5a212ef3191bd663028fccf9061b42cc66d909d379eac9c7ff8113e5937484ee",
            "stage": "827b604f16dbf38ad5e9860f98ca9fd698c0984935ecf2a372479550bc0e2aae",
            "lam": "70a18d7fd0307abdc8eb02e0ce6dcd06aa640211a3c65b7c3da3da212b36985a",
            "mse": "474a1d960839b639bd0fdf8b4b7348c947e0a3326a13ff63e66cf0dddc7533c4",
            "train_loss": "474a1d960839b639bd0fdf8b4b7348c947e0a3326a13ff63e66cf0dddc7533c4",
            "objective": "a8c0faf5addca99e402c79a1a2faa9f4d487370644de39103a0c7f8a634629c2",
            "w": "360df1052f58e13e649b26e180f139f5437bad0c7e29ddd5696ee3920b680670",
            "a": "e0acfe5b9722d3ae29760a5ef173cf2e6ddf796aff9cd48514851afbf0fa7169",
            "alpha": "443c724b3051126cf53b008c44876ad87a5dfb35cecf0030d3517c7d0515003d",
            "beta": "f1ae391ba21c327a07c0b2ad933c4d5725ad6d53d678131774f4849a288716b6",
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
                "mse": 0.22437940993934846,
                "train_loss": 0.22437940993934846,
                "objective": 0.26777279688292266,
                "alpha": 0.23100676473829201,
                "w[0,0]": -0.04115277891427192,
                "a[0]": -0.0784304891081086,
                "beta[0]": 0.17603347219915966,
            },
            11: {
                "step": 60,
                "stage": 4,
                "lam": 0.05,
                "mse": 0.05878831495664327,
                "train_loss": 0.05878831495664327,
                "objective": 0.14345835025046264,
                "alpha": 0.13104192724194433,
                "w[0,0]": -0.007120375800481323,
                "a[0]": -0.0707305255205297,
                "beta[0]": 0.13289716439924082,
            },
        },
    },
    "diverged": {
        "status": "diverged",
        "diverged_step": 4,
        "n_frames": 4,
        "sha256": {
            "teacher_w": "77b3ba3b967a01aed1b50069adf3ae0b62a7dc1264ae0dc7bcb7a85307e25205",
            "teacher_a": "67d45f611f432b9172aabfa5587d94339bb51f409dea5da3e4d066feedd46e6f",
            "basis": "e5fb74355c9eb9d226d31baf5e168218e2c1554365810b6046f44e2d979beddb",
            "step": "cad1ae4803cc827db3648b679d3bef098fe2e74ad9bf07a715fb0bd6a57263e9",
            "stage": "ca8eb28064a97691cdb0c6a12786ea1420a93cf6ad79b828f8bb1ac709817f86",
            "lam": "c78ea19eb97e7f5d24846fe5dbefd4d90d275f5cc29c5818f049e7ab30a5f284",
            "mse": "713d6faf17c8b771cd899af5821dd4908ecf066447708ed8fddab0a5b0d9298b",
            "train_loss": "713d6faf17c8b771cd899af5821dd4908ecf066447708ed8fddab0a5b0d9298b",
            "objective": "1068f5e67e2a9112690f2d9513f798772b4480bdb68cb646b918a4025fd018e4",
            "w": "2ebc5c858d46dce43acd0b1fd77d8d9ce9d89119f072d5733048186db1a51fb9",
            "a": "5d07f382ea8bbaf741fe10c7a842f3a25d1e12d310534972fef2896bc5494c59",
            "alpha": "1c60cf7b1398a4245bb0ed4191a7233f0a41ac02bd88a088ab2a594127a251ce",
            "beta": "2262ea6c61792d87d9f314c55d757681c53f9a6f302df409c2bb94b69083a7f6",
        },
        "values": {
            0: DEFAULT_START,
            2: {
                "step": 2,
                "stage": 4,
                "lam": 0.05,
                "mse": 63488.737799679926,
                "train_loss": 63488.737799679926,
                "objective": 63511.79596957779,
                "alpha": -12.314098220656003,
                "w[0,0]": -0.14708670017880499,
                "a[0]": 2.017980073243602,
                "beta[0]": -4.996871051860138,
            },
            3: {
                "step": 3,
                "stage": 4,
                "lam": 0.05,
                "mse": 9.718286008426984e16,
                "train_loss": 9.718286008426984e16,
                "objective": 9.718286010985994e16,
                "alpha": 943.8066153496727,
                "w[0,0]": -485.5801531613486,
                "a[0]": 726.0509527440253,
                "beta[0]": -225.79062937216975,
            },
        },
    },
}


def test_the_configs_cover_each_state_and_algorithm():
    assert not engine.needs_torch(CONFIGS["default_gd"])
    assert engine.needs_torch(CONFIGS["torch_population"]) and CONFIGS["torch_population"].data == "population"
    assert engine.needs_torch(CONFIGS["samples"])
    assert set(REFERENCE) == set(CONFIGS)


@pytest.fixture(scope="module", params=list(CONFIGS))
def trained(request):
    return request.param, engine.train(CONFIGS[request.param])


def test_run_is_bit_identical_to_the_reference(trained):
    name, run = trained
    ref = REFERENCE[name]
    assert (run.status, run.diverged_step, run.n_frames) == (ref["status"], ref["diverged_step"], ref["n_frames"])
    assert {f: digest(getattr(run, f)) for f in FIELDS} == ref["sha256"]
    for i, values in ref["values"].items():
        got = {
            "step": int(run.step[i]),
            "stage": int(run.stage[i]),
            "lam": float(run.lam[i]),
            "mse": float(run.mse[i]),
            "train_loss": float(run.train_loss[i]),
            "objective": float(run.objective[i]),
            "alpha": float(run.alpha[i]),
            "w[0,0]": float(run.w[i, 0, 0]),
            "a[0]": float(run.a[i, 0]),
            "beta[0]": float(run.beta[i, 0]),
        }
        assert got == values, f"frame {i}"


# The .npz of the "paper" run (train_seconds set to 0.25): its members in order, and the digest
# of every member but the metrics (those belong to featviz.metrics, which has its own tests).
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
    **REFERENCE["paper"]["sha256"],  # the run's recorded arrays, stored byte for byte
}


def test_saved_run_file_is_unchanged():
    run = engine.train(CONFIGS["paper"])
    run.train_seconds = 0.25
    with np.load(io.BytesIO(run.to_npz_bytes()), allow_pickle=False) as z:
        assert z.files == NPZ_MEMBERS
        assert {name: digest(z[name]) for name in NPZ_SHA256} == NPZ_SHA256
