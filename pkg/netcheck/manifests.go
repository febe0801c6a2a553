package netcheck

import (
	"github.com/ktriage/ktriage/pkg/cluster"
)

// Manifests are what a run from files (-f, --cluster-state) answers from:
// the files and the state they are merged over.
type Manifests struct {
	// Files are the -f objects; nil without -f.
	Files *cluster.Snapshot
	// State is the --cluster-state dump or the live cluster's objects; nil
	// offline.
	State *cluster.Snapshot
	// Live, when State was read from the live cluster, holds the namespaces
	// it was read for (ManifestQueries); nil otherwise.
	Live map[string]bool
}

// Online says State is the live cluster's.
func (m *Manifests) Online() bool { return m.Live != nil }

// Objects are the files merged over the state, as a check reads them.
func (m *Manifests) Objects() *Objects {
	return NewWorldObjects(NewWorld(m.State, m.Files, !m.Online()), m.Live)
}

// ExpectationNamespaces are the namespaces SRC, DST and the expectations
// name: the live cluster is read for them too.
func ExpectationNamespaces(src, dst string, expectations []Expectation) []string {
	out := NamedNamespaces(src, dst)
	for _, e := range expectations {
		out = append(out, NamedNamespaces(e.From, e.To)...)
		if e.Namespace != "" {
			out = append(out, e.Namespace)
		}
	}
	return out
}

// Check answers chk (SRC DST) from the manifests, with what the merge
// warned about.
func (m *Manifests) Check(chk Check) (*Result, error) {
	objs := m.Objects()
	plan, err := PlanCheck(objs, chk)
	if err != nil {
		return nil, err
	}
	res, err := plan.Conclude(nil)
	if err != nil {
		return nil, err
	}
	for _, w := range objs.Snapshot().Warnings {
		res.Warn(w)
	}
	return res, nil
}

// Batch answers the expectations and, with matrix, builds the matrix (see
// Matrix): one report whose findings are the expectations not met.
func (m *Manifests) Batch(chk Check, expectations []Expectation, matrix bool) (*BatchResult, error) {
	rep := NewBatchResult()
	var warnings []string
	if len(expectations) > 0 {
		objs := m.Objects()
		results, findings, ws, err := Expect(objs, chk, expectations)
		if err != nil {
			return nil, err
		}
		rep.Expectations = results
		for _, f := range findings {
			rep.Add(f)
		}
		warnings = append(append(warnings, objs.Snapshot().Warnings...), ws...)
	}
	if matrix {
		mx, ws, err := m.Matrix(chk)
		if err != nil {
			return nil, err
		}
		rep.Matrix = mx
		warnings = append(warnings, ws...)
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		if !seen[w] {
			seen[w] = true
			rep.Warn(w)
		}
	}
	rep.Count()
	return rep, nil
}

// Matrix is who reaches whom among the workloads of the files' namespaces;
// with a dump as the state (--cluster-state OLD -f NEW), only what changed,
// both sides taken as manifests. It returns the warnings of the merge and
// of the checks.
func (m *Manifests) Matrix(chk Check) (*Matrix, []string, error) {
	namespaces := map[string]bool{}
	for _, n := range FileNamespaces(m.Files) {
		namespaces[n] = true
	}
	if m.State == nil || m.Online() {
		objs := m.Objects()
		mx, ws, err := MatrixOf(objs, chk, namespaces)
		return mx, append(append([]string{}, objs.Snapshot().Warnings...), ws...), err
	}
	newWorld := NewWorld(nil, cluster.Merge(m.State, m.Files), true)
	oldObjs, newObjs := NewWorldObjects(NewWorld(nil, m.State, true), nil), NewWorldObjects(newWorld, nil)
	mx, ws, err := MatrixDiff(oldObjs, newObjs, chk, namespaces)
	return mx, append(append([]string{}, newWorld.Snapshot.Warnings...), ws...), err
}
