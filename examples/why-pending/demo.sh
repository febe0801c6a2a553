# Sourced by hack/demo.sh after the manifests above are applied.
bin="${BIN}/kubectl-why_pending"
# Let the scheduler and the controllers act (and a silent scheduler be noticed).
sleep 12
run "$bin" -n wp-demo
run "$bin" -n wp-demo wants-ssd -o wide
run "$bin" -n wp-demo deploy/checkout
run "$bin" -n wp-demo -f "${EXAMPLES}/ci/"
kc get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml > "${TMPDIR:-/tmp}/why-pending-state.yaml"
run "$bin" -n wp-demo -f "${EXAMPLES}/ci/" --cluster-state "${TMPDIR:-/tmp}/why-pending-state.yaml"
run "$bin" -A -o json --fail-on never | head -30
