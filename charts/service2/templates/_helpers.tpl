{{/* Chart name, overridable. */}}
{{- define "service2.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name when it already contains the chart name (so `helm install service2`
gives Service "service2"), else release-chart.
*/}}
{{- define "service2.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "service2.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The image tag: the value, else the chart's appVersion. */}}
{{- define "service2.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "service2.selectorLabels" -}}
app.kubernetes.io/name: {{ include "service2.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels every object shares, without the selector ones. */}}
{{- define "service2.commonLabels" -}}
helm.sh/chart: {{ include "service2.chart" . }}
app.kubernetes.io/version: {{ include "service2.tag" . | trunc 63 | quote }}
app.kubernetes.io/part-of: timekit
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "service2.labels" -}}
{{ include "service2.selectorLabels" . }}
{{ include "service2.commonLabels" . }}
app.kubernetes.io/component: timestamp-formatter
{{- end }}

{{/* repository:tag, plus @digest when one is given. */}}
{{- define "service2.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "service2.tag" .) }}
{{- if .Values.image.digest }}{{ $ref = printf "%s@%s" $ref .Values.image.digest }}{{ end }}
{{- $ref }}
{{- end }}

{{- define "service2.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "service2.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Long enough for the preStop pause, the shutdown delay and the drain, plus 2 s to exit. */}}
{{- define "service2.terminationGracePeriodSeconds" -}}
{{- $drainMs := add .Values.config.shutdownDelayMs .Values.config.drainTimeoutMs }}
{{- $needed := add .Values.preStopSleepSeconds (div (add $drainMs 999) 1000) 2 }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- $needed }}
{{- else if lt (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds=%v is shorter than preStopSleepSeconds + shutdownDelayMs + drainTimeoutMs + 2 s = %v; raise it or leave it null" .Values.terminationGracePeriodSeconds $needed) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* The restricted Pod Security Standard, for the pod and for each container. */}}
{{- define "service2.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "service2.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Labels of this chart's `helm test` pod. They differ from the service's selector labels, so the
Service, PodDisruptionBudget and NetworkPolicy never select the test pod as a service pod.
*/}}
{{- define "service2.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "service2.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
