"""``python -m pipeline`` runs the claimscan command line."""

from pipeline.cli import main

main()
