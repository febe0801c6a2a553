package bigcluster_test

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

var small = bigcluster.Config{Seed: 7, Nodes: 600, Running: 3000, Pending: 3 * len(bigcluster.Causes), Namespaces: 10}

func TestTheSameSeedGivesTheSameCluster(t *testing.T) {
	a, b := bigcluster.Generate(small), bigcluster.Generate(small)
	if !reflect.DeepEqual(a.Snapshot.Pods, b.Snapshot.Pods) || !reflect.DeepEqual(a.Nodes, b.Nodes) || !reflect.DeepEqual(a.Events, b.Events) {
		t.Fatal("two clusters from one seed differ")
	}
	if len(a.Nodes) != small.Nodes || len(a.Pods) != small.Running+small.Pending || len(a.PendingPods) != small.Pending {
		t.Fatalf("got %d nodes, %d pods, %d pending", len(a.Nodes), len(a.Pods), len(a.PendingPods))
	}
}

func TestRunningPodsFitTheirNodes(t *testing.T) {
	c := bigcluster.Generate(small)
	used := map[string]int64{}
	for _, p := range c.Pods {
		if p.Status.Phase == corev1.PodRunning {
			for _, ct := range append(p.Spec.InitContainers, p.Spec.Containers...) {
				used[p.Spec.NodeName] += ct.Resources.Requests.Cpu().MilliValue()
			}
		}
	}
	for _, n := range c.Nodes {
		if used[n.Name] > n.Status.Allocatable.Cpu().MilliValue() {
			t.Errorf("node %s: %dm cpu requested of %dm", n.Name, used[n.Name], n.Status.Allocatable.Cpu().MilliValue())
		}
	}
}

// The benchmarks are only worth their numbers if each generated cause really
// takes why-pending down the path it is named for.
func TestEveryCauseIsExplainedAtItsStage(t *testing.T) {
	want := map[bigcluster.Cause]pending.Stage{
		bigcluster.InsufficientCPU: pending.StageUnschedulable, bigcluster.UntoleratedTaint: pending.StageUnschedulable,
		bigcluster.NodeSelector: pending.StageUnschedulable, bigcluster.NodeAffinity: pending.StageUnschedulable,
		bigcluster.PodAntiAffinity: pending.StageUnschedulable, bigcluster.TopologySpread: pending.StageUnschedulable,
		bigcluster.Mixed: pending.StageUnschedulable, bigcluster.Gated: pending.StageGated,
		bigcluster.NoScheduler: pending.StageNoScheduler, bigcluster.MissingClaim: pending.StageVolumeBinding,
		bigcluster.ImagePull: pending.StageImagePull, bigcluster.MissingConfigMap: pending.StageContainerCreating,
		bigcluster.InitCrashLoop: pending.StageInitContainers, bigcluster.NodeNotReady: pending.StageNodeLost,
	}
	c := bigcluster.Generate(small)
	var subjects []pending.Subject
	for _, p := range c.PendingPods {
		subjects = append(subjects, pending.Subject{Pod: p})
	}
	res := pending.Explain(c.Snapshot, subjects, nil, pending.Options{Now: bigcluster.Now})
	if len(res.Pods) != len(c.PendingPods) {
		t.Fatalf("%d explanations for %d pods", len(res.Pods), len(c.PendingPods))
	}
	for _, ex := range res.Pods {
		cause := c.CauseOf[ex.Namespace+"/"+ex.Name]
		if ex.Stage != want[cause] {
			t.Errorf("%s/%s (%s): stage %s (%s), want %s", ex.Namespace, ex.Name, cause, ex.Stage, ex.Reason, want[cause])
		}
		if ex.Stage == pending.StageUnschedulable && len(ex.Feasible) > 0 {
			t.Errorf("%s/%s (%s) fits on %v", ex.Namespace, ex.Name, cause, ex.Feasible)
		}
	}
}
