#!/usr/bin/env bash
# A local Kafka (KRaft) for development: `scripts/kafka-broker.sh [BROKERS]` prints the
# bootstrap address (and an export line) and runs until Ctrl-C; its storage is temporary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh >/dev/null
scripts/provision-kafka.sh
exec .venv/bin/python -m tools.kafka.broker "${1:-1}"
