"""The soak: pairs of users sending at a fixed total rate through the public API.

`python -m bench.soak [--soak-seconds 600] [--soak-rate 300] [--soak-pairs 50]` runs it
alone; `make bench` runs it last.
"""
