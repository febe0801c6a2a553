package drain

import "github.com/ktriage/ktriage/pkg/cluster"

// maxPlanSearch bounds the nodes whose order Plan searches; above it the
// nodes are taken in the order given. The search simulates up to n²/2
// drains.
const maxPlanSearch = 12

// Plan answers "in what order can these nodes be drained one after another,
// each with its own kubectl drain, without a budget violation or a pod left
// Pending?". It takes, at each step, the first remaining node whose drain is
// safe after the steps before it; the nodes left when none is safe get
// step 0 and the verdict their drain would have next.
func Plan(snap *cluster.Snapshot, o Options) ([]OrderStep, error) {
	if len(o.Nodes) < 2 {
		return nil, nil
	}
	if len(o.Nodes) > maxPlanSearch {
		return planInOrder(snap, o)
	}
	var steps []OrderStep
	var done []string
	remaining := append([]string(nil), o.Nodes...)
	for len(remaining) > 0 {
		last := map[string]*Result{}
		next := -1
		for i, n := range remaining {
			r, err := simulateOneByOne(snap, o, append(append([]string(nil), done...), n))
			if err != nil {
				return nil, err
			}
			if r.Verdict == Safe {
				next = i
				break
			}
			last[n] = r
		}
		if next < 0 {
			for _, n := range remaining {
				steps = append(steps, OrderStep{Node: n, Verdict: last[n].Verdict, Reasons: last[n].Reasons})
			}
			break
		}
		done = append(done, remaining[next])
		steps = append(steps, OrderStep{Step: len(done), Node: remaining[next], Verdict: Safe})
		remaining = append(remaining[:next], remaining[next+1:]...)
	}
	return steps, nil
}

// planInOrder drains the nodes one after another in the order given.
func planInOrder(snap *cluster.Snapshot, o Options) ([]OrderStep, error) {
	r, err := simulateOneByOne(snap, o, o.Nodes)
	if err != nil {
		return nil, err
	}
	var steps []OrderStep
	ok := true
	for i, n := range r.Nodes {
		st := OrderStep{Node: n.Name, Verdict: n.Verdict}
		ok = ok && n.Verdict == Safe
		if ok {
			st.Step = i + 1
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func simulateOneByOne(snap *cluster.Snapshot, o Options, nodes []string) (*Result, error) {
	o.Nodes = nodes
	s := newSim(snap, o)
	s.oneByOne = true
	if err := s.run(); err != nil {
		return nil, err
	}
	s.finish()
	return s.res, nil
}
