// Command gen-pki writes certificates with dates relative to now, for demos
// and for a local cluster whose serving chain is known:
//
//	gen-pki serving DIR      API server chain (tls.crt, tls.key, ca.crt) for
//	                         KTRIAGE_APISERVER_TLS_DIR=DIR hack/local-cluster up
//	gen-pki kubeadm DIR      a kubeadm-layout PKI (DIR/pki, DIR/*.conf, DIR/kubelet/pki)
//	gen-pki manifests NS     Secrets, ConfigMaps and a webhook configuration (YAML on stdout)
//
// Each prints the notAfter of what it generated on stderr.
//
// It is outside the data flow of the plugins: it makes fixtures for demos.
package main
