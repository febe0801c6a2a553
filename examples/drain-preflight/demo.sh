# Sourced by hack/demo.sh after the manifests above are applied.
bin="${BIN}/kubectl-drain_preflight"
# Let the controllers create the pods and the disruption controller count them.
kc rollout status -n drain-demo deployment/payments deployment/web --timeout=60s >/dev/null
sleep 3
kc get pods -n drain-demo -o wide
kc get pdb -n drain-demo

# A node running a payments pod: its budget (maxUnavailable: 0) refuses every
# eviction, so kubectl drain would wait for ever.
payments_nodes="$(kc get pods -n drain-demo -l app=payments -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}')"
run "$bin" "$(head -1 <<<"$payments_nodes")" --ignore-daemonsets --delete-emptydir-data

# A node without payments: its web pod goes (the web budget allows one
# disruption) and the replacement finds room on another node. On a reused demo
# cluster, pods of the other examples that no controller recreates may run
# there too: kubectl drain refuses them without --force, and so does the answer.
safe=""
for n in $(kc get nodes -o 'jsonpath={.items[*].metadata.name}'); do
	grep -qx "$n" <<<"$payments_nodes" || { safe="$n"; break; }
done
run "$bin" "${safe:-kwok-node-2}" --ignore-daemonsets --delete-emptydir-data -o wide

# The same question offline, against a dump (state/cluster.yaml), e.g. in a
# change review.
run "$bin" kwok-node-0 --ignore-daemonsets --cluster-state "${EXAMPLES}/state/cluster.yaml"
