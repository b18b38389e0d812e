{{/* The controller's rules in each watched namespace (or cluster-wide). */}}
{{- define "ks.controller.rules" -}}
{{- /* Finalizers are added and removed with merge patches of the object; status with merge
patches of /status. */}}
- apiGroups: ["kagent.dev"]
  resources: ["agentharnesses", "sandboxagents"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["kagent.dev"]
  resources: ["agentharnesses/status", "sandboxagents/status"]
  verbs: ["patch"]
{{- /* Not a call: setting blockOwnerDeletion on an owned object's ownerReference needs update
on the owner's finalizers where OwnerReferencesPermissionEnforcement is on. */}}
- apiGroups: ["kagent.dev"]
  resources: ["agentharnesses/finalizers", "sandboxagents/finalizers"]
  verbs: ["update"]
- apiGroups: ["kagent.dev"]
  resources: ["modelconfigs"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["ate.dev"]
  resources: ["actortemplates"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: ["ate.dev"]
  resources: ["workerpools"]
  verbs: ["get", "list", "watch"]
{{- /* Owned Secrets are created and replaced, never deleted: garbage collection removes them
with their owner. */}}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
