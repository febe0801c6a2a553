// Package certs finds certificates in the places a cluster keeps them
// (kubeconfigs, PKI directories, Secrets, ConfigMaps, webhook caBundles, TLS
// handshakes) and analyses them: expiry, validity, chains, host names, key and
// signature strength. Everything here is pure: the caller reads files and
// dials servers, this package only looks at the bytes.
//
// In the data flow it is cert-expiry's analysis: Plan says what to read, pkg/certs/collect
// reads it, Analyze and NewReport turn it into the report the plugin prints
// (with its tables, table.go).
package certs
