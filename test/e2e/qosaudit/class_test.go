package qosaudit

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// ladders are increasing quantities per resource, so that a request drawn
// below a limit stays valid.
var ladders = map[corev1.ResourceName][]string{
	corev1.ResourceCPU:              {"0", "50m", "100m", "250m", "500m", "1"},
	corev1.ResourceMemory:           {"0", "32Mi", "64Mi", "128Mi", "256Mi", "1Gi"},
	corev1.ResourceEphemeralStorage: {"0", "100Mi", "1Gi", "2Gi"},
}

// genResources draws a request/limit shape for each resource: unset,
// request only, limit only (defaulted to the request by the API), equal,
// request below limit, or explicit zeros.
func genResources(rng *rand.Rand, guaranteedBias bool) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{}
	set := func(l *corev1.ResourceList, name corev1.ResourceName, q string) {
		if *l == nil {
			*l = corev1.ResourceList{}
		}
		(*l)[name] = resource.MustParse(q)
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		ladder := ladders[name]
		lo := 1 + rng.Intn(len(ladder)-2)
		hi := lo + 1 + rng.Intn(len(ladder)-lo-1)
		mode := rng.Intn(8)
		if guaranteedBias && name != corev1.ResourceEphemeralStorage && rng.Intn(10) < 8 {
			mode = 3
		}
		switch mode {
		case 0: // unset
		case 1:
			set(&r.Requests, name, ladder[lo])
		case 2:
			set(&r.Limits, name, ladder[lo])
		case 3:
			set(&r.Requests, name, ladder[lo])
			set(&r.Limits, name, ladder[lo])
		case 4:
			set(&r.Requests, name, ladder[lo])
			set(&r.Limits, name, ladder[hi])
		case 5:
			set(&r.Requests, name, "0")
		case 6:
			set(&r.Requests, name, "0")
			set(&r.Limits, name, "0")
		case 7:
			set(&r.Requests, name, "0")
			set(&r.Limits, name, ladder[lo])
		}
	}
	return r
}

// genPod draws a pod: 1–3 containers, 0–2 init containers (some of them
// restartable sidecars), sometimes pod-level resources.
func genPod(rng *rand.Rand, i int) *corev1.Pod {
	bias := rng.Intn(3) == 0
	bare := !bias && rng.Intn(6) == 0
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gen-%02d", i)},
	}
	for j := range 1 + rng.Intn(3) {
		r := genResources(rng, bias)
		if bare {
			// Nothing, explicit zeros or ephemeral-storage only: BestEffort
			// unless an init container or pod-level resources say otherwise.
			r = corev1.ResourceRequirements{}
			switch rng.Intn(3) {
			case 1:
				r.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0"), corev1.ResourceMemory: resource.MustParse("0")}
			case 2:
				r.Limits = corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}
			}
		}
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", j), Image: "registry.k8s.io/pause:3.10", Resources: r})
	}
	for j := range rng.Intn(3) {
		if bare && rng.Intn(2) == 0 {
			break
		}
		c := corev1.Container{Name: fmt.Sprintf("i%d", j), Image: "registry.k8s.io/pause:3.10", Resources: genResources(rng, bias)}
		if rng.Intn(2) == 0 {
			always := corev1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
			c.Name = fmt.Sprintf("s%d", j)
		}
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
	}
	if rng.Intn(4) == 0 {
		// Pod-level resources above what containers ask, so validation passes.
		pr := &corev1.ResourceRequirements{}
		cpu := []string{"1", "2", "4"}[rng.Intn(3)]
		mem := []string{"2Gi", "4Gi", "8Gi"}[rng.Intn(3)]
		switch rng.Intn(4) {
		case 0:
			pr.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
			pr.Limits = pr.Requests.DeepCopy()
		case 1:
			pr.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
		case 2:
			pr.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}
		case 3:
			pr.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
			pr.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
		}
		pod.Spec.Resources = pr
	}
	return pod
}

// TestClassMatchesAPIServer generates varied pods, asks the plugin for the
// class it predicts from the manifests, creates the pods and requires the
// prediction, and the class the plugin computes from the live pods, to be
// the status.qosClass the apiserver stored, for every pod.
func TestClassMatchesAPIServer(t *testing.T) {
	c := framework.Get(t)
	seed := time.Now().UnixNano()
	if s := os.Getenv("QOS_E2E_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (set QOS_E2E_SEED to replay)", seed)
	rng := rand.New(rand.NewSource(seed))
	ns := c.Namespace(t, "qos-class", nil)

	const n = 60
	var pods []*corev1.Pod
	var objs []runtime.Object
	for i := range n {
		p := genPod(rng, i)
		pods = append(pods, p)
		objs = append(objs, p)
	}
	for _, p := range edgePods() {
		pods = append(pods, p)
		objs = append(objs, p)
	}
	path, _ := writeManifests(t, objs...)

	predicted := c.Run(t, binary, "-f", path, "-n", ns, "-o", "json", "--fail-on", "never")
	if predicted.Code != 0 {
		t.Fatalf("prediction failed:\n%s", predicted)
	}
	var pred auditReport
	predicted.DecodeJSON(t, &pred)
	predictedClass := map[string]string{}
	for _, w := range pred.Workloads {
		if w.Kind == "Pod" && w.Namespace == ns {
			predictedClass[w.Name] = w.QOSClass
		}
	}

	stored := map[string]corev1.PodQOSClass{}
	seen := map[corev1.PodQOSClass]int{}
	for _, p := range pods {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		created, err := c.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		cancel()
		if err != nil {
			// A drawn combination the API refuses (e.g. pod-level requests
			// below the containers') proves nothing either way.
			t.Logf("apiserver refused %s: %v", p.Name, err)
			continue
		}
		stored[p.Name] = created.Status.QOSClass
		seen[created.Status.QOSClass]++
	}
	if len(stored) < 40 {
		t.Fatalf("only %d of %d generated pods were accepted; need at least 40", len(stored), len(pods))
	}
	for _, class := range []corev1.PodQOSClass{corev1.PodQOSGuaranteed, corev1.PodQOSBurstable, corev1.PodQOSBestEffort} {
		if seen[class] == 0 {
			t.Errorf("no accepted pod is %s (seed %d)", class, seed)
		}
	}

	live := c.Run(t, binary, "-n", ns, "-o", "json", "--fail-on", "never")
	if live.Code != 0 {
		t.Fatalf("live run failed:\n%s", live)
	}
	var rep auditReport
	live.DecodeJSON(t, &rep)
	computed := map[string]string{}
	storedByPlugin := map[string]string{}
	for _, p := range rep.Pods {
		computed[p.Name] = p.QOSClass
		storedByPlugin[p.Name] = p.StoredQOSClass
	}

	byName := map[string]*corev1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	for name, want := range stored {
		if got := predictedClass[name]; got != string(want) {
			t.Errorf("%s: -f predicted %q, apiserver assigned %q\n%s", name, got, want, describe(byName[name]))
		}
		if got := computed[name]; got != string(want) {
			t.Errorf("%s: computed %q from the live pod, apiserver assigned %q\n%s", name, got, want, describe(byName[name]))
		}
		if got := storedByPlugin[name]; got != string(want) {
			t.Errorf("%s: storedQosClass %q, apiserver has %q", name, got, want)
		}
	}
	for _, f := range rep.Findings {
		if f.RuleID == "QA109" {
			t.Errorf("QA109 (stored ≠ computed) on %s/%s", f.Object.Kind, f.Object.Name)
		}
	}
	t.Logf("%d pods compared: %d Guaranteed, %d Burstable, %d BestEffort", len(stored), seen[corev1.PodQOSGuaranteed], seen[corev1.PodQOSBurstable], seen[corev1.PodQOSBestEffort])
}

func describe(p *corev1.Pod) string {
	s := ""
	if p.Spec.Resources != nil {
		s += fmt.Sprintf("  pod-level: requests=%v limits=%v\n", p.Spec.Resources.Requests, p.Spec.Resources.Limits)
	}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		s += fmt.Sprintf("  %s: requests=%v limits=%v\n", c.Name, c.Resources.Requests, c.Resources.Limits)
	}
	return s
}

// edgePods are fixed cases where pod-level defaulting and hugepages meet.
func edgePods() []*corev1.Pod {
	q := resource.MustParse
	mk := func(name string, podLevel *corev1.ResourceRequirements, ctrs ...corev1.ResourceRequirements) *corev1.Pod {
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
		p.Spec.Resources = podLevel
		for i, r := range ctrs {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: "registry.k8s.io/pause:3.10", Resources: r})
		}
		return p
	}
	guaranteedHuge := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("256Mi"), "hugepages-2Mi": q("4Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("256Mi"), "hugepages-2Mi": q("4Mi")},
	}
	limitsOnly := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("1Gi")}}
	zeros := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: q("0"), corev1.ResourceMemory: q("0")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: q("0"), corev1.ResourceMemory: q("0")},
	}
	ephemeral := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceEphemeralStorage: q("1Gi")}}
	withInit := mk("edge-besteffort-init", nil, corev1.ResourceRequirements{})
	withInit.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.k8s.io/pause:3.10", Resources: ephemeral}}
	// These make every class present whatever the seed draws.
	return []*corev1.Pod{
		mk("edge-besteffort-zeros", nil, zeros),
		mk("edge-besteffort-ephemeral-only", nil, ephemeral, corev1.ResourceRequirements{}),
		withInit,
		mk("edge-guaranteed-limits-only", nil, limitsOnly),
		mk("edge-hugepages-container", nil, guaranteedHuge),
		mk("edge-podlevel-hugepages-only", &corev1.ResourceRequirements{Limits: corev1.ResourceList{"hugepages-2Mi": q("4Mi")}}, guaranteedHuge),
		mk("edge-podlevel-memory-request", &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: q("2Gi")}}, limitsOnly, limitsOnly),
		mk("edge-podlevel-cpu-request", &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("2")}}, limitsOnly),
		mk("edge-podlevel-requests-above-limits", &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("3"), corev1.ResourceMemory: q("3Gi")}}, limitsOnly, limitsOnly),
		mk("edge-podlevel-limits-unlimited-container", &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceMemory: q("2Gi")}}, limitsOnly, corev1.ResourceRequirements{}),
	}
}
