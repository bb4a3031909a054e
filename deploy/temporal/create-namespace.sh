#!/bin/sh
# One-shot, run in temporalio/admin-tools: wait until the Temporal server reports SERVING,
# then create the namespace if it does not exist yet (as in temporalio/samples-server
# compose/scripts/create-namespace.sh, with longer waits and a configurable retention).
set -eu

TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${NAMESPACE:-default}"
NAMESPACE_RETENTION="${NAMESPACE_RETENTION:-720h}"

host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
# Dial the service's IPv4 address: the CLI can otherwise pick an address the server does not
# listen on (the samples-server script works around the same problem).
ip="$(getent ahosts "$host" 2>/dev/null \
    | awk '$2 == "STREAM" && $1 ~ /^[0-9.]+$/ { print $1; exit }')"
address="${ip:-$host}:${port}"

echo "Waiting for Temporal at ${TEMPORAL_ADDRESS} (${address}) to report SERVING..."
tries=0
until temporal operator cluster health --address "$address"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "Temporal at ${address} did not become healthy" >&2
        exit 1
    fi
    sleep 5
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$address" \
    >/dev/null 2>&1; then
    echo "Namespace '${NAMESPACE}' already exists"
    exit 0
fi

echo "Creating namespace '${NAMESPACE}' (retention ${NAMESPACE_RETENTION})"
temporal operator namespace create --namespace "$NAMESPACE" --retention "$NAMESPACE_RETENTION" \
    --address "$address"
# "Namespace registration takes up to 15 seconds to complete" (docs.temporal.io, Managing
# Namespaces): give the frontend's namespace cache that long before the next job uses it.
sleep 15
temporal operator namespace describe --namespace "$NAMESPACE" --address "$address" >/dev/null
echo "Namespace '${NAMESPACE}' created"
