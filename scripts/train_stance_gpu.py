"""Train the stance model on a lent GPU, in one run: two variants, held-out figures, teacher labels.

Runs on a machine that has torch, transformers and peft but neither our datasets nor
the internet, so everything it reads comes in the working tree:

- ``--base``: the all-mpnet-base-v2 directory (assembled by ``scripts/gpu_stance.sh``);
- ``--pack``: the training pack (``claimscan train stance-pack``);
- ``--healthver-csv``: HealthVer's dev CSV, for held-out figures (never trained on).

What it does, all with one seed and one recipe:

1. variant ``base``: stages ``intermediate`` then ``in-domain``;
2. variant ``flips``: the same ``in-domain`` stage started from variant ``base``'s
   intermediate weights, with direction-reversed claims added as refutations;
3. for each: validation figures (the pack's validation split: the model selection
   data), HealthVer dev CSV figures, the direction check;
4. teacher probabilities of the variant with the better validation macro-F1 on the
   pack's ``distill`` pairs, for distilling a smaller student on a CPU later.

Writes to ``--out``: ``stance-<variant>.tar`` (each adapter directory),
``teacher.jsonl.gz`` and ``results.json``.

    python scripts/train_stance_gpu.py --base /tmp/mpnet --pack pack.jsonl.gz \\
        --healthver-csv healthver_dev.csv --out $OUT --device cuda
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import tarfile
import time
from pathlib import Path

# Run from the repository root without installing claimscan.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.train.data import flip_direction, load_healthver_csv  # noqa: E402
from pipeline.train.pack import read_pack  # noqa: E402
from pipeline.train.stance import (  # noqa: E402
    LABELS,
    TrainerStance,
    heldout_evaluation,
    make_recipe,
    train_stance,
)

log = logging.getLogger("train_stance_gpu")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--base-name", default="sentence-transformers/all-mpnet-base-v2")
    parser.add_argument("--pack", type=Path, required=True)
    parser.add_argument("--healthver-csv", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stance-work"))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--epochs", type=float, nargs=2, default=(2.0, 4.0))
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--stage-minutes", type=float, default=3.0)
    parser.add_argument("--max-pairs", type=int)
    parser.add_argument("--variants", default="base,flips")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.StreamHandler(sys.stdout), logging.FileHandler(args.out / "log.txt")],
    )
    started = time.monotonic()
    pack = read_pack(args.pack)
    healthver = load_healthver_csv(args.healthver_csv)
    from claims.types import Stance
    from pipeline.train.data import StancePair

    direction = [
        StancePair(p.claim, p.evidence, Stance(p.label), p.source)
        for p in pack.splits["validation"]
        if p.label == "supports" and p.unit == "sentence" and flip_direction(p.claim)
    ]
    evaluate = heldout_evaluation({"healthver-dev-csv": healthver}, direction)
    results: dict[str, dict] = {}
    trainers = {}
    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        flips = variant == "flips"
        stages = ("in-domain",) if flips else ("intermediate", "in-domain")
        epochs = (args.epochs[1],) if flips else tuple(args.epochs)
        recipe = make_recipe(
            base_model=args.base_name,
            stages=stages,
            epochs=epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            direction_flips=flips,
            max_pairs=args.max_pairs,
        )
        out_dir = args.work / f"stance-{variant}"
        init = args.work / "stance-base-ckpt" / "intermediate-done.pt" if flips else None
        captured = {}

        def keep(trainer, _evaluate=evaluate, _captured=captured):
            _captured["trainer"] = trainer
            return _evaluate(trainer)

        result = train_stance(
            pack,
            out_dir,
            recipe,
            device=args.device,
            base_path=args.base,
            init_from=init,
            max_minutes=args.stage_minutes,
            command=f"scripts/train_stance_gpu.py (variant {variant})",
            evaluate=keep,
            threads=8,
        )
        trainers[variant] = captured["trainer"]
        results[variant] = result
        with tarfile.open(args.out / f"stance-{variant}.tar", "w") as tar:
            tar.add(out_dir, arcname=f"stance-{variant}")
        (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
        log.info("variant %s done at %.1f min", variant, (time.monotonic() - started) / 60)

    best = max(results, key=lambda v: results[v]["val_metrics"]["macro_f1"])
    teacher = TrainerStance(trainers[best], results[best]["temperature"])
    distill = pack.splits.get("distill", [])
    probs = teacher.predict([(p.claim, p.evidence) for p in distill]) if distill else []
    with gzip.open(args.out / "teacher.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"variant": best, "labels": list(LABELS), "n": len(probs)}) + "\n")
        for row in probs:
            fh.write(json.dumps([round(x, 5) for x in row]) + "\n")
    results["teacher"] = {"variant": best, "n": len(probs)}
    results["minutes"] = (time.monotonic() - started) / 60
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    log.info("all done in %.1f min", results["minutes"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
