"""The stance model card: what a trained adapter was made from and how it measured. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _counts_table(counts: Mapping[str, Mapping[str, int]]) -> str:
    rows = [
        "| source | supports | refutes | neutral | not-supports |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for source, row in sorted(counts.items()):
        cells = " | ".join(
            str(row.get(k, 0)) for k in ("supports", "refutes", "neutral", "not-supports")
        )
        rows.append(f"| {source} | {cells} |")
    return "\n".join(rows)


def _metrics_line(m: Mapping[str, Any]) -> str:
    return (
        f"n = {m['n']}; accuracy {m['accuracy']:.3f}; macro-F1 {m['macro_f1']:.3f}; "
        f"supports-vs-refutes macro-F1 {m['support_refute_macro_f1']:.3f} "
        f"(n = {m['support_refute_n']}); ECE {m['ece']:.3f}"
    )


def stance_card(recipe: Mapping[str, Any], result: Mapping[str, Any], command: str | None) -> str:
    """Return MODEL_CARD.md for a stance adapter.

    Args:
        recipe: The training recipe as a dict (``dataclasses.asdict``).
        result: What training returned: per-stage summaries and pair counts,
            ``temperature``, ``val_metrics``, ``artifact_bytes``, timings.
        command: The command line that produced it.
    """
    if recipe["full_finetune"]:
        kind = "every weight fine-tuned"
    else:
        kind = (
            f"LoRA r={recipe['lora_r']} (alpha {recipe['lora_alpha']}) on every linear layer of "
            "every transformer layer; classification head trained in full"
        )
    stages = []
    for s in result["stages"]:
        stages.append(
            f"### Stage `{s['name']}`: {s['pairs']} pairs, {s['epochs']:g} epoch(s), "
            f"lr {s['lr']:g}, {s['steps']} steps, {s['seconds'] / 60:.1f} min\n\n"
            f"{_counts_table(s['counts'])}\n\n"
            f"Best validation macro-F1 {s['best_macro_f1']:.3f} at step {s['best_step']}."
        )
    val = result["val_metrics"]
    per_class = "\n".join(
        f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
        for name, m in val["per_class"].items()
    )
    extra = ""
    for name, m in result.get("heldout", {}).items():
        extra += f"- **{name}**: {_metrics_line(m)}\n"
    direction = result.get("direction")
    if direction and direction.get("n"):
        o, f = direction["original"], direction["flipped"]
        extra += (
            f"- **Direction check** ({direction['n']} supported validation claims with one "
            f"direction word reversed): read as refuted {o['predicted_refutes']:.1%} before, "
            f"{f['predicted_refutes']:.1%} after; mean P(supports) "
            f"{o['mean_p_supports']:.3f} → {f['mean_p_supports']:.3f}\n"
        )
    return f"""# claimscan stance model

Three-way stance classifier for (claim, evidence) pairs: **supports**, **refutes**,
**neutral**. Input is NLI-style: the evidence (one sentence, or the title and chosen
sentences of one abstract) is the first segment, the claim the second. Probabilities are
calibrated with a temperature (T = {result["temperature"]:.3f}) fitted on the validation
split.

- Base encoder: `{recipe["base_model"]}` ({kind})
- Artifact size: {result["artifact_bytes"] / 1e6:.2f} MB
- Trained on {result["device"]} in {result["train_seconds"] / 60:.1f} min; seed {recipe["seed"]}
- Command: `{command or "(Python API)"}`

## Data

Built by `claimscan train stance-pack` (`pipeline/train/pack.py`): stage one reads the
NLI and fact-checking sets in `shared/data/nli` (FEVER as RTE, Climate-FEVER, NLI4CT,
curriculum probes; licences in that README: FEVER CC BY-SA 3.0, curriculum probes MIT,
the others none stated, so research use), COVID-Fact and Check-COVID (MIT) training
claims; stage two SciFact (CC BY 4.0 / ODC-By) and HealthVer (MultiVerS; none stated)
training claims, with the sentences the retrieval path ranks highest in retrieved
abstracts that are not the claim's evidence as neutral (hard negatives), and the same
claims against whole-abstract passages. FEVER's `not_entailment` is a partial label
(refutes or neutral). HealthFC (CC BY-NC-ND) is not used. HealthVer's dev claims and
Check-COVID's dev claims are never trained on. Validation is every claim whose
normalised text hashes to 0 mod 10 (`is_validation_claim`).

## Stages

{chr(10).join(stages)}

## Recipe

AdamW, weight decay {recipe["weight_decay"]:g}, linear warmup {recipe["warmup_ratio"]:.0%}
then linear decay within each stage; batch {recipe["batch_size"]}; max length
{recipe["max_length"]} tokens per sentence pair and {recipe["passage_max_length"]} per
passage; class-weighted cross-entropy; LoRA dropout {recipe["lora_dropout"]:g}.

## Validation (temperature-scaled)

{_metrics_line(val)} (before scaling ECE {result["val_ece_uncalibrated"]:.3f}).

| label | precision | recall | F1 | support |
| --- | ---: | ---: | ---: | ---: |
{per_class}

## Held-out figures measured at training time

{extra or "(none measured)"}

## Limitations

Trained on COVID-19 and biomedical-abstract claims; consumer-health phrasing,
non-English text and claims needing numbers or several sentences of context are out of
domain. Neutral means "this evidence does not decide the claim", not "the science is
contested".
"""
