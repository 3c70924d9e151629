"""``python -m api.cli``: the ``servicetrail`` command."""

from api.cli import main

main()
