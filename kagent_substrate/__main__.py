"""``python -m kagent_substrate``: the same as the `kagent-substrate` console script."""

from kagent_substrate.cli import main

raise SystemExit(main())
