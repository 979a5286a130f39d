"""`python -m infra.rights`: print docs/deploy.md's table of who may do what."""

from infra.rights.table import render

print(render(), end="")
