// Package certtest creates certificates with chosen dates, keys and
// signatures, for tests and demos that must know exactly what a scan should
// report.
//
// It is outside the data flow: only tests and the gen-pki demo command use it.
package certtest
