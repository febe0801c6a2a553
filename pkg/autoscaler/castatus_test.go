package autoscaler

import (
	"testing"
	"time"
)

// yamlStatus130 is the status ConfigMap as cluster-autoscaler 1.30 and
// later write it (sigs.k8s.io/yaml of api.ClusterAutoscalerStatus: keys
// sorted, times RFC 3339).
const yamlStatus130 = `autoscalerStatus: Running
clusterWide:
  health:
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    nodeCounts:
      longUnregistered: 0
      registered:
        notStarted: 0
        ready: 5
        total: 5
        unready:
          resourceUnready: 0
          total: 0
      unregistered: 0
    status: Healthy
  scaleDown:
    candidates: 0
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    status: NoCandidates
  scaleUp:
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T11:50:00Z"
    status: Backoff
nodeGroups:
- health:
    cloudProviderTarget: 3
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    maxSize: 3
    minSize: 1
    nodeCounts:
      longUnregistered: 0
      registered:
        notStarted: 0
        ready: 3
        total: 3
        unready:
          resourceUnready: 0
          total: 0
      unregistered: 0
    status: Healthy
  name: eks-workers-6ac6e2d4
  scaleDown:
    candidates: 0
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    status: NoCandidates
  scaleUp:
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    status: NoActivity
- health:
    cloudProviderTarget: 2
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    maxSize: 10
    minSize: 0
    nodeCounts:
      longUnregistered: 0
      registered:
        notStarted: 0
        ready: 2
        total: 2
        unready:
          resourceUnready: 0
          total: 0
      unregistered: 0
    status: Healthy
  name: eks-gpu-91bd0c7e
  scaleDown:
    candidates: 0
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T08:00:00Z"
    status: NoCandidates
  scaleUp:
    backoffInfo:
      errorCode: QUOTA_EXCEEDED
      errorMessage: 'Instance ''eks-gpu-91bd0c7e-x2'' creation failed: Quota ''GPUS'' exceeded.  Limit: 4.0 in region us-central1.'
    lastProbeTime: "2026-11-23T11:59:50Z"
    lastTransitionTime: "2026-11-23T12:03:00Z"
    status: Backoff
time: 2026-11-23 11:59:50.123456789 +0000 UTC
`

// textStatus129 is the layout up to cluster-autoscaler 1.29: a text report
// of conditions (api.ClusterAutoscalerStatus.GetReadableString); condition
// times are time.Time's String, with the monotonic clock reading.
const textStatus129 = `Cluster-autoscaler status at 2026-11-23 11:59:50.123456789 +0000 UTC:
Cluster-wide:
  Health:      Healthy (ready=5 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=5 longUnregistered=0)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01
  ScaleUp:     Backoff (ready=5 registered=5)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 11:50:00.3 +0000 UTC m=+3000.3
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01

NodeGroups:
  Name:        eks-workers-6ac6e2d4
  Health:      Healthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0 cloudProviderTarget=3 (minSize=1, maxSize=3))
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01
  ScaleUp:     NoActivity (ready=3 cloudProviderTarget=3)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01

  Name:        eks-gpu-91bd0c7e
  Health:      Healthy (ready=2 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=2 longUnregistered=0 cloudProviderTarget=2 (minSize=0, maxSize=10))
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01
  ScaleUp:     Backoff (ready=2 cloudProviderTarget=2)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 12:03:00 +0000 UTC m=+3793.4
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC m=+3600.12
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC m=+12.01

`

// textStatusUnnamed is the text layout of releases that printed no Name
// line for node groups.
const textStatusUnnamed = `Cluster-autoscaler status at 2026-11-23 11:59:50.1 +0000 UTC:
Cluster-wide:
  Health:      Unhealthy (ready=1 unready=4 notStarted=0 longNotStarted=0 registered=5)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC

NodeGroups:
  Health:      Unhealthy (ready=1 unready=4 notStarted=0 longNotStarted=0 registered=5 cloudProviderTarget=5 (minSize=1, maxSize=8))
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC
  ScaleUp:     NoActivity (ready=1 cloudProviderTarget=5)
               LastProbeTime:      2026-11-23 11:59:50.1 +0000 UTC
               LastTransitionTime: 2026-11-23 08:00:00.2 +0000 UTC
`

func TestParseStatus(t *testing.T) {
	written := time.Date(2026, 11, 23, 11, 59, 50, 123456789, time.UTC)
	backoffSince := time.Date(2026, 11, 23, 12, 3, 0, 0, time.UTC)
	type group struct {
		name, health, scaleUp string
		target, min, max      int
		backoffCode           string
		scaleUpSince          time.Time
	}
	cases := []struct {
		name          string
		data          string
		layout        string
		time          time.Time
		clusterHealth string
		groups        []group
	}{
		{
			name: "the YAML layout of 1.30 and later gives sizes, backoff and its error",
			data: yamlStatus130, layout: LayoutYAML, time: written, clusterHealth: "Healthy",
			groups: []group{
				{name: "eks-workers-6ac6e2d4", health: "Healthy", scaleUp: "NoActivity", target: 3, min: 1, max: 3, scaleUpSince: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)},
				{name: "eks-gpu-91bd0c7e", health: "Healthy", scaleUp: "Backoff", target: 2, min: 0, max: 10, backoffCode: "QUOTA_EXCEEDED", scaleUpSince: backoffSince},
			},
		},
		{
			name: "the text layout up to 1.29 gives sizes and backoff from the conditions",
			data: textStatus129, layout: LayoutText, time: written, clusterHealth: "Healthy",
			groups: []group{
				{name: "eks-workers-6ac6e2d4", health: "Healthy", scaleUp: "NoActivity", target: 3, min: 1, max: 3, scaleUpSince: time.Date(2026, 11, 23, 8, 0, 0, 200000000, time.UTC)},
				{name: "eks-gpu-91bd0c7e", health: "Healthy", scaleUp: "Backoff", target: 2, min: 0, max: 10, scaleUpSince: backoffSince},
			},
		},
		{
			name: "the text layout without Name lines still gives the group's state",
			data: textStatusUnnamed, layout: LayoutText, time: time.Date(2026, 11, 23, 11, 59, 50, 100000000, time.UTC), clusterHealth: "Unhealthy",
			groups: []group{{name: "node group 1", health: "Unhealthy", scaleUp: "NoActivity", target: 5, min: 1, max: 8, scaleUpSince: time.Date(2026, 11, 23, 8, 0, 0, 200000000, time.UTC)}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseStatus(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if st.Layout != tc.layout || !st.Time.Equal(tc.time) || st.ClusterHealth != tc.clusterHealth {
				t.Errorf("got layout %q time %v health %q, want %q %v %q", st.Layout, st.Time, st.ClusterHealth, tc.layout, tc.time, tc.clusterHealth)
			}
			if len(st.NodeGroups) != len(tc.groups) {
				t.Fatalf("got %d groups %+v, want %d", len(st.NodeGroups), st.NodeGroups, len(tc.groups))
			}
			for i, want := range tc.groups {
				g := st.NodeGroups[i]
				if g.Name != want.name || g.Health != want.health || g.ScaleUp != want.scaleUp || g.BackoffCode != want.backoffCode {
					t.Errorf("group %d: got %+v, want %+v", i, g, want)
				}
				if g.Target == nil || g.MinSize == nil || g.MaxSize == nil || *g.Target != want.target || *g.MinSize != want.min || *g.MaxSize != want.max {
					t.Errorf("group %d: sizes %v/%v/%v, want target %d min %d max %d", i, g.Target, g.MinSize, g.MaxSize, want.target, want.min, want.max)
				}
				if !g.ScaleUpSince.Equal(want.scaleUpSince) {
					t.Errorf("group %d: scale-up since %v, want %v", i, g.ScaleUpSince, want.scaleUpSince)
				}
			}
		})
	}
}

func TestParseStatusRefusesWhatIsNotAStatus(t *testing.T) {
	for _, data := range []string{"", "hello: world", "{{{"} {
		if _, err := ParseStatus(data); err == nil {
			t.Errorf("%q: want an error", data)
		}
	}
}
