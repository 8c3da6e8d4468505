#!/usr/bin/env bash
# Training the stance model on a lent GPU (docs/models.md says what it made).
# A device machine has torch, transformers and peft but not our data or base weights,
# and takes at most 64 MiB of files a call, so the base goes up in four parts.
#   scripts/gpu_stance.sh prepare      here: write .gpu1/ … .gpu4/ (weights, pack, CSV)
#   scripts/gpu_stance.sh stash N      there, one call per part: keep .gpuN/ in /tmp
#                                      (stash 1 also runs smoke: a check of this GPU)
#   scripts/gpu_stance.sh smoke        tiny model, tiny data, every code path on this GPU
#   scripts/gpu_stance.sh train        join and check the weights, train, write to $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
up=/tmp/stance-upload
mkdir -p "$up"
case "$1" in
  prepare)
    python3 - <<'PY'
import hashlib, shutil, torch
from pathlib import Path
from safetensors.torch import load_file, save_file
from pipeline.nlp.hf import resolve_model
base = Path(resolve_model("sentence-transformers/all-mpnet-base-v2"))
half = Path("/tmp/model16.safetensors")
save_file({k: v.half().contiguous() for k, v in load_file(str(base / "model.safetensors")).items()},
          str(half), metadata={"format": "pt"})
data = half.read_bytes()
# Part 1 also carries the pack, the CSV and the tokenizer, so it gets fewer weights.
first = 45_500_000
size = -(-(len(data) - first) // 3)
cuts = [0, first, first + size, first + 2 * size, len(data)]
for n in range(4):
    out = Path(f".gpu{n + 1}")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    (out / f"part{n + 1}.bin").write_bytes(data[cuts[n]:cuts[n + 1]])
(Path(".gpu1") / "model16.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")
for name in ("config.json", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json", "vocab.txt"):
    shutil.copy(base / name, Path(".gpu1") / name)
PY
    cp runs/stance-pack.jsonl.gz .gpu1/pack.jsonl.gz
    cp ../shared/data/healthver/healthver_dev.csv .gpu1/
    du -sh .gpu*
    ;;
  stash)
    cp -r ".gpu$2/." "$up/"
    ls -la "$up"
    if [ "$2" = 1 ]; then "$0" smoke; fi
    ;;
  smoke)
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
    python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.is_available())"
    python3 - <<'PY'
from pathlib import Path
from tests.conftest import tiny_bert
from tests.test_stance import VOCAB, DATASETS
from pipeline.train.pack import build_pack, write_pack
tiny_bert(Path("/tmp/smoke/base"), VOCAB)
write_pack(build_pack(DATASETS, selector=None), Path("/tmp/smoke/pack.jsonl.gz"))
PY
    mkdir -p /tmp/smoke/out
    python3 scripts/train_stance_gpu.py --base /tmp/smoke/base --base-name /tmp/smoke/base \
      --pack /tmp/smoke/pack.jsonl.gz --healthver-csv tests/data/datasets/healthver/healthver_dev.csv \
      --out /tmp/smoke/out --work /tmp/smoke/work --epochs 1 1 --batch-size 4 --stage-minutes 1
    ls -la /tmp/smoke/out
    # Speed on this GPU with the real pack and lengths: a randomly initialised MPNet
    # costs what the trained one does.
    python3 - <<'PY'
from transformers import AutoConfig, AutoModel, AutoTokenizer
cfg = AutoConfig.from_pretrained("/tmp/stance-upload/config.json")
AutoModel.from_config(cfg).save_pretrained("/tmp/randmpnet")
AutoTokenizer.from_pretrained("/tmp/stance-upload").save_pretrained("/tmp/randmpnet")
PY
    mkdir -p /tmp/probe/out
    python3 scripts/train_stance_gpu.py --base /tmp/randmpnet --pack "$up/pack.jsonl.gz" \
      --healthver-csv "$up/healthver_dev.csv" --out /tmp/probe/out --work /tmp/probe/work \
      --variants base --max-pairs 6000 --epochs 1 1 --stage-minutes 0.5 --device cuda | grep -E "pairs/s|stage|done|macro" | tail -20
    ;;
  train)
    base=/tmp/mpnet
    mkdir -p "$base"
    cat "$up"/part*.bin > "$base/model16.safetensors"
    echo "$(cat "$up/model16.sha256")  $base/model16.safetensors" | sha256sum -c -
    python3 - <<'PY'
import torch
from safetensors.torch import load_file, save_file
t = load_file("/tmp/mpnet/model16.safetensors")
save_file({k: v.float().contiguous() for k, v in t.items()}, "/tmp/mpnet/model.safetensors", metadata={"format": "pt"})
PY
    rm "$base/model16.safetensors"
    cp "$up"/*.json "$up"/vocab.txt "$base/"
    python3 scripts/train_stance_gpu.py --base "$base" --pack "$up/pack.jsonl.gz" \
      --healthver-csv "$up/healthver_dev.csv" --out "$OUT" --device cuda "${@:2}"
    ;;
esac
