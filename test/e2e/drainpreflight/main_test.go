// Package drainpreflight checks kubectl drain-preflight against the real
// kubectl drain on a real control plane (kube-apiserver, kube-scheduler,
// kube-controller-manager, kwok nodes). Each case builds its own nodes and
// workloads, asks drain-preflight what a drain would do, drains the node for
// real and compares the prediction with what happened: whether the drain
// failed or hung, and which pods were left Pending.
package drainpreflight

import (
	"flag"
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

const bin = "kubectl-drain_preflight"

func TestMain(m *testing.M) {
	flag.Parse()
	// The cases spend their time waiting for the control plane, not the CPU,
	// and never share a node: run them side by side unless -parallel says
	// otherwise.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "6")
	}
	framework.Main(m, framework.Options{Name: "e2e-drainpreflight", Nodes: 1})
}
