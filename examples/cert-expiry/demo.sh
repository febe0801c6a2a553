# Sourced by hack/demo.sh. Certificates expire relative to now, so they are
# generated at demo time (pkg/certs/certtest) rather than kept as manifests:
# Secrets, ConfigMaps and a webhook configuration in namespace cert-demo that
# hold expired, soon-expiring, not-yet-valid, weak and mis-issued
# certificates, and a kubeadm-layout PKI directory.
gen_pki() { (cd "$ROOT" && go run ./pkg/certs/certtest/cmd/gen-pki "$@"); }

kc create namespace cert-demo --dry-run=client -o yaml | kc apply -f - >/dev/null
gen_pki manifests cert-demo 2>/dev/null | kc apply -f - >/dev/null
echo "applied generated Secrets, ConfigMaps and a webhook configuration to namespace cert-demo"
CERT_DEMO_PKI="$(mktemp -d)"
gen_pki kubeadm "$CERT_DEMO_PKI" 2>/dev/null
echo "generated a kubeadm-layout PKI in ${CERT_DEMO_PKI}"

# The current kubeconfig (client certificates, CA), the API server's served
# chain, and every Secret, ConfigMap and caBundle of the cluster.
run "${BIN}/kubectl-cert_expiry"

# A control-plane node's view: kubeadm's PKI, its kubeconfigs and the kubelet's
# certificates (here the generated directory instead of /etc/kubernetes).
run "${BIN}/kubectl-cert_expiry" --sources pki --pki-dir "${CERT_DEMO_PKI}/pki" \
	--kubernetes-dir "${CERT_DEMO_PKI}" --kubelet-pki-dir "${CERT_DEMO_PKI}/kubelet/pki"

# CI: the same manifests checked as files, failing on anything expiring within 30 days.
gen_pki manifests cert-demo 2>/dev/null >"${CERT_DEMO_PKI}/manifests.yaml"
run "${BIN}/kubectl-cert_expiry" -f "${CERT_DEMO_PKI}/manifests.yaml" --fail 30d --warn 90d -o wide
