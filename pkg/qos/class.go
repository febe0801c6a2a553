package qos

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	kubectlqos "k8s.io/kubectl/pkg/util/qos"
)

// Class returns the QoS class the apiserver computes for a pod.
//
// The apiserver (pkg/registry/core/pod/strategy.go PrepareForCreate) calls
// pkg/apis/core/helper/qos.ComputePodQOS, which uses pod-level resources when
// PodLevelResources is on and, with PodLevelResourcesFixKubeletQOSClass on,
// only when helper.IsPodLevelResourcesSet. Both gates default to on in v1.37,
// so the condition reduces to IsPodLevelResourcesSet, which is exactly what
// k8s.io/kubectl/pkg/util/qos v0.37.2 checks; the rest (init containers
// included, only cpu and memory, zero equals unset) is the same code. So the
// official helper is used. The pod must already carry what the apiserver
// fills in before computing the class: use Admit for manifests.
func Class(pod *corev1.Pod) corev1.PodQOSClass {
	return kubectlqos.ComputePodQOS(pod)
}

// computeResources are the only resources that decide the class.
var computeResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// Explain says in one line why a pod gets its class: which container (or the
// pod-level resources) and which resource decided it. It follows the same
// order of checks as Class and never disagrees with it (tested).
func Explain(pod *corev1.Pod) string {
	if resourcehelper.IsPodLevelResourcesSet(pod) {
		return "pod-level resources: " + explainRequirements(pod.Spec.Resources)
	}
	type entry struct {
		name  string
		class corev1.PodQOSClass
		why   string
	}
	var entries []entry
	add := func(kind string, c *corev1.Container) {
		entries = append(entries, entry{kind + " " + c.Name, requirementsClass(&c.Resources), explainRequirements(&c.Resources)})
	}
	for i := range pod.Spec.InitContainers {
		kind := "init container"
		if isRestartable(&pod.Spec.InitContainers[i]) {
			kind = "sidecar"
		}
		add(kind, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		add("container", &pod.Spec.Containers[i])
	}
	if len(entries) == 0 {
		return "no containers"
	}
	for _, e := range entries {
		if e.class == corev1.PodQOSBurstable {
			return e.name + ": " + e.why
		}
	}
	first := entries[0]
	for _, e := range entries[1:] {
		if e.class != first.class {
			g, b := first, e
			if g.class == corev1.PodQOSBestEffort {
				g, b = b, g
			}
			return fmt.Sprintf("%s is Guaranteed-like but %s sets no cpu or memory", g.name, b.name)
		}
	}
	if first.class == corev1.PodQOSGuaranteed {
		if len(entries) == 1 {
			return first.name + ": " + first.why
		}
		return "every container sets cpu and memory requests equal to limits"
	}
	return "no container sets cpu or memory requests or limits"
}

// requirementsClass mirrors requirementsQOS of the apiserver's helper.
func requirementsClass(r *corev1.ResourceRequirements) corev1.PodQOSClass {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	var class corev1.PodQOSClass
	for _, name := range computeResources {
		c := resourceClass(r, name)
		switch {
		case c == corev1.PodQOSBurstable:
			return c
		case class == "":
			class = c
		case class != c:
			return corev1.PodQOSBurstable
		}
	}
	return class
}

func resourceClass(r *corev1.ResourceRequirements, name corev1.ResourceName) corev1.PodQOSClass {
	req, lim := r.Requests[name], r.Limits[name]
	switch {
	case !req.Equal(lim):
		return corev1.PodQOSBurstable
	case req.IsZero():
		return corev1.PodQOSBestEffort
	}
	return corev1.PodQOSGuaranteed
}

func explainRequirements(r *corev1.ResourceRequirements) string {
	switch requirementsClass(r) {
	case corev1.PodQOSBestEffort:
		return "no cpu or memory requests or limits"
	case corev1.PodQOSGuaranteed:
		return "cpu and memory requests equal limits"
	}
	for _, name := range computeResources {
		req, lim := r.Requests[name], r.Limits[name]
		if !req.Equal(lim) {
			switch {
			case lim.IsZero():
				return fmt.Sprintf("%s request %s without a limit", name, fmtQ(req))
			case req.IsZero():
				return fmt.Sprintf("%s limit %s with a zero request", name, fmtQ(lim))
			}
			return fmt.Sprintf("%s request %s ≠ limit %s", name, fmtQ(req), fmtQ(lim))
		}
	}
	set, unset := corev1.ResourceCPU, corev1.ResourceMemory
	if !r.Requests.Memory().IsZero() {
		set, unset = unset, set
	}
	return fmt.Sprintf("%s is set but %s is not", set, unset)
}

func fmtQ(q resource.Quantity) string { return q.String() }

func isRestartable(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// Rank orders classes by how well the kubelet protects them: BestEffort 0,
// Burstable 1, Guaranteed 2.
func Rank(c corev1.PodQOSClass) int {
	switch c {
	case corev1.PodQOSGuaranteed:
		return 2
	case corev1.PodQOSBurstable:
		return 1
	}
	return 0
}

// ParseClass reads a class name case-insensitively.
func ParseClass(s string) (corev1.PodQOSClass, error) {
	for _, c := range []corev1.PodQOSClass{corev1.PodQOSGuaranteed, corev1.PodQOSBurstable, corev1.PodQOSBestEffort} {
		if strings.EqualFold(string(c), s) {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown QoS class %q: use Guaranteed, Burstable or BestEffort", s)
}

// sortedNames returns a resource list's names in order, for stable output.
func sortedNames(l corev1.ResourceList) []string {
	out := make([]string, 0, len(l))
	for k := range l {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
