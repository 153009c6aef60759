{{/* Names and labels. */}}
{{- define "hookstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hookstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "hookstream.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "hookstream.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "hookstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hookstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "hookstream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "hookstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hookstream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hookstream.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The roles this release runs, one Deployment each: ["all"], or the four of split: true. */}}
{{- define "hookstream.roles" -}}
{{- if .Values.split }}["main","retry","dlq","admin"]{{ else }}["all"]{{ end }}
{{- end }}

{{/* The Deployment of a role: the release's name alone when one Deployment runs every role. */}}
{{- define "hookstream.deploymentName" -}}
{{- $root := index . 0 }}{{- $role := index . 1 }}
{{- if eq $role "all" }}{{ include "hookstream.fullname" $root }}{{ else }}{{ printf "%s-%s" (include "hookstream.fullname" $root) $role | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{/* The role whose Deployment consumes the input topics, and so is the one autoscaled. */}}
{{- define "hookstream.inputRole" -}}
{{- if .Values.split }}main{{ else }}all{{ end }}
{{- end }}

{{- define "hookstream.replicas" -}}
{{- $root := index . 0 }}{{- $role := index . 1 }}
{{- if eq $role "all" }}{{ $root.Values.replicaCount }}{{ else }}{{ (index $root.Values.roles $role).replicas }}{{ end }}
{{- end }}

{{/* Store: a Secret holds its URL unless it is the pod's own SQLite file. */}}
{{- define "hookstream.storeSecretName" -}}
{{- if .Values.store.existingSecret }}{{ .Values.store.existingSecret }}{{ else if .Values.store.url }}{{ printf "%s-store" (include "hookstream.fullname" .) }}{{ end }}
{{- end }}

{{- define "hookstream.storeSecretKey" -}}
{{- if .Values.store.existingSecret }}{{ .Values.store.existingSecretKey }}{{ else }}url{{ end }}
{{- end }}

{{/*
Refuse what cannot work. A SQLite store lives in one pod's emptyDir: a second pod that opens the
store (role all, dlq or admin) would have a store of its own, and failed events would be split
between them. An existing Secret is trusted to hold a server database.
*/}}
{{- define "hookstream.validate" -}}
{{- if not .Values.kafka.bootstrapServers }}
{{- fail "kafka.bootstrapServers is required: the Kafka cluster's bootstrap servers, host:port[,host:port]" }}
{{- end }}
{{- $writers := 0 }}
{{- if .Values.split }}
{{- $writers = add .Values.roles.dlq.replicas .Values.roles.admin.replicas }}
{{- else if .Values.autoscaling.enabled }}
{{- $writers = .Values.autoscaling.maxReplicas }}
{{- else }}
{{- $writers = .Values.replicaCount }}
{{- end }}
{{- $sqlite := and (not .Values.store.existingSecret) (or (not .Values.store.url) (hasPrefix "sqlite" .Values.store.url)) }}
{{- if and $sqlite (gt (int $writers) 1) }}
{{- fail (printf "the failed-events store is SQLite, but %d pods would write to it (each would keep its own file): set store.existingSecret (or store.url) to a PostgreSQL URL, or run one pod" (int $writers)) }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret: the Secret holding the username and password" }}
{{- end }}
{{- if and .Values.kafka.tls.enabled (not .Values.kafka.tls.existingSecret) }}
{{- fail "kafka.tls.enabled needs kafka.tls.existingSecret: the Secret holding ca.crt" }}
{{- end }}
{{- end }}

{{/* librdkafka settings: the security ones the chart derives, then the user's. */}}
{{- define "hookstream.clientConfig" -}}
{{- $k := .Values.kafka }}
{{- $conf := dict }}
{{- if and $k.sasl.enabled $k.tls.enabled }}{{ $_ := set $conf "security.protocol" "SASL_SSL" }}
{{- else if $k.sasl.enabled }}{{ $_ := set $conf "security.protocol" "SASL_PLAINTEXT" }}
{{- else if $k.tls.enabled }}{{ $_ := set $conf "security.protocol" "SSL" }}{{ end }}
{{- if $k.sasl.enabled }}{{ $_ := set $conf "sasl.mechanism" $k.sasl.mechanism }}{{ end }}
{{- if $k.tls.enabled }}
{{- $_ := set $conf "ssl.ca.location" "/etc/hookstream/kafka-tls/ca.crt" }}
{{- if $k.tls.clientCertificate }}
{{- $_ := set $conf "ssl.certificate.location" "/etc/hookstream/kafka-tls/tls.crt" }}
{{- $_ := set $conf "ssl.key.location" "/etc/hookstream/kafka-tls/tls.key" }}
{{- end }}
{{- end }}
{{- toJson (mergeOverwrite $conf $k.clientConfig) }}
{{- end }}

{{/* The HOOKSTREAM_CONFIG file: what the chart knows, then `settings`. */}}
{{- define "hookstream.settings" -}}
{{- $k := .Values.kafka }}
{{- $kafka := dict "bootstrap_servers" $k.bootstrapServers "input_topics" $k.inputTopics "group_id" $k.groupId "topic_prefix" $k.topicPrefix "partitions" $k.partitions "replication_factor" $k.replicationFactor "client_config" (include "hookstream.clientConfig" . | fromJson) }}
{{- $s := dict "kafka" $kafka "admin_port" .Values.adminPort "grace_period" .Values.gracePeriodSeconds "log_level" .Values.logLevel }}
{{- if .Values.store.retentionDays }}{{ $_ := set $s "store_retention_days" .Values.store.retentionDays }}{{ end }}
{{- toYaml (mergeOverwrite $s (deepCopy .Values.settings)) }}
{{- end }}

{{/* Prometheus series of this release, as the ServiceMonitor labels them. */}}
{{- define "hookstream.promSelector" -}}
job="{{ include "hookstream.fullname" . }}", namespace="{{ .Release.Namespace }}"
{{- end }}
