"""The `kagent-substrate` command: the top of the package graph (it may import every app)."""
