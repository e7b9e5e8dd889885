"""The reliability harness: long, generated and hostile runs of the real program.

Each module is one scenario group of docs/reliability.md. They run in the normal test command on
a quick budget; ``CAMPAIGN_RELIABILITY=full`` runs them at full size (see ``harness.py``).
"""
