# Sourced by hack/demo.sh after the manifests above are applied.
bin="${BIN}/kubectl-qos_audit"
# Let the controllers create the pods.
sleep 3
run "$bin" -n qos-demo
run "$bin" -n qos-demo -o wide
run "$bin" -A -l tier=db --require Guaranteed
run "$bin" -n qos-demo-limits -f "${EXAMPLES}/predict/"
run "$bin" -n qos-demo -o json --fail-on never | head -40
