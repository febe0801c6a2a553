#!/usr/bin/env bash
# Start a local cluster, create the broken workloads in examples/ and run every
# plugin against them with its real output.
#
#   hack/demo.sh            (make demo)   start or reuse the "ktriage-demo" cluster
#   hack/demo.sh --down                   remove it
#
# Each examples/<plugin>/ directory holds manifests (*.yaml, applied in name
# order) and an optional demo.sh, sourced after the manifests are applied, that
# runs the plugin. demo.sh scripts can use $KUBECONFIG, $BIN (the plugin
# binaries), $EXAMPLES (their own directory), kc (kubectl) and run (print a
# command, then run it, never stopping the demo on a non-zero exit).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${KTRIAGE_DEMO_CLUSTER:-ktriage-demo}"
BIN="${ROOT}/bin"

if [[ "${1:-}" == "--down" ]]; then
	exec "${ROOT}/hack/local-cluster" down --name "$NAME"
fi

bold() { if [[ -t 1 ]]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
run() {
	printf '\n$ %s\n' "$*"
	local rc=0
	"$@" || rc=$?
	printf '(exit code %d)\n' "$rc"
}

# Serve the API with a generated chain (root CA, intermediate, serving
# certificate, with dates relative to now) so that kubectl cert-expiry has a
# served chain to show; without it the API server signs its own.
if [[ -z "${KTRIAGE_APISERVER_TLS_DIR:-}" ]]; then
	demo_tls_dir="$(mktemp -d)"
	trap 'rm -rf "$demo_tls_dir"' EXIT # local-cluster keeps its own copy
	if (cd "$ROOT" && go run ./pkg/certs/certtest/cmd/gen-pki serving "$demo_tls_dir" 2>/dev/null); then
		export KTRIAGE_APISERVER_TLS_DIR="$demo_tls_dir"
	fi
fi

bold "Starting the local cluster '${NAME}' (the first run builds Kubernetes from source: ~15 min)"
eval "$("${ROOT}/hack/local-cluster" up --name "$NAME" --nodes 3)"
export KUBECONFIG
kc() { "$KTRIAGE_KUBECTL" "$@"; }
export PATH="${BIN}:${PATH}"
kc get nodes -L topology.kubernetes.io/zone

for dir in "${ROOT}"/examples/*/; do
	plugin="$(basename "$dir")"
	EXAMPLES="${dir%/}"
	bold "kubectl ${plugin}"
	shopt -s nullglob
	manifests=("${EXAMPLES}"/*.yaml)
	shopt -u nullglob
	if ((${#manifests[@]})); then
		for m in "${manifests[@]}"; do
			kc apply -f "$m" >/dev/null
		done
		echo "applied ${#manifests[@]} manifest(s) from examples/${plugin}/"
	fi
	if [[ -f "${EXAMPLES}/demo.sh" ]]; then
		# A section that fails (or pipes into head) must not end the demo.
		# shellcheck disable=SC1091
		(set +e +o pipefail; source "${EXAMPLES}/demo.sh") || echo "(the ${plugin} demo ended with an error)"
	else
		run "${BIN}/kubectl-${plugin//-/_}" -A
	fi
done

bold "Done. The cluster keeps running:"
echo "  eval \"\$(hack/local-cluster env --name ${NAME})\"   # use it with kubectl and the plugins in bin/"
echo "  hack/demo.sh --down                                  # remove it"
