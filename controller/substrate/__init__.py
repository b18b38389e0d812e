"""What both kinds (AgentHarness, SandboxAgent) use to run on Agent Substrate.

The ate-api protocol and actor steps (`actor`), ActorTemplate and WorkerPool helpers
(`template`), cluster-wide template settings (`defaults`), model settings (`model`), env
helpers (`env`), reading and indexing what an object references (`references`), the Events
protocol (`events`), typed reconcile outcomes (`outcome`), the reconcile skeleton
(`reconciler`) and Kubernetes object helpers (`objects`). Nothing here knows either kind's spec.
"""
