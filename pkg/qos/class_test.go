package qos

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

const (
	G  = corev1.PodQOSGuaranteed
	B  = corev1.PodQOSBurstable
	BE = corev1.PodQOSBestEffort
)

var classCases = []struct {
	name   string
	pod    *corev1.Pod
	want   corev1.PodQOSClass
	reason string
}{
	{"a container without resources is BestEffort", pod(c("a", nil, nil)), BE, "no container sets cpu or memory"},
	{"equal cpu and memory requests and limits are Guaranteed",
		pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), G, "cpu and memory requests equal limits"},
	{"equal quantities written differently are still equal",
		pod(c("a", rl("cpu", "1000m", "memory", "1024Mi"), rl("cpu", "1", "memory", "1Gi"))), G, ""},
	{"memory request below limit is Burstable",
		pod(c("a", rl("cpu", "1", "memory", "512Mi"), rl("cpu", "1", "memory", "1Gi"))), B, "memory request 512Mi ≠ limit 1Gi"},
	{"only cpu set equal is Burstable (memory missing)",
		pod(c("a", rl("cpu", "1"), rl("cpu", "1"))), B, "cpu is set but memory is not"},
	{"a request without limit is Burstable",
		pod(c("a", rl("memory", "1Gi"), nil)), B, "memory request 1Gi without a limit"},
	{"limits only, not yet defaulted, are Burstable (requests missing)",
		pod(c("a", nil, rl("cpu", "1", "memory", "1Gi"))), B, "limit 1 with a zero request"},
	{"explicit zero requests and limits count as unset: BestEffort",
		pod(c("a", rl("cpu", "0", "memory", "0"), rl("cpu", "0", "memory", "0"))), BE, ""},
	{"a zero request with a limit is Burstable",
		pod(c("a", rl("memory", "0"), rl("memory", "1Gi"))), B, ""},
	{"ephemeral-storage alone does not make a pod Burstable",
		pod(c("a", rl("ephemeral-storage", "1Gi"), rl("ephemeral-storage", "2Gi"))), BE, ""},
	{"hugepages and extended resources are ignored",
		pod(c("a", rl("cpu", "1", "memory", "1Gi", "hugepages-2Mi", "2Mi", "example.com/gpu", "1"), rl("cpu", "1", "memory", "1Gi", "hugepages-2Mi", "2Mi", "example.com/gpu", "2"))), G, ""},
	{"one Guaranteed container and one BestEffort container make a Burstable pod",
		pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")), c("b", nil, nil)), B, "a is Guaranteed-like but container b sets no cpu or memory"},
	{"a BestEffort init container makes a Guaranteed pod Burstable",
		pod(initC("init", nil, nil), c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), B, "init container init"},
	{"a Burstable sidecar makes the pod Burstable",
		pod(sidecar("log", rl("memory", "64Mi"), nil), c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), B, "sidecar log: memory request 64Mi without a limit"},
	{"Guaranteed init, sidecar and regular containers make a Guaranteed pod",
		pod(initC("i", rl("cpu", "2", "memory", "2Gi"), rl("cpu", "2", "memory", "2Gi")), sidecar("s", rl("cpu", "100m", "memory", "64Mi"), rl("cpu", "100m", "memory", "64Mi")),
			c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), G, "every container sets cpu and memory requests equal to limits"},
	{"pod-level resources decide over containers: Guaranteed pod with BestEffort containers",
		withPodLevel(pod(c("a", nil, nil)), rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")), G, "pod-level resources"},
	{"pod-level resources decide over containers: Burstable pod with Guaranteed containers",
		withPodLevel(pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), rl("cpu", "2", "memory", "2Gi"), rl("cpu", "4", "memory", "2Gi")), B, "pod-level resources"},
	{"pod-level resources with only unsupported names are ignored",
		withPodLevel(pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), rl("ephemeral-storage", "1Gi"), nil), G, ""},
	{"empty pod-level resources are ignored",
		withPodLevel(pod(c("a", nil, nil)), corev1.ResourceList{}, nil), BE, ""},
	{"pod-level hugepages alone make pod-level resources count: BestEffort by cpu and memory",
		withPodLevel(pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), nil, rl("hugepages-2Mi", "4Mi")), BE, "pod-level resources"},
	{"a pod without containers is BestEffort", pod(), BE, "no containers"},
}

func TestClass(t *testing.T) {
	for _, tc := range classCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Class(tc.pod); got != tc.want {
				t.Errorf("Class = %s, want %s", got, tc.want)
			}
			if got := requirementsClassOfPod(tc.pod); got != tc.want {
				t.Errorf("the explanation's own computation says %s, want %s", got, tc.want)
			}
			if why := Explain(tc.pod); !strings.Contains(why, tc.reason) {
				t.Errorf("Explain = %q, want it to contain %q", why, tc.reason)
			}
		})
	}
}

// requirementsClassOfPod recomputes the class with Explain's helpers, so the
// tests prove the explanation follows the same rules as Class.
func requirementsClassOfPod(p *corev1.Pod) corev1.PodQOSClass {
	if resourcehelper.IsPodLevelResourcesSet(p) {
		return requirementsClass(p.Spec.Resources)
	}
	var class corev1.PodQOSClass
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			c := requirementsClass(&list[i].Resources)
			switch {
			case c == B:
				return B
			case class == "":
				class = c
			case class != c:
				return B
			}
		}
	}
	if class == "" {
		return BE
	}
	return class
}

func TestParseClassAndRank(t *testing.T) {
	for in, want := range map[string]corev1.PodQOSClass{"guaranteed": G, "Burstable": B, "BESTEFFORT": BE} {
		got, err := ParseClass(in)
		if err != nil || got != want {
			t.Errorf("ParseClass(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseClass("Gold"); err == nil {
		t.Error("ParseClass(Gold) accepted an unknown class")
	}
	if !(Rank(BE) < Rank(B) && Rank(B) < Rank(G)) {
		t.Error("Rank must order BestEffort < Burstable < Guaranteed")
	}
}
