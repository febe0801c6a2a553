package qos

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func limitRange(name string, items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func containerItem(def, defReq, minimum, maximum corev1.ResourceList) corev1.LimitRangeItem {
	return corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: def, DefaultRequest: defReq, Min: minimum, Max: maximum}
}

func TestAdmit(t *testing.T) {
	cases := []struct {
		name        string
		pod         *corev1.Pod
		lrs         []*corev1.LimitRange
		want        corev1.PodQOSClass
		without     corev1.PodQOSClass
		changes     []string
		checkFirst  *corev1.ResourceRequirements // resources of the first container after admission
		checkPodLvl *corev1.ResourceRequirements
	}{
		{name: "limits only: API defaulting copies them to requests, Guaranteed",
			pod:  pod(c("a", nil, rl("cpu", "1", "memory", "1Gi"))),
			want: G, without: G,
			checkFirst: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "1Gi")}},
		{name: "a memory limit only with a cpu request: requests memory defaulted, cpu stays Burstable",
			pod:  pod(c("a", rl("cpu", "100m"), rl("memory", "1Gi"))),
			want: B, without: B},
		{name: "limits-only init containers are defaulted too",
			pod:  pod(initC("i", nil, rl("cpu", "1", "memory", "1Gi")), c("a", nil, rl("cpu", "1", "memory", "1Gi"))),
			want: G, without: G},
		{name: "LimitRange default limits (default request = default by API defaulting) turn BestEffort into Guaranteed",
			pod:  pod(c("a", nil, nil)),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(rl("cpu", "500m", "memory", "256Mi"), nil, nil, nil))},
			want: G, without: BE,
			changes:    []string{"cpu, memory request for container a", "cpu, memory limit for container a"},
			checkFirst: &corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "256Mi"), Limits: rl("cpu", "500m", "memory", "256Mi")}},
		{name: "LimitRange defaultRequest below default gives Burstable",
			pod:  pod(c("a", nil, nil)),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "100m", "memory", "128Mi"), nil, nil))},
			want: B, without: BE},
		{name: "the max becomes the default limit and then the default request",
			pod:  pod(c("a", nil, nil)),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(nil, nil, nil, rl("cpu", "2", "memory", "2Gi")))},
			want: G, without: BE},
		{name: "the min becomes the default request when no default exists: Burstable",
			pod:  pod(c("a", nil, nil)),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(nil, nil, rl("cpu", "50m"), nil))},
			want: B, without: BE,
			changes: []string{"cpu request for container a"}},
		{name: "a request already defaulted from the manifest's limit is not replaced by defaultRequest",
			pod:  pod(c("a", nil, rl("memory", "1Gi"))),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(rl("cpu", "1", "memory", "2Gi"), rl("cpu", "1", "memory", "512Mi"), nil, nil))},
			want: G, without: B,
			changes:    []string{"cpu request for container a", "cpu limit for container a"},
			checkFirst: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "1Gi")}},
		{name: "only a request set: the default limit is added, Burstable",
			pod:  pod(c("a", rl("cpu", "100m", "memory", "100Mi"), nil)),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(rl("cpu", "1", "memory", "1Gi"), nil, nil, nil))},
			want: B, without: B,
			changes: []string{"cpu, memory limit for container a"}},
		{name: "init containers get LimitRange defaults after containers, in the annotation's words",
			pod: pod(initC("i", nil, nil), c("a", nil, nil)),
			lrs: []*corev1.LimitRange{limitRange("lr", containerItem(rl("memory", "1Gi"), nil, nil, nil))},
			// Only memory is set, cpu stays zero: Burstable (mismatch).
			want: B, without: BE,
			changes: []string{"memory request for container a", "memory limit for container a", "memory request for init container i", "memory limit for init container i"}},
		{name: "Pod-type items and PVC items set no container defaults",
			pod: pod(c("a", nil, nil)),
			lrs: []*corev1.LimitRange{limitRange("lr",
				corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "4", "memory", "4Gi")},
				corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Max: rl("storage", "10Gi")})},
			want: BE, without: BE},
		{name: "two LimitRanges: the first by name wins for a resource, the second fills the rest",
			pod: pod(c("a", nil, nil)),
			lrs: []*corev1.LimitRange{
				limitRange("b-memory", containerItem(rl("memory", "1Gi", "cpu", "2"), nil, nil, nil)),
				limitRange("a-cpu", containerItem(rl("cpu", "1"), nil, nil, nil)),
			},
			want: G, without: BE,
			changes:    []string{"cpu request for container a", "cpu limit for container a", "memory request for container a", "memory limit for container a"},
			checkFirst: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "1Gi")}},
		{name: "pod-level limits only: requests default to the containers' requests or the limits",
			pod:  withPodLevel(pod(c("a", nil, nil)), nil, rl("cpu", "1", "memory", "1Gi")),
			want: G, without: G,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "1Gi")}},
		{name: "pod-level limits with container requests: pod-level requests are the containers' sum, Burstable",
			pod:  withPodLevel(pod(c("a", rl("cpu", "100m"), nil), c("b", rl("cpu", "200m", "memory", "1Gi"), nil)), nil, rl("cpu", "1", "memory", "2Gi")),
			want: B, without: B,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "300m", "memory", "1Gi"), Limits: rl("cpu", "1", "memory", "2Gi")}},
		{name: "pod-level requests with limited containers: pod-level limits become the containers' limits, Guaranteed when equal",
			pod:  withPodLevel(pod(c("a", nil, rl("cpu", "1", "memory", "1Gi")), c("b", nil, rl("cpu", "1", "memory", "1Gi"))), rl("cpu", "2", "memory", "2Gi"), nil),
			want: G, without: G,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "2", "memory", "2Gi"), Limits: rl("cpu", "2", "memory", "2Gi")}},
		{name: "pod-level requests above the containers' limits: limits are raised to the requests",
			pod:  withPodLevel(pod(c("a", nil, rl("cpu", "1", "memory", "1Gi"))), rl("cpu", "2", "memory", "2Gi"), nil),
			want: G, without: G,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "2", "memory", "2Gi"), Limits: rl("cpu", "2", "memory", "2Gi")}},
		{name: "pod-level requests with an unlimited container: no pod-level limit, Burstable",
			pod:  withPodLevel(pod(c("a", nil, rl("cpu", "1", "memory", "1Gi")), c("b", nil, nil)), rl("cpu", "2", "memory", "2Gi"), nil),
			want: B, without: B,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "2", "memory", "2Gi")}},
		{name: "a LimitRange can complete the containers' limits and so the pod-level limits",
			pod:  withPodLevel(pod(c("a", nil, rl("cpu", "1", "memory", "1Gi")), c("b", nil, nil)), rl("cpu", "2", "memory", "2Gi"), nil),
			lrs:  []*corev1.LimitRange{limitRange("lr", containerItem(rl("cpu", "1", "memory", "1Gi"), nil, nil, nil))},
			want: G, without: B,
			changes:     []string{"cpu, memory request for container b", "cpu, memory limit for container b"},
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "2", "memory", "2Gi"), Limits: rl("cpu", "2", "memory", "2Gi")}},
		{name: "pod-level hugepage limits default from the containers', then requests from them, and cpu and memory limits from the containers: Guaranteed",
			pod:  withPodLevel(pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi", "hugepages-2Mi", "4Mi"))), rl("cpu", "1"), nil),
			want: G, without: G,
			checkPodLvl: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "1Gi", "hugepages-2Mi", "4Mi"), Limits: rl("cpu", "1", "memory", "1Gi", "hugepages-2Mi", "4Mi")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.pod.DeepCopy()
			a := Admit(tc.pod, tc.lrs)
			if !reflect.DeepEqual(before, tc.pod) {
				t.Error("Admit changed its argument")
			}
			if a.Class != tc.want || a.ClassWithoutLimitRanges != tc.without {
				t.Errorf("class %s (without LimitRanges %s), want %s (%s)", a.Class, a.ClassWithoutLimitRanges, tc.want, tc.without)
			}
			if tc.changes != nil && !reflect.DeepEqual(a.LimitRangeChanges, tc.changes) {
				t.Errorf("changes %q, want %q", a.LimitRangeChanges, tc.changes)
			}
			if a.LimitRangeApplied() != (len(a.LimitRangeChanges) > 0) || (tc.changes != nil && !a.LimitRangeApplied()) {
				t.Errorf("LimitRangeApplied = %v with changes %q", a.LimitRangeApplied(), a.LimitRangeChanges)
			}
			if a.LimitRangeChangedClass() != (tc.want != tc.without) {
				t.Errorf("LimitRangeChangedClass = %v", a.LimitRangeChangedClass())
			}
			if tc.checkFirst != nil {
				got := a.Pod.Spec.Containers[0].Resources
				if !equalLists(got.Requests, tc.checkFirst.Requests) || !equalLists(got.Limits, tc.checkFirst.Limits) {
					t.Errorf("container resources %v / %v, want %v / %v", got.Requests, got.Limits, tc.checkFirst.Requests, tc.checkFirst.Limits)
				}
			}
			if tc.checkPodLvl != nil {
				got := a.Pod.Spec.Resources
				if !equalLists(got.Requests, tc.checkPodLvl.Requests) || !equalLists(got.Limits, tc.checkPodLvl.Limits) {
					t.Errorf("pod-level resources %v / %v, want %v / %v", got.Requests, got.Limits, tc.checkPodLvl.Requests, tc.checkPodLvl.Limits)
				}
			}
		})
	}
}

func equalLists(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

func TestDefaultLimitRangeLeavesOtherTypesAndTheOriginalAlone(t *testing.T) {
	lr := limitRange("lr", containerItem(nil, nil, rl("cpu", "10m"), rl("memory", "1Gi")), corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "4")})
	d := DefaultLimitRange(lr)
	item := d.Spec.Limits[0]
	if !equalLists(item.Default, rl("memory", "1Gi")) || !equalLists(item.DefaultRequest, rl("memory", "1Gi", "cpu", "10m")) {
		t.Errorf("defaulted item %+v", item)
	}
	if d.Spec.Limits[1].Default != nil || lr.Spec.Limits[0].Default != nil {
		t.Error("only Container items of a copy may be defaulted")
	}
}

func TestValidateLimitRange(t *testing.T) {
	cases := []struct {
		name string
		pod  *corev1.Pod
		lr   *corev1.LimitRange
		want []string
	}{
		{"inside the bounds: no violation",
			pod(c("a", rl("cpu", "100m"), rl("cpu", "1"))),
			limitRange("lr", containerItem(nil, nil, rl("cpu", "50m"), rl("cpu", "2"))), nil},
		{"a limit above max",
			pod(c("a", rl("cpu", "100m"), rl("cpu", "4"))),
			limitRange("lr", containerItem(nil, nil, nil, rl("cpu", "2"))),
			[]string{"maximum cpu usage per Container is 2, but limit is 4"}},
		{"no limit where a max is set",
			pod(c("a", rl("memory", "1Gi"), nil)),
			limitRange("lr", containerItem(nil, nil, nil, rl("memory", "2Gi"))),
			[]string{"maximum memory usage per Container is 2Gi.  No limit is specified"}},
		{"a request below min, in an init container too",
			pod(initC("i", rl("cpu", "10m"), nil), c("a", rl("cpu", "10m"), nil)),
			limitRange("lr", containerItem(nil, nil, rl("cpu", "50m"), nil)),
			[]string{"minimum cpu usage per Container is 50m, but request is 10m", "minimum cpu usage per Container is 50m, but request is 10m"}},
		{"no request where a min is set",
			pod(c("a", nil, nil)),
			limitRange("lr", containerItem(nil, nil, rl("memory", "64Mi"), nil)),
			[]string{"minimum memory usage per Container is 64Mi.  No request is specified"}},
		{"a limit/request ratio above the maximum",
			pod(c("a", rl("memory", "100Mi"), rl("memory", "1Gi"))),
			corev1LimitRatio("memory", "4"),
			[]string{"memory max limit to request ratio per Container is 4, but provided ratio is 10.240000"}},
		{"Pod items count sidecars with containers",
			pod(sidecar("s", rl("cpu", "1"), rl("cpu", "1")), c("a", rl("cpu", "1"), rl("cpu", "1"))),
			limitRange("lr", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "1500m")}),
			[]string{"maximum cpu usage per Pod is 1500m, but limit is 2"}},
		{"Pod items read pod-level resources when set",
			withPodLevel(pod(c("a", rl("cpu", "1"), rl("cpu", "1"))), rl("cpu", "1"), rl("cpu", "1")),
			limitRange("lr", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "1")}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidateLimitRange(tc.lr, tc.pod); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
	t.Run("Admit reports violations after applying defaults", func(t *testing.T) {
		lr := limitRange("lr", containerItem(rl("cpu", "4"), nil, nil, rl("cpu", "2")))
		a := Admit(pod(c("a", nil, nil)), []*corev1.LimitRange{lr})
		if want := []string{"maximum cpu usage per Container is 2, but limit is 4"}; !reflect.DeepEqual(a.Violations, want) {
			t.Errorf("violations %q", a.Violations)
		}
	})
}

func corev1LimitRatio(name, ratio string) *corev1.LimitRange {
	return limitRange("lr", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl(name, ratio)})
}

// The LimitRanger takes a namespace's LimitRanges in its informer's order:
// where two default the same value differently, the class depends on which
// comes first, and Admit must say so rather than present one answer.
func TestAdmitOverlappingLimitRangeDefaults(t *testing.T) {
	// lr-a: default limits equal to default requests (Guaranteed alone);
	// lr-b: a lower memory default request (Burstable alone).
	lrA := limitRange("lr-a", containerItem(rl("cpu", "500m", "memory", "1Gi"), rl("cpu", "500m", "memory", "1Gi"), nil, nil))
	lrB := limitRange("lr-b", containerItem(nil, rl("memory", "256Mi"), nil, nil))
	a := Admit(pod(c("app", nil, nil)), []*corev1.LimitRange{lrB, lrA})
	if a.Class != G {
		t.Errorf("in name order lr-a comes first: class %s, want Guaranteed", a.Class)
	}
	if want := []string{"memory request for container app: 1Gi (lr-a), 256Mi (lr-b)"}; !reflect.DeepEqual(a.DefaultConflicts, want) {
		t.Errorf("conflicts %q, want %q", a.DefaultConflicts, want)
	}
	if want := []corev1.PodQOSClass{B, G}; !reflect.DeepEqual(a.PossibleClasses, want) {
		t.Errorf("possible classes %v, want %v", a.PossibleClasses, want)
	}

	// A value the pod sets itself is not defaulted, so no conflict.
	a = Admit(pod(c("app", rl("cpu", "500m", "memory", "1Gi"), rl("cpu", "500m", "memory", "1Gi"))), []*corev1.LimitRange{lrA, lrB})
	if len(a.DefaultConflicts) != 0 || !reflect.DeepEqual(a.PossibleClasses, []corev1.PodQOSClass{G}) {
		t.Errorf("a pod that sets its resources has no conflict: %q %v", a.DefaultConflicts, a.PossibleClasses)
	}

	// Equal defaults in two LimitRanges do not conflict.
	lrC := limitRange("lr-c", containerItem(nil, rl("memory", "1Gi"), nil, nil))
	a = Admit(pod(c("app", nil, nil)), []*corev1.LimitRange{lrA, lrC})
	if len(a.DefaultConflicts) != 0 || len(a.PossibleClasses) != 1 {
		t.Errorf("equal defaults do not conflict: %q %v", a.DefaultConflicts, a.PossibleClasses)
	}

	// Different values that leave the class alone are reported, one class.
	lrD := limitRange("lr-d", containerItem(rl("cpu", "2", "memory", "2Gi"), nil, nil, nil))
	a = Admit(pod(c("app", nil, nil)), []*corev1.LimitRange{lrA, lrD})
	if len(a.DefaultConflicts) == 0 || !reflect.DeepEqual(a.PossibleClasses, []corev1.PodQOSClass{G}) {
		t.Errorf("conflicting values, one class: %q %v", a.DefaultConflicts, a.PossibleClasses)
	}
}

func TestOrdersCoverEveryFirst(t *testing.T) {
	var lrs []*corev1.LimitRange
	for _, n := range []string{"a", "b", "c"} {
		lrs = append(lrs, limitRange(n))
	}
	if got := len(orders(lrs)); got != 6 {
		t.Errorf("3 LimitRanges: %d orders, want 6", got)
	}
	for i := 0; i < 5; i++ {
		lrs = append(lrs, limitRange(string(rune('d'+i))))
	}
	firsts := map[string]bool{}
	for _, o := range orders(lrs) {
		firsts[o[0].Name] = true
	}
	if len(firsts) != len(lrs) {
		t.Errorf("above the permutation bound every LimitRange must still come first once: %v", firsts)
	}
}
