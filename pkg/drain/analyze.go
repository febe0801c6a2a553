package drain

import "github.com/ktriage/ktriage/pkg/cluster"

// Analyze is drain-preflight's answer: the drain of o.Nodes as kubectl
// drain runs it (Simulate) and, for several nodes, the order in which they
// can be drained one after another (Plan).
func Analyze(snap *cluster.Snapshot, o Options) (*Result, error) {
	res, err := Simulate(snap, o)
	if err != nil {
		return nil, err
	}
	if res.Order, err = Plan(snap, o); err != nil {
		return nil, err
	}
	return res, nil
}
