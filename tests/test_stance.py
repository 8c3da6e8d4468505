"""Tests for the stance classifier and the adapter it loads, on tiny models built in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_STANCE_MODEL
from pipeline.errors import ConfigError, ModelLoadError
from pipeline.nlp.protocols import StanceModel
from pipeline.nlp.stance import (
    NliClassifier,
    label_indices,
    load_stance_classifier,
    stance_for_label,
)
from pipeline.train.pack import build_pack
from pipeline.train.stance import make_recipe, train_stance
from tests.conftest import tiny_bert

DATASETS = Path(__file__).parent / "data" / "datasets"

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    ".", ",", "%", "-", "the", "a", "of", "in", "by", "with", "and", "did", "not", "was",
    "were", "masks", "mask", "reduce", "reduced", "virus", "covid", "19", "sars", "cov", "2",
    "vitamin", "d", "statins", "statin", "lower", "lowered", "ldl", "cholesterol", "aspirin",
    "trial", "saliva", "tests", "detect", "fluoride", "prevents", "tooth", "decay", "coffee",
    "causes", "##s", "##ed", "##ing", "##ly",
]  # fmt: skip
PAIRS = [
    ("Masks reduce virus.", "Masks reduced the virus in a trial."),
    ("Vitamin D lowers cholesterol.", "Statins lowered LDL cholesterol by 40%."),
]


@pytest.fixture(scope="session")
def tiny_nli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ready-made NLI model with labels in an order no stance code assumes."""
    return tiny_bert(
        tmp_path_factory.mktemp("nli"),
        VOCAB,
        {0: "entailment", 1: "neutral", 2: "contradiction"},
    )


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare tiny encoder, standing in for MiniLM as the adapter's base."""
    return tiny_bert(tmp_path_factory.mktemp("base"), VOCAB)


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path) -> Path:
    """An adapter trained for one epoch on the dataset fixtures."""
    out = tmp_path_factory.mktemp("adapter") / "stance"
    result = train_stance(
        build_pack(DATASETS, selector=None),
        out,
        _tiny_recipe(tiny_base),
        checkpoint_dir=out.with_name("ckpt"),
        threads=1,
        command="pytest",
    )
    assert [s["steps"] for s in result["stages"]] == [s["planned_steps"] for s in result["stages"]]
    assert all(s["steps"] > 0 for s in result["stages"])
    return out


def _tiny_recipe(base: Path, lr: float = 1e-3, **extra: object) -> object:
    return make_recipe(
        base_model=str(base),
        epochs=(1,),
        lr=lr,
        lora_r=2,
        batch_size=4,
        max_length=32,
        passage_max_length=48,
        **extra,  # type: ignore[arg-type]
    )


def _assert_probabilities(probs: list[tuple[float, float, float]], n: int) -> None:
    assert len(probs) == n
    for row in probs:
        assert len(row) == 3
        assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in row)
        assert sum(row) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("entailment", "supports"),
        ("SUPPORT", "supports"),
        ("CONTRADICTION", "refutes"),
        ("refutes", "refutes"),
        ("neutral", "neutral"),
        ("NOT_ENOUGH_INFO", "neutral"),
        ("not enough info", "neutral"),
        ("LABEL_0", None),
    ],
)
def test_stance_for_label_names(name: str, expected: str | None) -> None:
    stance = stance_for_label(name)
    assert (stance.value if stance else None) == expected


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "entailment", 1: "neutral", 2: "contradiction"}, (0, 2, 1)),
        ({0: "contradiction", 1: "entailment", 2: "neutral"}, (1, 0, 2)),
        ({"0": "REFUTES", "1": "NEI", "2": "SUPPORTS"}, (2, 0, 1)),
    ],
)
def test_label_indices_by_name(id2label: dict[int, str], expected: tuple[int, int, int]) -> None:
    assert label_indices(id2label) == expected


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        {0: "entailment", 1: "not_entailment"},
        {0: "entailment", 1: "support", 2: "neutral"},
    ],
)
def test_label_indices_rejects_non_nli(id2label: dict[int, str]) -> None:
    with pytest.raises(ModelLoadError, match="id2label"):
        label_indices(id2label)


def test_load_ready_made_nli_scores(tiny_nli: Path) -> None:
    classifier = load_stance_classifier(str(tiny_nli))
    assert isinstance(classifier, StanceModel)
    assert isinstance(classifier, NliClassifier)
    assert classifier.indices == (0, 2, 1)
    _assert_probabilities(classifier.predict(PAIRS, batch_size=1), len(PAIRS))
    assert classifier.predict([]) == []


def test_load_is_cached(tiny_nli: Path) -> None:
    assert load_stance_classifier(str(tiny_nli)) is load_stance_classifier(str(tiny_nli))


def test_postprocess_reads_labels_by_name(tiny_nli: Path) -> None:
    import numpy as np

    classifier = load_stance_classifier(str(tiny_nli))
    assert isinstance(classifier, NliClassifier)
    # Logit index 2 is "contradiction" in this model, so it must come out as refutes.
    probs = classifier.postprocess(np.array([[0.0, 0.0, 8.0], [8.0, 0.0, 0.0]]))
    assert max(range(3), key=lambda i: probs[0][i]) == 1
    assert max(range(3), key=lambda i: probs[1][i]) == 0


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_load_bad_path_raises_model_load_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nothing-here"
    if kind == "empty":
        path.mkdir()
    with pytest.raises(ModelLoadError, match="claimscan train stance"):
        load_stance_classifier(str(path))


def test_train_stance_writes_loadable_adapter(tiny_adapter: Path, tiny_base: Path) -> None:
    names = {p.name for p in tiny_adapter.iterdir()}
    assert names == {
        "adapter_config.json",
        "adapter_model.safetensors",
        "stance.json",
        "MODEL_CARD.md",
    }
    meta = json.loads((tiny_adapter / "stance.json").read_text())
    assert meta["labels"] == ["supports", "refutes", "neutral"]
    assert meta["temperature"] > 0
    # No temp or backup directories are left beside the output.
    assert [p.name for p in tiny_adapter.parent.iterdir() if p.name.startswith(".")] == []

    classifier = load_stance_classifier(str(tiny_adapter), str(tiny_base))
    _assert_probabilities(classifier.predict(PAIRS), len(PAIRS))
    # Reports name the model, never a local path.
    assert classifier.name == tiny_adapter.name


def test_train_stance_leaves_pooler_frozen(tiny_adapter: Path) -> None:
    # Regression: LoRA on BERT's pooler ("dense" too) collapsed the first MiniLM run
    # to constant logits; the adapter must hold encoder LoRA and the head, no pooler.
    from safetensors import safe_open

    with safe_open(str(tiny_adapter / "adapter_model.safetensors"), "pt") as fh:
        keys = list(fh.keys())
    assert not [k for k in keys if "pooler" in k]
    assert any("encoder.layer.0.attention.self.query.lora_A" in k for k in keys)
    assert any("intermediate.dense.lora_B" in k for k in keys)
    assert any("classifier" in k for k in keys)


def test_train_stance_resumes_finished_checkpoint(tiny_adapter: Path, tiny_base: Path) -> None:
    result = train_stance(
        build_pack(DATASETS, selector=None),
        tiny_adapter,
        _tiny_recipe(tiny_base),  # type: ignore[arg-type]
        checkpoint_dir=tiny_adapter.with_name("ckpt"),
        threads=1,
    )
    # Both stages come back finished from their checkpoints, without training again.
    assert [s["steps"] for s in result["stages"]] == [s["planned_steps"] for s in result["stages"]]
    assert (tiny_adapter / "stance.json").is_file()


def test_train_stance_partial_label_counts_refutes_and_neutral() -> None:
    import torch

    from pipeline.train.stance import _loss

    weights = torch.ones(3)
    # FEVER's not_entailment (-1) is satisfied by refutes or neutral, not by supports.
    good = _loss(torch.tensor([[-5.0, 2.0, 2.0]]), torch.tensor([-1]), weights)
    bad = _loss(torch.tensor([[5.0, -2.0, -2.0]]), torch.tensor([-1]), weights)
    assert good.item() < 0.01 < 5 < bad.item()


def test_train_stance_refuses_other_recipe_checkpoint(tiny_adapter: Path, tiny_base: Path) -> None:
    with pytest.raises(ConfigError, match="another recipe"):
        train_stance(
            build_pack(DATASETS, selector=None),
            tiny_adapter.with_name("other"),
            _tiny_recipe(tiny_base, lr=5e-4),  # type: ignore[arg-type]
            checkpoint_dir=tiny_adapter.with_name("ckpt"),
            threads=1,
        )


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEFAULT_STANCE_MODEL / "stance.json").is_file(), reason="no shipped stance adapter"
)
def test_shipped_adapter_classifies() -> None:
    classifier = load_stance_classifier(str(DEFAULT_STANCE_MODEL))
    probs = classifier.predict(
        [
            (
                "Vitamin D supplements reduce COVID-19 mortality.",
                "Vitamin D supplementation did not reduce mortality in hospitalised "
                "COVID-19 patients.",
            ),
            ("Masks reduce transmission.", "Participants were recruited in 2019."),
        ]
    )
    _assert_probabilities(probs, 2)


@pytest.mark.parametrize("as_json", [False, True])
def test_eval_stance_cli_on_healthver_csv(tiny_nli: Path, as_json: bool) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    args = [
        "eval",
        "stance",
        "--data",
        str(DATASETS / "healthver" / "healthver_dev.csv"),
        "--model",
        str(tiny_nli),
        "--threads",
        "1",
    ]
    result = CliRunner().invoke(cli, args + (["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    if as_json:
        metrics = json.loads(result.output)
        assert metrics["n"] == 3
        assert 0.0 <= metrics["macro_f1"] <= 1.0
    else:
        assert "macro-F1" in result.output
        assert "supports-vs-refutes" in result.output


def test_eval_stance_cli_missing_model_exits_1(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    args = ["eval", "stance", "--data", str(DATASETS / "healthver" / "healthver_dev.csv")]
    result = CliRunner().invoke(cli, args + ["--model", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert "claimscan train stance" in result.output


def test_train_stance_cli_writes_adapter(
    tmp_path: Path, tiny_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    # The command sets OMP_WAIT_POLICY only when unset; keep it out of this process.
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    out = tmp_path / "stance"
    args = ["train", "stance", "--data", str(DATASETS), "--out", str(out)]
    args += ["--pack", str(tmp_path / "pack.jsonl.gz")]
    args += ["--checkpoints", str(tmp_path / "ckpt"), "--base-model", str(tiny_base)]
    args += ["--epochs", "1", "--batch-size", "4", "--max-length", "32", "--lora-r", "2"]
    args += ["--passage-max-length", "48"]
    result = CliRunner().invoke(cli, args + ["--threads", "1"], prog_name="claimscan")
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output
    card = (out / "MODEL_CARD.md").read_text()
    assert f"claimscan train stance --data {DATASETS}" in card
    assert "HealthFC" in card


def test_train_stance_cli_missing_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("CLAIMSCAN_DATA", str(tmp_path / "absent"))
    result = CliRunner().invoke(
        cli,
        ["train", "stance", "--out", str(tmp_path / "o"), "--pack", str(tmp_path / "p.gz")],
    )
    assert result.exit_code == 1
    assert "CLAIMSCAN_DATA" in result.output


def test_train_stance_cli_rejects_unknown_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    (tmp_path / "data").mkdir()
    result = CliRunner().invoke(
        cli,
        ["train", "stance", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "o")]
        + ["--sources", "scifact,pubmedqa", "--checkpoints", str(tmp_path / "ck")],
    )
    assert result.exit_code == 1
    assert "unknown training set 'pubmedqa'" in result.output
    assert not (tmp_path / "o").exists()


def test_ready_made_model_carries_the_support_calibration_in_its_stance_json(
    tiny_nli: Path, tmp_path: Path
) -> None:
    import shutil

    from claims.verdict import SupportCalibration

    model = tmp_path / "nli"
    shutil.copytree(tiny_nli, model)
    entry = {"temperature": 0.43, "shift": -0.91, "fitted_on": {"scifact": 40}}
    (model / "stance.json").write_text(json.dumps({"support_calibration": entry}))
    classifier = load_stance_classifier(str(model))
    assert classifier.support_calibration == SupportCalibration(0.43, -0.91)
    # Without the entry there is none, and the verdict uses the aggregate as it is.
    assert load_stance_classifier(str(tiny_nli)).support_calibration is None


@pytest.mark.parametrize(
    "entry", [{"temperature": 0.0, "shift": 0.0}, {"shift": 1.0}, "0.4", {"temperature": "x"}]
)
def test_unusable_support_calibration_is_a_model_load_error(
    tiny_nli: Path, tmp_path: Path, entry: object
) -> None:
    import shutil

    model = tmp_path / "nli"
    shutil.copytree(tiny_nli, model)
    (model / "stance.json").write_text(json.dumps({"support_calibration": entry}))
    with pytest.raises(ModelLoadError, match="support_calibration.*benchmarks.verdicts"):
        load_stance_classifier(str(model))


def test_distill_stage_learns_from_teacher_probabilities(tmp_path: Path, tiny_base: Path) -> None:
    import gzip

    from pipeline.train.stance import read_teacher

    pack = build_pack(DATASETS, selector=None, mine=True)
    distill = pack.splits["distill"]
    assert distill
    path = tmp_path / "teacher.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"labels": ["supports", "refutes", "neutral"], "n": len(distill)}))
        fh.write("\n" + "\n".join(json.dumps([0.1, 0.1, 0.8]) for _ in distill) + "\n")
    teacher = read_teacher(path)
    recipe = make_recipe(
        base_model=str(tiny_base), stages=("distill",), epochs=(1,), lora_r=2, batch_size=4,
        max_length=32, passage_max_length=48,
    )  # fmt: skip
    result = train_stance(pack, tmp_path / "student", recipe, threads=1, teacher=teacher)
    assert result["stages"][0]["name"] == "distill" and result["stages"][0]["steps"] > 0
    # Without the teacher's probabilities the stage cannot run.
    with pytest.raises(ConfigError, match="--teacher"):
        train_stance(pack, tmp_path / "other", recipe, threads=1, resume=False)
