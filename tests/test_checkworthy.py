"""The check-worthiness head, its training, its data file and its place in a run."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from claims.checkworthy import first_cut
from claims.split import extract_claims
from claims.types import Document, SourceKind
from pipeline.cli import cli
from pipeline.config import Config
from pipeline.errors import ConfigError, ModelLoadError
from pipeline.http import build_client
from pipeline.nlp.checkworthy import (
    CUE_FEATURES,
    cue_vector,
    load_checkworthy_classifier,
)
from pipeline.pubmed.client import PubMed
from pipeline.run import run
from pipeline.train.checkworthy import (
    THRESHOLD_GRID,
    _best_threshold,
    read_records,
    step_metrics,
    train_checkworthy,
)
from tests.conftest import REPO, SHARED, needs_shared, tiny_bert
from tests.eutils_server import EutilsServer
from tests.fakes import FakePromo, fake_models
from tests.test_run import RECORDS

DATA_FILE = REPO / "data" / "checkworthy" / "checkworthy.jsonl"
SHIPPED = REPO / "pipeline" / "models" / "checkworthy"
VOCAB = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the a of and is to in with for our we you were "
    "study muscle patients participants found reduces pain risk fat injury assigned "
    "randomly measured body sense gives up on them this not failure . , ! ? ®"
).split()
CHECKABLE = [
    "Exercise reduces back pain in older adults with chronic pain.",
    "Fat infiltration of the muscle begins two weeks after injury.",
    "The study found that muscle loss raises the risk of falls.",
]
NOT = [
    "Participants were randomly assigned to one of two groups.",
    "The body, in a sense, gives up on them.",
    "This is not a failure of rehabilitation as a discipline.",
]


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        (NOT[0], "method", 1.0),
        (CHECKABLE[2], "finding", 1.0),
        (CHECKABLE[2], "method", 0.0),
        (NOT[2], "points_back", 1.0),
        (CHECKABLE[0], "points_back", 0.0),
        ("Our clinic has treated more than 80 percent of cases.", "statistic", 1.0),
        ("“We are thrilled,” said the chief executive.", "quote", 1.0),
        ("The team will test the device in people next year.", "prospect", 1.0),
        (CHECKABLE[1], "health_term", 1.0),
    ],
)
def test_cue_vector_on_examples(sentence: str, name: str, expected: float) -> None:
    assert cue_vector(sentence)[CUE_FEATURES.index(name)] == expected


def test_best_threshold_keeps_the_target_recall_and_prefers_the_higher() -> None:
    probs = [0.9, 0.8, 0.6, 0.3, 0.2, 0.1]
    labels = [1, 1, 1, 1, 0, 0]
    # Recall 0.75 holds up to 0.6 (3 of 4 kept); recall 1.0 only up to 0.3.
    assert _best_threshold(probs, labels, 0.75) == 0.6
    assert _best_threshold(probs, labels, 1.0) == 0.3
    assert set(THRESHOLD_GRID) >= {0.3, 0.6}


def _write_data(path: Path, *, healthfc_in_train: bool = False) -> Path:
    rows = []
    for n in range(12):
        split = "val" if n >= 10 else "train"
        for k, text in enumerate(CHECKABLE + NOT):
            rows.append(
                {
                    "text": f"{text[:-1]} {n}.{k}.",
                    "label": "checkable" if text in CHECKABLE else "not",
                    "promotional": False,
                    "promotional_from": "this annotation",
                    "editor_check": None,
                    "source": f"doc{n}",
                    "corpus": "healthfc" if healthfc_in_train and n == 0 else "fakehealth",
                    "start": 0,
                    "end": len(text),
                    "split": split,
                }
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def tiny_base(tmp_path: Path) -> Path:
    return tiny_bert(tmp_path / "tiny-bert", VOCAB)


def _doc(text: str) -> Document:
    return Document(
        url="https://example.org/a",
        source="https://example.org/a",
        kind=SourceKind.PAGE,
        title="t",
        text=text,
        author=None,
        published=None,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_train_checkworthy_roundtrip(tmp_path: Path, tiny_base: Path) -> None:
    data = _write_data(tmp_path / "cw.jsonl")
    out = tmp_path / "head"
    metrics = train_checkworthy(data, out, base_model=str(tiny_base), epochs=30)
    assert {"head.safetensors", "checkworthy.json", "metrics.json"} == {
        p.name for p in out.iterdir()
    }
    assert sum(p.stat().st_size for p in out.iterdir()) < 64_000
    assert metrics["calibration_fitted_on"] == "train, cross-fitted"
    assert metrics["train_cv"]["n"] == 60 and metrics["val"]["n"] == 12
    assert (
        metrics["threshold"] in THRESHOLD_GRID
        and metrics["train_cv"]["per_class"]["1"]["recall"] >= 0.95
    )

    classifier = load_checkworthy_classifier(out)
    assert classifier.threshold == metrics["threshold"]
    probs = classifier.probabilities(CHECKABLE + NOT)
    assert len(probs) == 6 and all(0.0 <= p <= 1.0 for p in probs)
    assert classifier.probabilities([]) == []
    scores = step_metrics(classifier, read_records(data))
    assert scores["n"] == 72 and scores["n_first_cut"] == 72


def test_checkworthy_keeps_what_the_promotional_head_flags(tmp_path: Path, tiny_base: Path) -> None:
    out = tmp_path / "head"
    train_checkworthy(_write_data(tmp_path / "cw.jsonl"), out, base_model=str(tiny_base), epochs=2)
    # From a threshold of 1 the head keeps nothing, so only promotion gets through.
    strict = load_checkworthy_classifier(out).with_threshold(1.0)
    sentences = ["Our clinic offers the superior regenerative solution®.", CHECKABLE[0]]
    doc = _doc(" ".join(sentences))
    assert strict.checkworthy(sentences, doc) == [False, False]
    assert strict.with_promo(FakePromo()).checkworthy(sentences, doc) == [True, False]
    claims, _ = extract_claims(doc, scorer=strict.with_promo(FakePromo()))
    assert [c.text for c in claims] == [sentences[0]]


def test_train_checkworthy_refuses_healthfc(tmp_path: Path, tiny_base: Path) -> None:
    data = _write_data(tmp_path / "cw.jsonl", healthfc_in_train=True)
    with pytest.raises(ConfigError, match="CC BY-NC-ND"):
        train_checkworthy(data, tmp_path / "head", base_model=str(tiny_base), epochs=2)


@pytest.mark.parametrize(
    "line", ['{"text": "x"}', '{"text": "x", "label": "maybe", "split": "train"}', "not json"]
)
def test_read_records_names_the_bad_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1"):
        read_records(path)


def test_load_checkworthy_classifier_missing_dir_is_actionable(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="claimscan train checkworthy"):
        load_checkworthy_classifier(tmp_path / "nowhere")


def test_cli_train_then_eval_checkworthy(tmp_path: Path, tiny_base: Path) -> None:
    data = _write_data(tmp_path / "cw.jsonl")
    out = tmp_path / "head"
    runner = CliRunner()
    trained = runner.invoke(
        cli,
        ["train", "checkworthy", "--data", str(data), "--out", str(out)]
        + ["--base-model", str(tiny_base), "--epochs", "5"],
    )
    assert trained.exit_code == 0, trained.output
    assert "val split" in trained.output and "checkable P / R / F1" in trained.output
    scored = runner.invoke(
        cli, ["eval", "checkworthy", "--data", str(data), "--model", str(out), "--threshold", "0.5"]
    )
    assert scored.exit_code == 0, scored.output
    assert "0.50" in scored.output
    none = runner.invoke(cli, ["eval", "checkworthy", "--data", str(data), "--split", "test"])
    assert none.exit_code == 1 and "no test records" in none.output


def test_run_chooses_claims_with_the_models_scorer() -> None:
    class KeepExercise:
        def checkworthy(self, sentences, document):  # type: ignore[no-untyped-def]
            return ["Exercise" in s for s in sentences]

    text = (
        "Exercise therapy reduces pain in chronic low back pain. "
        "Vitamin C supplementation prevents colds in the general population.\n"
    )
    models = dataclasses.replace(fake_models(), checkworthy=KeepExercise())
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1)
        with build_client(config) as client:
            report = run(
                ["-"],
                config=config,
                client=client,
                pubmed=PubMed(client, config, sleep=lambda s: None),
                models=models,
                now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
                stdin=io.BytesIO(text.encode()),
            )
    (doc,) = report.documents
    assert [c.claim.text.split()[0] for c in doc.claims] == ["Exercise"]


def test_dataset_file_integrity() -> None:
    rows = [json.loads(line) for line in DATA_FILE.read_text(encoding="utf-8").splitlines()]
    fields = {
        "text", "label", "promotional", "promotional_from", "editor_check", "source",
        "corpus", "start", "end", "split",
    }  # fmt: skip
    assert all(set(r) == fields for r in rows)
    assert Counter(r["label"] for r in rows).keys() == {"checkable", "not"}
    splits: dict[str, set[str]] = {}
    for r in rows:
        splits.setdefault(r["source"], set()).add(r["split"])
        assert r["end"] - r["start"] == len(r["text"])
        assert (r["editor_check"] is None) == (r["corpus"] != "seed")
        assert not r["editor_check"] or r["label"] == "checkable"
        if r["corpus"] in ("seed", "healthfc"):
            assert r["split"] == "test"
    assert all(len(s) == 1 for s in splits.values()), "a document in two splits"
    keys = [(r["source"], r["text"].casefold()) for r in rows]
    assert len(keys) == len(set(keys)), "a sentence twice in one document"
    assert len(rows) >= 2000
    assert read_records(DATA_FILE)


@needs_shared
def test_candidates_script_rebuilds_exactly_the_labelled_sentences() -> None:
    path = REPO / "data" / "checkworthy" / "candidates.py"
    spec = importlib.util.spec_from_file_location("checkworthy_candidates", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = [
        (r["source"], r["start"], r["end"], r["text"], r["split"])
        for r in module.candidates(SHARED)
    ]
    rows = [json.loads(line) for line in DATA_FILE.read_text(encoding="utf-8").splitlines()]
    assert rebuilt == [(r["source"], r["start"], r["end"], r["text"], r["split"]) for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sentence", "checkable"),
    [
        ("Smoking greatly increases the risk of lung cancer in adults.", True),
        ("Vitamin D supplements do not prevent fractures in healthy older women.", True),
        (
            "Participants were randomly assigned to receive the drug or a placebo for "
            "twelve weeks.",
            False,
        ),
        (
            "Blood samples were collected from each participant at baseline and after six months.",
            False,
        ),
    ],
)
def test_shipped_head_on_real_sentences(sentence: str, checkable: bool) -> None:
    if not (SHIPPED / "checkworthy.json").is_file():
        pytest.skip("no shipped check-worthiness head")
    classifier = load_checkworthy_classifier(SHIPPED)
    assert first_cut(sentence)
    (p,) = classifier.probabilities([sentence])
    assert (p >= classifier.threshold) is checkable
