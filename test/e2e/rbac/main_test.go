// Package rbac runs each plugin that reads a live cluster as a
// ServiceAccount holding exactly the role the project ships for it
// (deploy/rbac/<plugin>.yaml), and as ServiceAccounts confined to one
// namespace, on a real control plane (kube-apiserver with RBAC and an audit
// log, kube-scheduler, kube-controller-manager, kwok nodes).
//
// For the shipped ClusterRole a run must give what an administrator's run
// gives (same exit code, same verdict), and the API server's audit log must
// show that every request the plugin made is granted by the role, that the
// plugin only read (netcheck: one patch of pods/ephemeralcontainers per
// probe, none with --no-probe), and that every rule of the role was used:
// the role is enough and holds nothing more.
//
// Confined to a namespace (the shipped Role, or read access to the namespace
// only), a run must either give a partial report with warnings naming the
// verb and resource it could not use, or, when the plugin cannot work at
// all, exit 2 with one line naming them; never a crash.
package rbac

import (
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m, framework.Options{Name: "e2e-rbac", Nodes: 2}) }
