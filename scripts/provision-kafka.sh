#!/usr/bin/env bash
# Makes Apache Kafka's broker runnable here: Java 17+ and Maven (Debian packages, if absent), then
# the broker's jars from Maven Central into tools/kafka/lib (once). Nothing is started here.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]} (Debian packages)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! compgen -G "tools/kafka/lib/kafka_2.13-*.jar" >/dev/null; then
  echo "==> resolving Apache Kafka's broker jars from Maven Central (tools/kafka/pom.xml)"
  mvn -q -B -f tools/kafka/pom.xml dependency:copy-dependencies
fi
