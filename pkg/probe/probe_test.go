package probe

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"

	"github.com/ktriage/ktriage/pkg/inflight"
	"github.com/ktriage/ktriage/pkg/probe/result"
)

func check() Check {
	return Check{Protocol: "tcp", Host: "10.0.0.5", Port: 8080, Timeout: 3 * time.Second}
}

// restrictedPod is a pod whose own container meets the restricted level, so
// the evaluation below judges only the probe container.
func restrictedPod(ec ...corev1.EphemeralContainer) *corev1.PodSpec {
	yes, no := true, false
	return &corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "app", Image: "app", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
		EphemeralContainers: ec,
	}
}

func restrictedFailures(t *testing.T, spec *corev1.PodSpec) []string {
	t.Helper()
	ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The pod-level settings are dropped so the container alone must comply.
	spec.SecurityContext = nil
	agg := psapolicy.AggregateCheckResults(ev.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, &metav1.ObjectMeta{}, spec))
	if agg.Allowed {
		return nil
	}
	return []string{agg.ForbiddenReason() + ": " + agg.ForbiddenDetail()}
}

func TestProbeContainerMeetsTheRestrictedPodSecurityStandard(t *testing.T) {
	ec := Container(check(), Options{Image: "probe:1"})
	spec := restrictedPod(ec)
	// The app container relies on pod-level settings; give it its own so
	// only the probe container is judged.
	yes := true
	spec.Containers[0].SecurityContext.RunAsNonRoot = &yes
	spec.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	if fails := restrictedFailures(t, spec); fails != nil {
		t.Fatalf("the probe container must pass Pod Security admission at restricted (the library the API server runs): %v", fails)
	}

	// The same check fails a container without those settings, so it is
	// not vacuous.
	bare := ec
	bare.SecurityContext = nil
	spec = restrictedPod(bare)
	spec.Containers[0].SecurityContext.RunAsNonRoot = &yes
	spec.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	if restrictedFailures(t, spec) == nil {
		t.Fatal("a probe container without a security context passed restricted: the check is not working")
	}
}

func TestContainerSpec(t *testing.T) {
	ec := Container(Check{Protocol: "http", Host: "web.shop", Port: 80, Path: "/healthz", Timeout: 2 * time.Second}, Options{Image: "probe:1", PullPolicy: corev1.PullNever})
	if !strings.HasPrefix(ec.Name, NamePrefix) || len(ec.Name) != len(NamePrefix)+5 {
		t.Errorf("name %q: want netcheck-<5 characters>", ec.Name)
	}
	want := []string{"--protocol=http", "--host=web.shop", "--timeout=2s", "--termination-log=/dev/termination-log", "--port=80", "--path=/healthz"}
	if strings.Join(ec.Args, " ") != strings.Join(want, " ") {
		t.Errorf("args %v, want %v", ec.Args, want)
	}
	if ec.ImagePullPolicy != corev1.PullNever || ec.TerminationMessagePolicy != corev1.TerminationMessageReadFile || *ec.SecurityContext.RunAsUser != RunAsUser {
		t.Errorf("unexpected spec %+v", ec)
	}
	if dns := Container(Check{Protocol: "dns", Host: "web", Timeout: time.Second}, Options{}); strings.Contains(strings.Join(dns.Args, " "), "--port") || !strings.HasPrefix(dns.Image, DefaultImageRepository+":") {
		t.Errorf("dns probe: want no --port and the default image, got %v %s", dns.Args, dns.Image)
	}
	seen := map[string]bool{}
	for range 20 {
		seen[RandomName()] = true
	}
	if len(seen) < 19 {
		t.Errorf("20 random names gave only %d distinct ones", len(seen))
	}
}

func runningPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "client", UID: "u1"},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// kubeletSim plays the kubelet in a fake clientset: after the patch the next
// get shows the container in the given state.
func kubeletSim(t *testing.T, state func(name string) corev1.ContainerState) (*fake.Clientset, *[]string) {
	pod := runningPod()
	cs := fake.NewClientset(pod.DeepCopy())
	var calls []string
	cs.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls = append(calls, a.GetVerb()+" "+a.GetResource().Resource+"/"+a.GetSubresource())
		return false, nil, nil
	})
	cs.PrependReactor("patch", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "ephemeralcontainers" {
			t.Errorf("patched %q, want only the ephemeralcontainers subresource", a.GetSubresource())
		}
		return true, pod, nil
	})
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := pod.DeepCopy()
		p.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{{Name: "netcheck-test1", State: state("netcheck-test1")}}
		return true, p, nil
	})
	return cs, &calls
}

func TestRunReadsTheTerminationMessage(t *testing.T) {
	msg := string(result.Marshal(result.Result{Result: result.Refused, Protocol: "tcp", Target: "10.0.0.5:8080", LatencyMs: 0.4}))
	cs, calls := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 10, Message: msg}}
	})
	ec := Container(check(), Options{Name: "netcheck-test1", Image: "probe:1"})
	var added string
	out, err := Run(context.Background(), cs, runningPod(), ec, 5*time.Second, func(n string) { added = n })
	if err != nil {
		t.Fatal(err)
	}
	if added != "netcheck-test1" || out.Result.Result != result.Refused || out.ExitCode != 10 || out.Container != "netcheck-test1" {
		t.Errorf("added %q outcome %+v", added, out)
	}
	for _, c := range *calls {
		if c != "patch pods/ephemeralcontainers" && c != "get pods/" {
			t.Errorf("unexpected API call %q: the probe needs only get pods and patch pods/ephemeralcontainers", c)
		}
	}
}

func TestRunFallsBackToTheExitCodeWhenTheMessageIsLost(t *testing.T) {
	cs, _ := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 11}}
	})
	out, err := Run(context.Background(), cs, runningPod(), Container(check(), Options{Name: "netcheck-test1"}), 5*time.Second, nil)
	if err != nil || out.Result.Result != result.Timeout {
		t.Errorf("exit code 11 is timeout: got %+v %v", out, err)
	}
}

func TestRunEndsQuicklyOnAnImagePullFailure(t *testing.T) {
	cs, _ := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "pull access denied"}}
	})
	start := time.Now()
	_, err := Run(context.Background(), cs, runningPod(), Container(check(), Options{Name: "netcheck-test1", Image: "nope:1"}), time.Minute, nil)
	if !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), "--image") || time.Since(start) > 5*time.Second {
		t.Errorf("want a quick ErrImage naming --image, got %v after %s", err, time.Since(start))
	}
}

func TestRunGivesUpAfterTheBoundedWait(t *testing.T) {
	cs, _ := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	})
	start := time.Now()
	_, err := Run(context.Background(), cs, runningPod(), Container(check(), Options{Name: "netcheck-test1"}), time.Second, nil)
	if !errors.Is(err, ErrWaitTimeout) || time.Since(start) > 3*time.Second {
		t.Errorf("want ErrWaitTimeout after about 1s, got %v after %s", err, time.Since(start))
	}
}

func TestRunRefusesAPodThatIsNotRunning(t *testing.T) {
	p := runningPod()
	p.Status.Phase = corev1.PodPending
	cs := fake.NewClientset(p)
	if _, err := Run(context.Background(), cs, p, Container(check(), Options{}), time.Second, nil); !errors.Is(err, ErrPodNotRunning) {
		t.Errorf("want ErrPodNotRunning, got %v", err)
	}
	if len(cs.Actions()) != 0 {
		t.Errorf("a pod that is not running must not be patched: %v", cs.Actions())
	}
}

func TestRunReportsADeletedPod(t *testing.T) {
	cs := fake.NewClientset() // the pod is gone before the patch
	_, err := Run(context.Background(), cs, runningPod(), Container(check(), Options{}), time.Second, nil)
	if !errors.Is(err, ErrPodGone) {
		t.Errorf("want ErrPodGone, got %v", err)
	}
}

func TestRunInterruptedNamesTheProbeContainer(t *testing.T) {
	cs, _ := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	})
	ctx, cancel := context.WithCancel(context.Background())
	ctx, tracker := inflight.NewContext(ctx)
	added := func(string) { time.AfterFunc(200*time.Millisecond, cancel) }
	start := time.Now()
	_, err := Run(ctx, cs, runningPod(), Container(check(), Options{Name: "netcheck-test1"}), time.Minute, added)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Errorf("want the wait to end at the interrupt, got %v after %s", err, time.Since(start))
	}
	want := "the result of the probe container netcheck-test1 in pod shop/client (the container stays in the pod's spec and stops by itself within --timeout)"
	if p := tracker.Pending(); !slices.Contains(p, want) {
		t.Errorf("pending at the interrupt: %q, want it to hold %q", p, want)
	}
}

func TestRunNoticesThePodDeletedMidProbe(t *testing.T) {
	cs, _ := kubeletSim(t, func(string) corev1.ContainerState {
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	})
	gets := 0
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		if gets < 3 {
			return false, nil, nil
		}
		return true, nil, apierrors.NewNotFound(corev1.Resource("pods"), "client")
	})
	start := time.Now()
	_, err := Run(context.Background(), cs, runningPod(), Container(check(), Options{Name: "netcheck-test1"}), time.Minute, nil)
	if !errors.Is(err, ErrPodGone) || !strings.Contains(err.Error(), "pod shop/client was deleted while the probe ran") || time.Since(start) > 5*time.Second {
		t.Errorf("want ErrPodGone soon after the pod went, got %v after %s", err, time.Since(start))
	}
}
