"""Kubernetes API stand-in: an HTTPS aiohttp server the official clients and kubectl use unchanged.

Devstack only: product code never imports it. Start it with ``kagent-substrate devstack kube``
or, in tests, with `devstack.kubeapi.server.KubeApiServer`.
"""
