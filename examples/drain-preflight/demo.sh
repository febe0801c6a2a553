# drain-preflight is not implemented yet: it says so and exits 2. The
# PodDisruptionBudget above is what it will have to report (minAvailable 2 of 2).
kc get pdb -n drain-demo
run "${BIN}/kubectl-drain_preflight" kwok-node-0
