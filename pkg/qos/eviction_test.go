package qos

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func named(p *corev1.Pod, name string) *corev1.Pod {
	p.Name = name
	return p
}

func prio(p *corev1.Pod, v int32) *corev1.Pod {
	p.Spec.Priority = &v
	return p
}

func usageOf(m map[string]int64) UsageFunc {
	return func(p *corev1.Pod) (int64, bool) {
		v, ok := m[p.Name]
		return v, ok
	}
}

func order(cs []EvictionCandidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Pod.Name)
	}
	return out
}

// The expected orders follow k8s.io/kubernetes v1.37.2
// pkg/kubelet/eviction/helpers.go rankMemoryPressure:
// orderedBy(exceedMemoryRequests, priority, memory).
func TestRankMemoryPressure(t *testing.T) {
	cases := []struct {
		name  string
		pods  []*corev1.Pod
		usage map[string]int64
		want  []string
	}{
		{"pods over their request go before pods under it, whatever the priority",
			[]*corev1.Pod{
				prio(named(pod(c("a", rl("memory", "100Mi"), nil)), "under-low"), 0),
				prio(named(pod(c("a", rl("memory", "100Mi"), nil)), "over-high"), 1000),
			},
			map[string]int64{"under-low": 50 << 20, "over-high": 200 << 20},
			[]string{"over-high", "under-low"}},
		{"among pods over their request, lower priority goes first",
			[]*corev1.Pod{
				prio(named(pod(c("a", rl("memory", "100Mi"), nil)), "high"), 1000),
				prio(named(pod(c("a", rl("memory", "100Mi"), nil)), "low"), 10),
			},
			map[string]int64{"high": 900 << 20, "low": 101 << 20},
			[]string{"low", "high"}},
		{"same priority: the larger usage above request goes first",
			[]*corev1.Pod{
				named(pod(c("a", rl("memory", "100Mi"), nil)), "small-excess"),
				named(pod(c("a", rl("memory", "10Mi"), nil)), "big-excess"),
				named(pod(c("a", nil, nil)), "besteffort"),
			},
			map[string]int64{"small-excess": 150 << 20, "big-excess": 300 << 20, "besteffort": 100 << 20},
			[]string{"big-excess", "besteffort", "small-excess"}},
		{"a pod without stats goes first",
			[]*corev1.Pod{
				named(pod(c("a", nil, nil)), "besteffort"),
				prio(named(pod(c("a", rl("memory", "1Gi"), nil)), "no-stats"), 5000),
			},
			map[string]int64{"besteffort": 1 << 30},
			[]string{"no-stats", "besteffort"}},
		{"under their requests, usage relative to request still orders (negative excess)",
			[]*corev1.Pod{
				named(pod(c("a", rl("memory", "1Gi"), nil)), "far-below"),
				named(pod(c("a", rl("memory", "100Mi"), nil)), "just-below"),
			},
			map[string]int64{"far-below": 100 << 20, "just-below": 99 << 20},
			[]string{"just-below", "far-below"}},
		{"the request counts pod-level resources when set",
			[]*corev1.Pod{
				named(withPodLevel(pod(c("a", rl("memory", "10Mi"), nil)), rl("memory", "1Gi"), nil), "pod-level"),
				named(pod(c("a", rl("memory", "500Mi"), nil)), "plain"),
			},
			// pod-level: 600Mi < 1Gi, not over; plain: 600Mi > 500Mi, over.
			map[string]int64{"pod-level": 600 << 20, "plain": 600 << 20},
			[]string{"plain", "pod-level"}},
		{"ties of one class keep namespace/name order",
			[]*corev1.Pod{named(pod(c("a", nil, nil)), "b"), named(pod(c("a", nil, nil)), "a")},
			map[string]int64{"a": 1, "b": 1},
			[]string{"a", "b"}},
		{"ties across classes come lowest class first",
			[]*corev1.Pod{
				named(pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), "a-guaranteed"),
				named(pod(c("a", rl("memory", "1Gi"), nil)), "b-burstable"),
			},
			map[string]int64{"a-guaranteed": 1 << 30, "b-burstable": 1 << 30},
			[]string{"b-burstable", "a-guaranteed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := order(RankMemoryPressure(tc.pods, usageOf(tc.usage))); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRankWithRequestsAsUsage(t *testing.T) {
	pods := []*corev1.Pod{
		prio(named(pod(c("a", rl("memory", "1Gi"), rl("memory", "1Gi"))), "guaranteed-low"), 0),
		prio(named(pod(c("a", nil, nil)), "besteffort-high"), 1000),
		prio(named(pod(c("a", rl("memory", "100Mi"), nil)), "burstable-low"), 0),
		prio(named(pod(c("a", nil, nil)), "besteffort-low"), 0),
	}
	got := RankMemoryPressure(pods, RequestsAsUsage)
	// Pods without a memory request count as over it; then priority; ties
	// lowest class first.
	want := []string{"besteffort-low", "besteffort-high", "burstable-low", "guaranteed-low"}
	if !reflect.DeepEqual(order(got), want) {
		t.Errorf("order %v, want %v", order(got), want)
	}
	if !got[0].ExceedsRequests || got[2].ExceedsRequests {
		t.Errorf("ExceedsRequests wrong: %+v", got)
	}
}

func TestMemoryRequestForEviction(t *testing.T) {
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"containers add up", pod(c("a", rl("memory", "100Mi"), nil), c("b", rl("memory", "50Mi"), nil)), "150Mi"},
		{"a bigger init container wins", pod(initC("i", rl("memory", "1Gi"), nil), c("a", rl("memory", "100Mi"), nil)), "1Gi"},
		{"sidecars add to containers", pod(sidecar("s", rl("memory", "100Mi"), nil), c("a", rl("memory", "100Mi"), nil)), "200Mi"},
		{"pod-level requests replace containers'", withPodLevel(pod(c("a", rl("memory", "100Mi"), nil)), rl("memory", "1Gi"), nil), "1Gi"},
		{"overhead is added to a non-zero request",
			func() *corev1.Pod {
				p := pod(c("a", rl("memory", "100Mi"), nil))
				p.Spec.Overhead = rl("memory", "10Mi")
				return p
			}(), "110Mi"},
		{"overhead is not added to a zero request",
			func() *corev1.Pod { p := pod(c("a", nil, nil)); p.Spec.Overhead = rl("memory", "10Mi"); return p }(), "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := MemoryRequestForEviction(tc.pod)
			want := rl("memory", tc.want)[corev1.ResourceMemory]
			if !got.Equal(want) {
				t.Errorf("got %s, want %s", got.String(), tc.want)
			}
		})
	}
}

func TestNodeCommitment(t *testing.T) {
	node := &corev1.Node{Status: corev1.NodeStatus{Allocatable: rl("cpu", "2", "memory", "4Gi")}}
	pods := []*corev1.Pod{
		pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "3Gi"))),
		pod(c("a", rl("cpu", "500m", "memory", "1Gi"), rl("memory", "2Gi"))),
		pod(c("a", nil, nil)),
		func() *corev1.Pod {
			p := pod(c("a", rl("cpu", "4", "memory", "8Gi"), nil))
			p.Status.Phase = corev1.PodSucceeded
			return p
		}(),
	}
	got := NodeCommitment(node, pods)
	want := []Commitment{
		{Resource: corev1.ResourceCPU, Allocatable: 2000, Requests: 1500, Limits: 2000, Unbounded: 2},
		{Resource: corev1.ResourceMemory, Allocatable: 4 << 30, Requests: 2 << 30, Limits: 5 << 30, Unbounded: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got[0].LimitsOvercommitted() || !got[1].LimitsOvercommitted() || got[1].RequestsOvercommitted() {
		t.Error("overcommit predicates wrong")
	}
}
