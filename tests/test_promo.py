"""Tests for the commercial-promotional head, its training and its data file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import ConfigError, ModelLoadError
from pipeline.nlp.promo import (
    CUE_FEATURES,
    SENTENCE_FEATURES,
    commercial_context_from,
    cue_matrix,
    document_cues,
    load_promo_classifier,
    promotional_signs,
    sentence_cues,
)
from pipeline.train.promo import (
    POSSIBLE_GRID,
    _best_threshold,
    agreement,
    evaluate_promo,
    read_records,
    read_second_annotation,
    train_promo,
)
from tests.conftest import tiny_bert

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = REPO / "data" / "promo" / "promo.jsonl"
SHIPPED = REPO / "pipeline" / "models" / "promo-fast"
"""The MiniLM head (the default model is the fine-tuned one, tests/test_promo_tuned.py)."""

PROMO_PAGE = (
    "Receive a Regenexx® Patient Info Packet by email and learn why it's a superior "
    "regenerative solution.\n"
    "Regenexx offers the #1 Stem Cell & Platelet Procedures for arthritis.\n"
    "We have treated more than 10,000 patients at our clinics.\n"
    "Request a free Regenexx Info Packet.\n"
    "Chris Centeno, MD is a specialist in regenerative medicine and Regenexx Founder.\n"
    "Call us today to book your consultation."
)
ABSTRACT = (
    "Loss of muscle mass is common with aging.\n"
    "In 230 participants aged 65 and older, back muscle strength was associated with gait "
    "speed.\n"
    "Spinal disorders increased the risk of muscle weakness."
)
VOCAB = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the a of and is to in with for our we you free "
    "study muscle patients regenerative superior best call today found aging loss mass "
    "request packet learn more risk receive clinic procedure . , ! ?"
).split()


def _cue(sentence: str, name: str, document: str = "") -> float:
    doc = document_cues(document or sentence)
    return sentence_cues(sentence, doc)[SENTENCE_FEATURES.index(name)]


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        ("Receive a Regenexx® Patient Info Packet.", "s_trademark", 1.0),
        ("Loss of muscle mass is common with aging.", "s_trademark", 0.0),
        ("It is a superior regenerative solution.", "s_superiority", 1.0),
        ("Learn about the #1 Stem Cell Procedures.", "s_superiority", 1.0),
        ("The study enrolled 230 participants.", "s_superiority", 0.0),
        ("Request a free Regenexx Info Packet.", "s_call_to_action", 1.0),
        ("Visit ProstateCancer911.com and call to set up your consultation.",
         "s_call_to_action", 1.0),
        ("Researchers measured grip strength.", "s_call_to_action", 0.0),
        ("We are committed to the highest quality care.", "s_first_person", 1.0),
        ("Prostate cancer is common in the US.", "s_first_person", 0.0),
        ("I have spent more than 80,000 hours of research and patient care.",
         "s_volume_credential", 1.0),
        ("Fat infiltration begins two weeks after injury.", "s_volume_credential", 0.0),
    ],
)  # fmt: skip
def test_sentence_cues_on_examples(sentence: str, name: str, expected: float) -> None:
    assert _cue(sentence, name) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Receive a Regenexx® Patient Info Packet and learn why it's a superior solution.",
         ['trademark sign "®"', 'superiority wording "superior"', 'call to action "Receive"',
          'brand named across the page "Regenexx"']),
        ("I have spent more than 80,000 hours of research and patient care.",
         ['credentials or volume "more than 80,000 hours"', 'provider voice "I"']),
        ("In 230 participants, back muscle strength was associated with gait speed.", []),
    ],
)  # fmt: skip
def test_promotional_signs_quote_what_matched(sentence: str, expected: list[str]) -> None:
    assert promotional_signs(sentence, PROMO_PAGE) == expected


def test_sentence_cues_brand_mention_uses_document_brands() -> None:
    assert _cue("Ask about Regenexx procedures.", "s_brand_mention", PROMO_PAGE) == 1.0
    assert _cue("Ask about these procedures.", "s_brand_mention", PROMO_PAGE) == 0.0


@pytest.mark.parametrize(("text", "promotional"), [(PROMO_PAGE, True), (ABSTRACT, False)])
def test_document_cues_tell_pages_apart(text: str, promotional: bool) -> None:
    doc = document_cues(text)
    assert ("Regenexx" in doc.brands) is promotional
    assert (doc.signals() >= 3) is promotional


def test_first_person_credentials_count_as_an_author_bio() -> None:
    page = ABSTRACT + "\nOver three decades of clinical work, I have studied these muscles."
    assert document_cues(page).author_bio == 1.0
    # Credentials in the third person are a study's description, not the author's.
    other = ABSTRACT + "\nOver three decades of clinical work, the team studied these muscles."
    assert document_cues(other).author_bio == 0.0


def test_cue_matrix_shape_and_order() -> None:
    matrix = cue_matrix(["One sentence.", "Another one."], ABSTRACT)
    assert matrix.shape == (2, len(CUE_FEATURES))
    # Document cues are the same for every sentence of a page.
    assert (matrix[0, len(SENTENCE_FEATURES) :] == matrix[1, len(SENTENCE_FEATURES) :]).all()


@pytest.mark.parametrize(
    ("text", "probs", "expected"),
    [(PROMO_PAGE, [0.9, 0.8, 0.2], True), (ABSTRACT, [0.1, 0.2, 0.1], False)],
)
def test_commercial_context_from_cues(text: str, probs: list[float], expected: bool) -> None:
    assert commercial_context_from(document_cues(text), probs) is expected


def test_commercial_context_counts_sentences_from_the_heads_threshold() -> None:
    # Two sentences at 0.3: promotional for a head that flags from 0.25, not for 0.5.
    doc = document_cues(ABSTRACT + "\nCall us today.")
    assert commercial_context_from(doc, [0.3, 0.3, 0.1], threshold=0.25) is True
    assert commercial_context_from(doc, [0.3, 0.3, 0.1], threshold=0.5) is False


def test_best_threshold_maximises_f1_and_prefers_the_higher_on_ties() -> None:
    labels = [1, 1, 1, 0, 0, 0]
    # Every grid cut in (0.33, 0.62] separates the classes; the highest of them wins.
    assert _best_threshold([0.9, 0.8, 0.62, 0.33, 0.2, 0.1], labels) == 0.6
    # Only cuts in (0.2, 0.3] do, and a lone positive at 0.3 must still be caught.
    assert _best_threshold([0.9, 0.8, 0.3, 0.2, 0.1, 0.1], labels) == 0.3
    # Restricted to the "possibly promotional" grid, the best cut stays below 0.5.
    assert _best_threshold([0.9, 0.8, 0.62, 0.33, 0.2, 0.1], labels, POSSIBLE_GRID) == 0.45


@pytest.fixture
def tiny_base(tmp_path: Path) -> Path:
    """A random-weight 2-layer BERT (hidden 32) and WordPiece tokenizer saved to disk."""
    return tiny_bert(tmp_path / "tiny-bert", VOCAB)


def _write_tiny_data(path: Path) -> Path:
    rows = [
        ("Receive a free packet and learn why our clinic is superior.", 1, "p1", True, "train"),
        ("Call today for the best regenerative procedure.", 1, "p1", True, "train"),
        ("Our clinic offers the best care.", 1, "p2", True, "train"),
        ("Request a free packet today!", 1, "p2", True, "train"),
        ("The study found loss of muscle mass with aging.", 0, "a1", False, "train"),
        ("Muscle loss is a risk in aging.", 0, "a1", False, "train"),
        ("Patients with muscle loss were in the study.", 0, "a2", False, "train"),
        ("The risk of muscle loss is in the study.", 0, "a2", False, "train"),
        ("Learn more about our superior clinic.", 1, "p3", True, "val"),
        ("Aging is a risk for muscle loss.", 0, "a3", False, "val"),
    ]
    path.write_text(
        "".join(
            json.dumps(
                dict(
                    zip(("text", "label", "source", "context_promo_page", "split"), r, strict=True)
                )
            )
            + "\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    return path


def test_train_promo_tiny_roundtrip(tmp_path: Path, tiny_base: Path) -> None:
    data = _write_tiny_data(tmp_path / "promo.jsonl")
    out = tmp_path / "head"
    metrics = train_promo(data, out, base_model=str(tiny_base), epochs=30)
    assert {"head.safetensors", "promo.json", "metrics.json"} <= {p.name for p in out.iterdir()}
    assert sum(p.stat().st_size for p in out.iterdir()) < 64_000
    assert metrics["temperature"] > 0
    config = json.loads((out / "promo.json").read_text())
    assert config["feature_names"] == list(CUE_FEATURES)
    assert config["base_model"] == str(tiny_base)

    classifier = load_promo_classifier(out)
    probs = classifier.predict(
        ["Call today for a free packet.", "Muscle loss is common."], ABSTRACT
    )
    assert len(probs) == 2
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert classifier.predict([], ABSTRACT) == []
    # Pairs from two documents in one call score as each document would alone.
    mixed = classifier.predict_pairs(
        [("Call today for a free packet.", PROMO_PAGE), ("Muscle loss is common.", ABSTRACT)]
    )
    alone = classifier.predict(["Call today for a free packet."], PROMO_PAGE)
    assert mixed[0] == pytest.approx(alone[0], abs=1e-6)
    assert mixed[1] == pytest.approx(probs[1], abs=1e-6)
    assert classifier.commercial_context(PROMO_PAGE, [0.9, 0.9]) is True
    assert classifier.commercial_context(ABSTRACT, [0.1, 0.2]) is False
    strict = classifier.with_threshold(0.95)
    assert strict.threshold == 0.95 and classifier.threshold != 0.95
    assert strict.predict(["Call today for a free packet."], ABSTRACT) == classifier.predict(
        ["Call today for a free packet."], ABSTRACT
    )
    # One page signal (a call to action) and two sentences at 0.9: promotional sentences
    # for the head's own threshold, none from 0.95.
    page = ABSTRACT + "\nCall us today."
    assert classifier.commercial_context(page, [0.9, 0.9, 0.1]) is True
    assert strict.commercial_context(page, [0.9, 0.9, 0.1]) is False

    scores = evaluate_promo(classifier, read_records(data))
    assert scores["n"] == 10
    assert set(scores["per_class"]) == {"0", "1"}
    for key in ("accuracy", "macro_f1", "promo_f1", "ece", "context_accuracy"):
        assert 0.0 <= scores[key] <= 1.0


def test_train_promo_cross_fits_calibration_and_threshold(tmp_path: Path, tiny_base: Path) -> None:
    promo = ["Call today for the best regenerative procedure.", "Request a free packet today!"]
    fact = ["The study found loss of muscle mass with aging.", "Muscle loss is a risk in aging."]
    rows = []
    for n in range(12):
        texts, label = (promo, 1) if n % 2 else (fact, 0)
        for k, text in enumerate(texts):
            rows.append(
                {
                    "text": f"{text} ({n}.{k})",
                    "label": label,
                    "source": f"doc{n}",
                    "context_promo_page": bool(label),
                    "split": "val" if n >= 10 else "train",
                }
            )
    data = tmp_path / "promo.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "head"
    metrics = train_promo(data, out, base_model=str(tiny_base), epochs=30)
    assert metrics["calibration_fitted_on"] == "train, cross-fitted"
    assert metrics["train_cv"]["n"] == 20
    # Calibrated, so the label is "more likely than not"; the band below it is fitted.
    assert metrics["threshold"] == 0.5
    assert metrics["possible_threshold"] in POSSIBLE_GRID
    classifier = load_promo_classifier(out)
    assert classifier.threshold == metrics["threshold"]
    assert classifier.possible_threshold == metrics["possible_threshold"]
    assert classifier.head.calibration_bias == pytest.approx(metrics["calibration_bias"])


def test_head_saved_before_platt_scaling_still_loads(tmp_path: Path, tiny_base: Path) -> None:
    out = tmp_path / "head"
    train_promo(_write_tiny_data(tmp_path / "d.jsonl"), out, base_model=str(tiny_base), epochs=2)
    config = json.loads((out / "promo.json").read_text())
    del config["calibration_bias"]
    (out / "promo.json").write_text(json.dumps(config))
    assert load_promo_classifier(out).head.calibration_bias == 0.0


def test_agreement_kappa_and_f1() -> None:
    # 8 sentences, 3 disagreements: observed 5/8. The first labels half of them 1, so
    # chance agreement is 1/2 whatever the second does.
    first = [1, 1, 1, 1, 0, 0, 0, 0]
    second = [1, 1, 0, 0, 1, 0, 0, 0]
    a = agreement(first, second)
    assert a["agreement"] == pytest.approx(5 / 8)
    assert a["kappa"] == pytest.approx((5 / 8 - 1 / 2) / (1 - 1 / 2))
    assert (a["precision"], a["recall"]) == pytest.approx((2 / 3, 1 / 2))
    assert agreement(first, first)["kappa"] == pytest.approx(1.0)
    assert agreement([], [])["n"] == 0


def test_read_second_annotation_rejects_bad_lines(tmp_path: Path) -> None:
    good = tmp_path / "second.jsonl"
    good.write_text('{"text": "A", "label": 1, "unsure": false}\n\n{"text": "B", "label": 0}\n')
    assert read_second_annotation(good) == {"A": 1, "B": 0}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "A", "label": 2}\n')
    with pytest.raises(ConfigError, match="bad.jsonl:1"):
        read_second_annotation(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        read_second_annotation(tmp_path / "missing.jsonl")


def test_cli_train_then_eval_promo_with_a_second_annotation(
    tmp_path: Path, tiny_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _write_tiny_data(tmp_path / "promo.jsonl")
    out = tmp_path / "head"
    trained = CliRunner().invoke(
        cli,
        ["train", "promo", "--data", str(data), "--out", str(out), "--epochs", "5",
         "--base-model", str(tiny_base)],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "val split" in trained.output
    second = tmp_path / "second.jsonl"
    second.write_text(
        '{"text": "Learn more about our superior clinic.", "label": 1}\n'
        '{"text": "Aging is a risk for muscle loss.", "label": 1}\n'
    )
    result = CliRunner().invoke(
        cli,
        ["eval", "promo", "--data", str(data), "--model", str(out),
         "--base-model", str(tiny_base), "--second-annotation", str(second)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "agreement on 2 sentences labelled twice" in result.output
    # The second annotator agrees on one 1 and adds one: P 0.5, R 1.0.
    assert "0.500 / 1.000 / 0.667" in result.output
    assert "threshold 1.00" not in result.output
    none = CliRunner().invoke(
        cli,
        ["eval", "promo", "--data", str(data), "--model", str(out), "--promo-threshold", "1",
         "--base-model", str(tiny_base), "--second-annotation", str(second)],
    )  # fmt: skip
    assert none.exit_code == 0, none.output
    assert "threshold 1.00" in none.output
    # Nothing reaches 1.0, so the model's row finds none of the second annotator's 1s.
    model_rows = [line for line in none.output.splitlines() if "second annotator" in line]
    assert any("model" in row and "0.000 / 0.000 / 0.000" in row for row in model_rows)
    missing = CliRunner().invoke(
        cli, ["eval", "promo", "--data", str(data), "--second-annotation", str(tmp_path / "x")]
    )
    assert missing.exit_code != 0
    assert "cannot read second annotation" in missing.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    nothing = CliRunner().invoke(cli, ["eval", "promo", "--data", str(empty)])
    assert nothing.exit_code != 0
    assert "no val records to score" in nothing.output


def test_load_promo_classifier_missing_dir_is_actionable(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="claimscan train promo"):
        load_promo_classifier(tmp_path / "nowhere")


def test_load_promo_classifier_rejects_other_features(tmp_path: Path, tiny_base: Path) -> None:
    out = tmp_path / "head"
    train_promo(_write_tiny_data(tmp_path / "d.jsonl"), out, base_model=str(tiny_base), epochs=2)
    config = json.loads((out / "promo.json").read_text())
    config["feature_names"] = ["something_else"]
    (out / "promo.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="retrain"):
        load_promo_classifier(out)


def test_dataset_file_integrity() -> None:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert all(set(r) == {"text", "label", "source", "context_promo_page", "split"} for r in rows)
    assert {r["label"] for r in rows} == {0, 1}
    assert {r["split"] for r in rows} == {"train", "val"}
    assert all(isinstance(r["context_promo_page"], bool) for r in rows)
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts)), "duplicate texts"
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r["text"], set()).add(r["split"])
        split_of.setdefault("source:" + r["source"], set()).add(r["split"])
    assert all(len(splits) == 1 for splits in split_of.values()), "a text or document in both"
    counts = Counter(r["label"] for r in rows)
    assert counts[1] >= 80
    assert not any(r["source"].startswith("healthfc") for r in rows)
    assert read_records(DATA_FILE)  # the loader accepts the shipped file


def test_second_annotation_covers_every_val_sentence_of_its_documents() -> None:
    # It was made for the val split of November 2026; documents added to val since
    # (issue 16) have one annotation only.
    second = read_second_annotation(DATA_FILE.with_name("val_second_annotation.jsonl"))
    val = [r for r in read_records(DATA_FILE) if r.split == "val"]
    annotated = {r.source for r in val if r.text in second}
    assert set(second) == {r.text for r in val if r.source in annotated}
    assert len(second) == 410


@pytest.mark.slow
def test_shipped_head_scores_real_sentences() -> None:
    if not (SHIPPED / "promo.json").is_file():
        pytest.skip("no shipped promotional head")
    classifier = load_promo_classifier(SHIPPED)
    promo = (
        "Receive a Regenexx® Patient Info Packet by email and learn why it's a superior "
        "regenerative solution."
    )
    fact = "The study found that loss of muscle mass is common with aging."
    probs = classifier.predict([promo, fact], PROMO_PAGE + "\n" + ABSTRACT)
    assert probs[0] > 0.5
    assert probs[1] < classifier.threshold
