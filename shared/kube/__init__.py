"""Kubernetes client layer: typed errors, a dynamic async client with deadlines, list+watch."""
