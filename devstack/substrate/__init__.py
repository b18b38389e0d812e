"""Agent Substrate simulator: ate-api ``Control`` over TLS, template controller, atenet-router.

Development and test stand-in only; product code never imports it (tests/unit/test_layers.py).
"""
