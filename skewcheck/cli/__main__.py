"""`python -m skewcheck.cli`: the same as the `skewcheck` command."""

from skewcheck.cli import main

main()
