"""``python -m wardround.cli``."""

from wardround.cli import main

main()
