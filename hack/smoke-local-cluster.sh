#!/usr/bin/env bash
# End-to-end check of hack/local-cluster: starts a cluster, proves that the
# scheduler, the controller manager and kwok do their jobs, and tears it down.
#
#   hack/smoke-local-cluster.sh [--long] [--name NAME]
#
# --long also waits 90 s and checks that the nodes stay Ready (node leases).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME=ktriage-smoke
LONG=0
while (($#)); do
	case "$1" in
	--long) LONG=1 ;;
	--name) NAME="$2"; shift ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

log() { printf '%s\n' "smoke: $*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}

cleanup() { "${HACK_DIR}/local-cluster" down --name "$NAME" || true; }
trap cleanup EXIT

eval "$("${HACK_DIR}/local-cluster" up --name "$NAME" --nodes 3)"
k() { "$KTRIAGE_KUBECTL" "$@"; }

# poll <seconds> <description> <command...>
poll() {
	local secs="$1" what="$2" deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || fail "timed out waiting for ${what}"
		sleep 0.5
	done
	log "ok: ${what}"
}

ready_nodes() {
	[[ "$(k get nodes -l type=kwok -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -eq 3 ]]
}
untainted_nodes() {
	[[ -z "$(k get nodes -o 'jsonpath={.items[*].spec.taints}')" ]]
}

poll 5 "3 Ready kwok nodes" ready_nodes
poll 5 "no node taints" untainted_nodes
k get nodes -L topology.kubernetes.io/zone >&2

# A pod is scheduled by kube-scheduler and run by kwok.
k run smoke --image=registry.invalid/pause:1 --restart=Never >/dev/null
pod_running() {
	[[ "$(k get pod smoke -o 'jsonpath={.status.phase}|{.spec.nodeName}|{.status.podIP}')" =~ ^Running\|kwok-node-[0-9]+\|10\.244\. ]]
}
poll 30 "pod scheduled and Running with an IP from the node's podCIDR" pod_running
k get pod smoke -o wide >&2

# A Deployment's pods are created by the controller manager.
k create deployment smoke --image=registry.invalid/pause:1 --replicas=3 >/dev/null
deployment_available() {
	[[ "$(k get deployment smoke -o 'jsonpath={.status.availableReplicas}')" == 3 ]]
}
poll 60 "Deployment with 3 available replicas" deployment_available

# An unschedulable pod gets the scheduler's PodScheduled=False condition.
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: smoke-pending
spec:
  nodeSelector:
    no-such-label: "true"
  containers:
  - name: c
    image: registry.invalid/pause:1
EOF
unschedulable() {
	k get pod smoke-pending -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}' | grep -q '^0/3 nodes are available: '
}
poll 30 "PodScheduled=False with '0/3 nodes are available: ...'" unschedulable
log "message: $(k get pod smoke-pending -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}')"

# The audit log records the admin's requests.
grep -q '"user":{"username":"admin"' "$KTRIAGE_AUDIT_LOG" || fail "no admin requests in ${KTRIAGE_AUDIT_LOG}"
log "ok: audit log has the admin's requests"

if ((LONG)); then
	log "waiting 90s to check the node leases keep the nodes Ready"
	sleep 90
	ready_nodes || fail "nodes not Ready after 90s"
	untainted_nodes || fail "nodes tainted after 90s: $(k get nodes -o 'jsonpath={.items[*].spec.taints}')"
	[[ "$(k get pods -A --field-selector=status.phase=Running -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -ge 4 ]] ||
		fail "pods lost readiness"
	log "ok: nodes and pods still Ready after 90s"
fi

log "PASS"
