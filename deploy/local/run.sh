#!/usr/bin/env bash
# `make run`: local Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), a demo receiver, hookstream, and a few
# sample events so that webhooks can be seen arriving. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  deploy/local/kafka.sh start
  export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092
fi
export HOOKSTREAM_SUBSCRIPTIONS=${HOOKSTREAM_SUBSCRIPTIONS:-deploy/local/demo-subscriptions.yaml}
export HOOKSTREAM_DEVELOPMENT=${HOOKSTREAM_DEVELOPMENT:-true}
export HOOKSTREAM_KAFKA__CREATE_INPUT_TOPICS=true
export HOOKSTREAM_SENDER__SSRF_ALLOW=${HOOKSTREAM_SENDER__SSRF_ALLOW:-'["127.0.0.0/8", "::1/128"]'}
export HOOKSTREAM_STORE_URL=${HOOKSTREAM_STORE_URL:-sqlite+aiosqlite:///hookstream.db}
export DEMO_SIGNING_SECRET=${DEMO_SIGNING_SECRET:-whsec_ZGVtby1zaWduaW5nLXNlY3JldC1mb3ItbWFrZS1ydW4=}
# The web console and the API: one admin token, `hookstream-dev` (its SHA-256 below), and a key for
# the secrets typed into subscriptions made there. Both are for this demo only: never deploy them.
export HOOKSTREAM_ADMIN__TOKENS=${HOOKSTREAM_ADMIN__TOKENS:-'[{"name": "developer", "sha256": "499d05ecce0315a6795510d81d2e4ba8741a1dcaa3d64f7e3a9a0a619d60fcda", "role": "admin"}]'}
export HOOKSTREAM_SECRET_KEY=${HOOKSTREAM_SECRET_KEY:-OoPXl4zwijfYHt6EywOp5T_xFxM7NSkQ0hRG09qqGf8=}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM

hookstream demo-receiver --port 8099 & pids+=($!)
hookstream run & pids+=($!)

for _ in $(seq 1 60); do
  curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break
  sleep 0.5
done
echo
echo "hookstream is running: the console at http://127.0.0.1:8080/ (sign in with the token hookstream-dev),"
echo "metrics at http://127.0.0.1:8080/metrics"
echo "Producing sample events; more with: .venv/bin/hookstream produce-sample --count 10"
echo
hookstream produce-sample --count 8 --every 0.5
wait
