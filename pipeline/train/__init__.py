"""Training for the models claimscan ships. Importing this package performs no I/O.

- :mod:`pipeline.train.data` reads the public fact-checking datasets into labelled
  (claim, evidence, stance) pairs with a by-claim validation split.
- :mod:`pipeline.train.stance` trains the stance adapter (LoRA on the base encoder).
"""
