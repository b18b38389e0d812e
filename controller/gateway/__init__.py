"""The controller's HTTP gateway: A2A sessions of SandboxAgents and the AgentHarness UI proxy."""
