"""Tests for the fine-tuned promotional model: page context, the network, training, loading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_PROMO_MODEL, FAST_PROMO_MODEL, load_config
from pipeline.errors import ConfigError, ModelLoadError
from pipeline.nlp.promo import load_promo_classifier
from pipeline.nlp.promo_context import CONTEXT_FEATURES, SEPARATOR, sentence_context
from pipeline.train.promo import (
    POSSIBLE_GRID,
    possible_threshold,
    read_records,
    score_probabilities,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "pipeline" / "models" / "promo"
# Read before the autouse fixture clears CLAIMSCAN_*: where the developer keeps the
# fetched base, so the slow test can use it without touching the network.
MODELS_DIR = os.environ.get("CLAIMSCAN_MODELS")

PROVIDER_PAGE = (
    "Most people assume that an injured muscle either heals or it does not.\n"
    "Over thirty years I have developed approaches for scarred spinal muscle.\n"
    "These approaches work at the level of the scarred tissue.\n"
    "We map every injury before we treat it.\n"
    "Book your consultation today."
)
NEWS_PAGE = (
    "Researchers followed 230 adults for ten years.\n"
    "We all lose some muscle as we age, the authors note.\n"
    "Muscle loss was faster in people with back pain.\n"
    "The study was funded by a national institute."
)
VOCAB = (
    "<s> <pad> </s> [UNK] <mask> the a of and is to in with for our we you free study muscle "
    "patients best call today found aging loss mass request packet learn more risk clinic "
    "procedure book consultation approaches work . , ! ?"
).split()


def _feature(context: object, name: str) -> float:
    return context.features[CONTEXT_FEATURES.index(name)]  # type: ignore[attr-defined]


def test_sentence_context_reads_neighbours_in_page_order() -> None:
    context = sentence_context("These approaches work at the level of the scarred tissue.",
                               PROVIDER_PAGE)  # fmt: skip
    before, after = context.text.split(SEPARATOR)
    assert before.startswith("Most people assume") and "I have developed" in before
    assert after == "We map every injury before we treat it."
    assert len(context.features) == len(CONTEXT_FEATURES)
    assert all(0.0 <= f <= 1.0 for f in context.features)


def test_sentence_context_of_a_lone_claim_is_empty() -> None:
    claim = "Homeopathic remedies are more effective than placebo."
    context = sentence_context(claim, claim)
    assert context.text == ""
    assert _feature(context, "cta_nearby") == 0.0
    assert _feature(context, "local_first_person") == 0.0


@pytest.mark.parametrize(
    ("sentence", "page", "provider"),
    [
        ("We map every injury before we treat it.", PROVIDER_PAGE, True),
        ("We all lose some muscle as we age, the authors note.", NEWS_PAGE, False),
    ],
)
def test_provider_we_tells_a_providers_we_from_people_in_general(
    sentence: str, page: str, provider: bool
) -> None:
    # The provider's "we" sits among first-person sentences; the news page's "we" alone.
    value = _feature(sentence_context(sentence, page), "provider_we")
    assert (value >= 0.5) is provider


def test_cta_nearby_decays_with_distance_from_a_call_to_action() -> None:
    near = sentence_context("We map every injury before we treat it.", PROVIDER_PAGE)
    far = sentence_context(
        "Most people assume that an injured muscle either heals or it does not.", PROVIDER_PAGE
    )
    assert _feature(near, "cta_nearby") == 1.0
    assert 0.0 < _feature(far, "cta_nearby") < _feature(near, "cta_nearby")


def test_possible_threshold_is_below_the_label_and_on_the_grid() -> None:
    labels = [1, 1, 1, 0, 0, 0, 0, 0]
    # A positive at 0.3 is only caught from 0.3 down; the 0.2 negative stays out above 0.2.
    t = possible_threshold([0.9, 0.8, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05], labels)
    assert t in POSSIBLE_GRID
    assert t == 0.3


def _tiny_mpnet(directory: Path) -> Path:
    from transformers import MPNetConfig, MPNetModel, MPNetTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(VOCAB)}
    MPNetTokenizer(vocab=vocab, do_lower_case=True).save_pretrained(directory)
    config = MPNetConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=130,
    )
    MPNetModel(config, add_pooling_layer=False).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_mpnet(tmp_path_factory.mktemp("tiny-mpnet"))


def _write_data(path: Path) -> Path:
    promo = ["Call today to book a free consultation.", "Our clinic offers the best procedure."]
    fact = ["The study found muscle loss with aging.", "Muscle mass is a risk in aging."]
    rows = []
    for n in range(12):
        texts, label = (promo, 1) if n % 2 else (fact, 0)
        rows += [
            {"text": f"{text} ({n}.{k})", "label": label, "source": f"doc{n}",
             "context_promo_page": bool(label), "split": "val" if n >= 10 else "train"}
            for k, text in enumerate(texts)
        ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_promo_net_from_cached_lower_layers_equals_the_full_pass(tiny_mpnet: Path) -> None:
    import torch

    from pipeline.nlp.promo_tuned import build_net, encode_pairs, pad

    torch.manual_seed(0)
    tokenizer, net = build_net(str(tiny_mpnet), {"tuned_layers": 1, "lora_r": 2,
                                                 "lora_alpha": 4, "lora_dropout": 0.0})  # fmt: skip
    for name, p in net.named_parameters():
        if "lora_b" in name:
            p.data.normal_(0.0, 0.5)  # as after training: the update is not zero
    items = [(s, PROVIDER_PAGE) for s in PROVIDER_PAGE.splitlines()]
    ids, a_len, feats = encode_pairs(tokenizer, items, 64)
    batch, mask = pad(ids, int(tokenizer.pad_token_id))
    args = (torch.tensor(a_len), torch.tensor(feats))
    net.eval()
    with torch.no_grad():
        full = net(batch, mask, *args)
        split = net.upper(net.lower(batch, mask), mask, *args)
        net.merge_lora()
        merged = net(batch, mask, *args)
    assert torch.allclose(full, split, atol=1e-5)
    assert torch.allclose(full, merged, atol=1e-4)


def test_train_tuned_then_load_and_score(tmp_path: Path, tiny_mpnet: Path) -> None:
    from pipeline.train.promo_tuned import recipe_from, train_tuned

    data = _write_data(tmp_path / "promo.jsonl")
    out = tmp_path / "promo"
    # Written over a MiniLM head's directory: its card stays, its weights must go.
    out.mkdir()
    (out / "MODEL_CARD.md").write_text("card")
    (out / "head.safetensors").write_text("old head")
    recipe = recipe_from(base_model=str(tiny_mpnet), tuned_layers=1, epochs=2.0, max_length=64)
    metrics = train_tuned(data, out, recipe, cache_dir=tmp_path / "cache", threads=1)
    assert {p.name for p in out.iterdir()} == {
        "promo.json", "adapter.safetensors", "metrics.json", "MODEL_CARD.md"
    }  # fmt: skip
    assert metrics["threshold"] == 0.5
    assert metrics["possible_threshold"] in POSSIBLE_GRID
    assert metrics["calibration_fitted_on"].startswith("train, cross-fitted")
    assert metrics["train_cv"]["n"] == 20 and metrics["val"]["n"] == 4

    model = load_promo_classifier(out)
    assert model.threshold == 0.5 and model.possible_threshold == metrics["possible_threshold"]
    probs = model.predict_pairs([("Book your consultation today.", PROVIDER_PAGE),
                                 ("Muscle loss was faster.", NEWS_PAGE)])  # fmt: skip
    assert len(probs) == 2 and all(0.0 <= p <= 1.0 for p in probs)
    assert model.predict_pairs([]) == []
    # The runtime pass (LoRA merged, weights stored in float16) gives the probabilities
    # training computed from the cached states.
    records = [r for r in read_records(data) if r.split == "val"]
    pages = {r.source: "\n".join(x.text for x in read_records(data) if x.source == r.source)
             for r in records}  # fmt: skip
    val = model.predict_pairs([(r.text, pages[r.source]) for r in records])
    again = score_probabilities(val, [r.label for r in records], 0.5)
    assert again["accuracy"] == metrics["val"]["accuracy"]
    assert again["ece"] == pytest.approx(metrics["val"]["ece"], abs=1e-3)
    # A rerun finds every fold and the final fit in the cache and trains nothing.
    again = train_tuned(data, out, recipe, cache_dir=tmp_path / "cache", threads=1)
    assert again["val"] == metrics["val"]


def test_tuned_model_with_other_features_is_refused(tmp_path: Path, tiny_mpnet: Path) -> None:
    from pipeline.train.promo_tuned import recipe_from, train_tuned

    data = _write_data(tmp_path / "promo.jsonl")
    out = tmp_path / "promo"
    recipe = recipe_from(base_model=str(tiny_mpnet), tuned_layers=1, epochs=1.0, max_length=64)
    train_tuned(data, out, recipe, cache_dir=tmp_path / "cache", threads=1, folds=0)
    meta = json.loads((out / "promo.json").read_text())
    meta["feature_names"] = ["something_else"]
    (out / "promo.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="retrain"):
        load_promo_classifier(out)


def test_recipe_from_refuses_unknown_settings() -> None:
    from pipeline.train.promo_tuned import recipe_from

    with pytest.raises(ConfigError, match="unknown recipe setting"):
        recipe_from(learning_rate=1e-3)
    with pytest.raises(ConfigError, match="positive"):
        recipe_from(epochs=0)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, DEFAULT_PROMO_MODEL),
        ({"CLAIMSCAN_FAST": "1"}, FAST_PROMO_MODEL),
        ({"CLAIMSCAN_FAST": "1", "CLAIMSCAN_PROMO_MODEL": "/my/model"}, Path("/my/model")),
    ],
)
def test_fast_switches_the_promotional_model(env: dict[str, str], expected: Path) -> None:
    assert load_config(env=env).promo_model == str(expected)


@pytest.mark.slow
def test_shipped_tuned_model_reads_sentences_in_their_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.nlp.fetch import MPNET, fetched_path

    if not (SHIPPED / "promo.json").is_file():
        pytest.skip("no shipped promotional model")
    if MODELS_DIR is None or fetched_path(MPNET, Path(MODELS_DIR)) is None:
        pytest.skip("all-mpnet-base-v2 not fetched (set CLAIMSCAN_MODELS to where it is)")
    monkeypatch.setenv("CLAIMSCAN_MODELS", MODELS_DIR)
    try:
        model = load_promo_classifier(SHIPPED)
    except ModelLoadError as exc:
        pytest.skip(f"base encoder not available offline: {exc}")
    from tests.test_promo import PROMO_PAGE

    method = "These approaches work at the level of the scarred tissue."
    selling, in_provider_page, in_news_page, plain = model.predict_pairs(
        [("We have treated more than 10,000 patients at our clinics.", PROMO_PAGE),
         (method, PROVIDER_PAGE),
         (method, NEWS_PAGE),
         ("Muscle loss was faster in people with back pain.", NEWS_PAGE)]
    )  # fmt: skip
    assert selling >= model.threshold
    # The same words read as the provider's own method in its page, not in a news story.
    assert in_provider_page > 5 * in_news_page
    assert max(in_news_page, plain) < model.possible_threshold
