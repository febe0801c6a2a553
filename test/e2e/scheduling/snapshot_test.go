package scheduling

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// liveSnapshot loads what the scheduler looks at with the plugins' own
// loader, so the comparison covers loading as well as evaluating.
func liveSnapshot(t *testing.T, cs kubernetes.Interface) *cluster.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kinds := []cluster.Kind{cluster.KindNode, cluster.KindPod, cluster.KindNamespace, cluster.KindPVC, cluster.KindPV,
		cluster.KindStorageClass, cluster.KindCSINode, cluster.KindCSIDriver, cluster.KindPriorityClass, cluster.KindPDB,
		cluster.KindResourceClaim, cluster.KindDeviceClass, cluster.KindResourceSlice, cluster.KindVolumeAttachment}
	queries := make([]cluster.Query, 0, len(kinds))
	for _, k := range kinds {
		queries = append(queries, cluster.Query{Kind: k})
	}
	snap, err := cluster.LoadLive(ctx, cs, queries...)
	if err != nil {
		t.Fatalf("loading the snapshot: %v", err)
	}
	for _, k := range kinds {
		if !snap.Loaded[k] {
			t.Fatalf("the snapshot says %s was not loaded", k)
		}
	}
	return snap
}
