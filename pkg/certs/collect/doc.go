// Package collect reads what cert-expiry checks, from every place a plan
// (certs.Plan) names: files given with -f, the on-disk PKI, the kubeconfig,
// the cluster's objects (through cluster.LoadLiveWith) and the chains servers
// present in TLS handshakes. It is the only part of cert-expiry that reads
// files, calls the API or dials; what it returns goes to certs.Analyze.
//
// In the data flow it is cert-expiry's loading step: flags → certs.Plan → collect →
// certs.Analyze → printer → exit code.
package collect
