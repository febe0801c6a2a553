// Package bench holds the end-to-end performance benchmarks of the plugins'
// analyses on large generated clusters (see README.md); the generator is
// package bigcluster.
package bench
