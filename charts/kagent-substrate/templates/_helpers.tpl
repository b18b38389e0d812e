{{/*
Names. The full name is cut to 40 characters so that "<fullname>-<suffix>" stays within 63 for
every suffix the chart uses (the longest is "-controller-workerpools", 23 characters).
*/}}
{{- define "ks.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "ks.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ks.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object; pass (dict "root" $ "component" "webhook"). */}}
{{- define "ks.labels" -}}
helm.sh/chart: {{ include "ks.chart" .root }}
{{ include "ks.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: kagent
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "ks.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ks.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "ks.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "ks.webhook.serviceAccountName" -}}
{{- default (printf "%s-webhook" (include "ks.fullname" .)) .Values.serviceAccount.webhook.name -}}
{{- end -}}

{{- define "ks.controller.serviceAccountName" -}}
{{- default (printf "%s-controller" (include "ks.fullname" .)) .Values.serviceAccount.controller.name -}}
{{- end -}}

{{- define "ks.webhook.serviceName" -}}
{{- printf "%s-webhook" (include "ks.fullname" .) -}}
{{- end -}}

{{/* Name of both webhook configurations (a Validating and a Mutating one may share a name). */}}
{{- define "ks.webhook.configName" -}}
{{- include "ks.fullname" . -}}
{{- end -}}

{{- define "ks.webhook.certName" -}}
{{- printf "%s-webhook-tls" (include "ks.fullname" .) -}}
{{- end -}}

{{- define "ks.leaseName" -}}
{{- default (printf "%s-controller" (include "ks.fullname" .)) .Values.controller.leaderElection.id -}}
{{- end -}}

{{/* The default WorkerPool name: the created pool, else defaultWorkerPool.name, else "". */}}
{{- define "ks.defaultWorkerPoolName" -}}
{{- if .Values.workerPool.create -}}
{{- if not .Values.workerPool.name -}}
{{- fail "workerPool.name is required when workerPool.create=true" -}}
{{- end -}}
{{- if and .Values.defaultWorkerPool.name (ne .Values.defaultWorkerPool.name .Values.workerPool.name) -}}
{{- fail (printf "defaultWorkerPool.name (%s) and workerPool.name (%s) differ: with workerPool.create=true the created pool is the default; clear defaultWorkerPool.name" .Values.defaultWorkerPool.name .Values.workerPool.name) -}}
{{- end -}}
{{- .Values.workerPool.name -}}
{{- else -}}
{{- .Values.defaultWorkerPool.name -}}
{{- end -}}
{{- end -}}

{{- define "ks.defaultWorkerPoolNamespace" -}}
{{- if .Values.workerPool.create -}}
{{- .Release.Namespace -}}
{{- else -}}
{{- default .Release.Namespace .Values.defaultWorkerPool.namespace -}}
{{- end -}}
{{- end -}}

{{/* Sorted, unique watched namespaces (empty: all). */}}
{{- define "ks.watchedNamespaces" -}}
{{- .Values.rbac.namespaces | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/* Seconds in a duration of the schema's form ("5m", "1h30m", "90s", "500ms"), for PromQL. */}}
{{- define "ks.durationSeconds" -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" . -1 -}}
{{- $unit := regexReplaceAll "^[0-9]+" . "" -}}
{{- $scale := get (dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0) $unit -}}
{{- $total = addf $total (mulf (float64 (regexFind "^[0-9]+" .)) $scale) -}}
{{- end -}}
{{- printf "%g" $total -}}
{{- end -}}

{{/* Checks of value combinations the schema cannot express; included by every workload. */}}
{{- define "ks.validate" -}}
{{- if and (not .Values.certManager.enabled) (gt (int .Values.webhook.replicas) 1) -}}
{{- fail "webhook.replicas > 1 needs certManager.enabled=true: in self-signed mode every webhook pod keeps its own CA and they would overwrite each other's caBundle" -}}
{{- end -}}
{{- if ge (float64 .Values.webhook.requestTimeout) (float64 .Values.webhook.timeoutSeconds) -}}
{{- fail (printf "webhook.requestTimeout (%v) must be below webhook.timeoutSeconds (%v), so the webhook answers before the API server gives up" .Values.webhook.requestTimeout .Values.webhook.timeoutSeconds) -}}
{{- end -}}
{{- if and .Values.workerPool.create (not .Values.workerPool.ateomImage) -}}
{{- fail "workerPool.ateomImage is required when workerPool.create=true" -}}
{{- end -}}
{{- if and (gt (int .Values.controller.replicas) 1) (not .Values.controller.leaderElection.enabled) -}}
{{- fail "controller.replicas > 1 needs controller.leaderElection.enabled=true: otherwise every replica reconciles the same objects" -}}
{{- end -}}
{{- $_ := include "ks.defaultWorkerPoolName" . -}}
{{- end -}}

{{/* The pod/container security settings. */}}
{{- define "ks.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}
