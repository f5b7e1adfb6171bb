{{/*
Names. The Service is named after the full name, so the serving certificate must be valid for
<fullname>.<namespace>.svc (cert-manager mode does this; for mode secret pass the same names to
certs-dev/make-certs.sh --service/--namespace).
*/}}
{{- define "em-guard-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "em-guard-webhook.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "em-guard-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "em-guard-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "em-guard-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "em-guard-webhook.labels" -}}
helm.sh/chart: {{ include "em-guard-webhook.chart" . }}
{{ include "em-guard-webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: em-guard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "em-guard-webhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "em-guard-webhook.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest when a digest is given, else repository:tag (tag default: appVersion). */}}
{{- define "em-guard-webhook.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding tls.crt and tls.key. */}}
{{- define "em-guard-webhook.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secretName is required when tls.mode is secret" .Values.tls.secretName -}}
{{- else -}}
{{- printf "%s-tls" (include "em-guard-webhook.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "em-guard-webhook.policyConfigMapName" -}}
{{- printf "%s-policy" (include "em-guard-webhook.fullname" .) -}}
{{- end -}}

{{/* Seconds of the preStop sleep action: 0 when disabled or before Kubernetes 1.30. */}}
{{- define "em-guard-webhook.preStopSleepSeconds" -}}
{{- if and (gt (int .Values.preStopSleepSeconds) 0) (semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version) -}}
{{- int .Values.preStopSleepSeconds -}}
{{- else -}}
0
{{- end -}}
{{- end -}}

{{/*
One webhook entry of the ValidatingWebhookConfiguration. Takes a dict: root (the chart's
context), fullname, excluded (namespaces never sent), name, path, failurePolicy and
timeoutSeconds (empty: the webhook.* defaults), selector (the match expression on the
environment label).
*/}}
{{- define "em-guard-webhook.webhook" -}}
{{- $values := .root.Values }}
  - name: {{ .name }}
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: {{ .failurePolicy | default $values.webhook.failurePolicy }}
    timeoutSeconds: {{ .timeoutSeconds | default $values.webhook.timeoutSeconds }}
    # A request made through another version of a listed resource is converted and sent too.
    matchPolicy: Equivalent
    clientConfig:
      service:
        name: {{ .fullname }}
        namespace: {{ .root.Release.Namespace }}
        path: {{ .path }}
        port: {{ $values.service.port }}
      {{- if eq $values.tls.mode "secret" }}
      caBundle: {{ $values.tls.caBundle }}
      {{- end }}
    namespaceSelector:
      matchExpressions:
        - key: {{ .selector.key | quote }}
          operator: {{ .selector.operator }}
          {{- with .selector.values }}
          values: {{ toJson . }}
          {{- end }}
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
            {{- toYaml .excluded | nindent 12 }}
    {{- with $values.webhook.objectSelector }}
    objectSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    rules:
      {{- range $values.webhook.rules }}
      - apiGroups: {{ toJson .apiGroups }}
        apiVersions: {{ toJson .apiVersions }}
        operations: {{ toJson (.operations | default (list "CREATE" "UPDATE")) }}
        resources: {{ toJson .resources }}
        scope: Namespaced
      {{- end }}
{{- end -}}

{{/*
Checks that values.schema.json cannot express. Renders nothing; fails the release with a
message that says what to change.
*/}}
{{- define "em-guard-webhook.validate" -}}
{{- $seen := dict -}}
{{- range .Values.environments -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "environments: %q is listed twice; each environment gets one webhook" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- if eq .name "unlabelled-namespaces" -}}
{{- fail "environments: \"unlabelled-namespaces\" is the name of the webhook for namespaces without the label; name the environment otherwise" -}}
{{- end -}}
{{- end -}}
{{- if and (eq .Values.tls.mode "secret") (not .Values.tls.caBundle) -}}
{{- fail "tls.caBundle is required when tls.mode is secret (certs-dev/make-certs.sh prints it)" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- fail "podDisruptionBudget.minAvailable must be below replicaCount, or no node could ever be drained" -}}
{{- end -}}
{{- end -}}
