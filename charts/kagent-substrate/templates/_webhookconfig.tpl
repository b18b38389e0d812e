{{/*
The parts both webhook configurations share; pass (dict "root" $ "path" "/validate").
Only our two kinds, CREATE and UPDATE (DELETE needs no review), never the release namespace nor
kube-system (so a broken webhook cannot block its own repair).
*/}}
{{- define "ks.webhook.common" -}}
{{- $root := .root -}}
clientConfig:
  service:
    name: {{ include "ks.webhook.serviceName" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ .path }}
    port: 443
rules:
  - apiGroups: ["kagent.dev"]
    apiVersions: ["v1alpha2"]
    operations: ["CREATE", "UPDATE"]
    resources: ["agentharnesses", "sandboxagents"]
    scope: Namespaced
matchPolicy: Equivalent
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- $excluded := concat (list $root.Release.Namespace "kube-system") $root.Values.webhook.excludeNamespaces | uniq | sortAlpha }}
        {{- toYaml $excluded | nindent 8 }}
{{- if $root.Values.webhook.matchConditions }}
matchConditions:
  - name: only-agentharness-and-sandboxagent
    expression: "request.kind.group == 'kagent.dev' && request.kind.kind in ['AgentHarness', 'SandboxAgent']"
  - name: not-the-controller
    expression: "request.userInfo.username != 'system:serviceaccount:{{ $root.Release.Namespace }}:{{ include "ks.controller.serviceAccountName" $root }}'"
{{- end }}
failurePolicy: {{ $root.Values.webhook.failurePolicy }}
sideEffects: None
timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
admissionReviewVersions: ["v1"]
{{- end -}}

{{- define "ks.webhook.annotations" -}}
{{- if .Values.certManager.enabled -}}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "ks.webhook.certName" .) }}
{{- end -}}
{{- end -}}
