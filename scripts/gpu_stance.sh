#!/usr/bin/env bash
# The device half of training the stance model on a lent GPU (see docs/training.md).
# Called once per upload with the chunk that upload carried; the last call trains.
#   scripts/gpu_stance.sh stash N      keep .gpuN/ in /tmp/stance-upload (outlives the tree sync)
#   scripts/gpu_stance.sh smoke        tiny model, tiny data, every code path on this GPU
#   scripts/gpu_stance.sh train        join and check the weights, train, write to $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
up=/tmp/stance-upload
mkdir -p "$up"
case "$1" in
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
