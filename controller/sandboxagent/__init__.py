"""SandboxAgent on Agent Substrate: config Secret, ActorTemplate, session actors."""
