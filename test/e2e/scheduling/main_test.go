// Package scheduling checks the scheduling engine against the real
// kube-scheduler: each scenario makes a pod unschedulable on a local control
// plane, waits for the scheduler's PodScheduled message and requires
// scheduling.Evaluate to produce the same text from a snapshot of the cluster.
package scheduling

import (
	"os"
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) {
	// These tests call the library directly and run no plugin binary, so
	// they need no build of ./cmd/...: an empty directory will do.
	if os.Getenv("KTRIAGE_BIN") == "" {
		dir, err := os.MkdirTemp("", "ktriage-e2e-scheduling-")
		if err == nil {
			os.Setenv("KTRIAGE_BIN", dir)
		}
	}
	framework.Main(m, framework.Options{Name: "scheduling", Nodes: 3, Zones: 3})
}
