package probe

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/inflight"
	"github.com/ktriage/ktriage/pkg/probe/result"
	"github.com/ktriage/ktriage/pkg/version"
)

// DefaultImageRepository is where the release publishes the probe image; the
// tag is the plugin's version.
const DefaultImageRepository = "ghcr.io/ktriage/netcheck-probe"

// NamePrefix starts every probe container's name.
const NamePrefix = "netcheck-"

// RunAsUser is the probe's numeric user: non-root and numeric, as the
// restricted Pod Security Standard requires for runAsNonRoot to be checkable.
const RunAsUser = 65532

// DefaultImage is the probe image matching this build.
func DefaultImage() string {
	v := version.Get()
	if v == "dev" || v == "" {
		v = "latest"
	}
	return DefaultImageRepository + ":" + v
}

// Check is what the probe checks.
type Check struct {
	Protocol string // tcp, udp, http, https, dns
	Host     string
	Port     int32
	Path     string
	// Timeout bounds the check itself inside the pod.
	Timeout time.Duration
}

// Options shape the container.
type Options struct {
	Image      string
	PullPolicy corev1.PullPolicy
	// Name is the container's name; empty picks netcheck-<random>.
	Name string
}

// RandomName returns netcheck-<5 random lowercase letters and digits>.
func RandomName() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return NamePrefix + string(b)
}

// Container builds the ephemeral container running the check. It meets the
// restricted Pod Security Standard: non-root numeric user, no privilege
// escalation, all capabilities dropped, RuntimeDefault seccomp.
func Container(c Check, o Options) corev1.EphemeralContainer {
	name := o.Name
	if name == "" {
		name = RandomName()
	}
	image := o.Image
	if image == "" {
		image = DefaultImage()
	}
	args := []string{
		"--protocol=" + c.Protocol,
		"--host=" + c.Host,
		"--timeout=" + c.Timeout.String(),
		"--termination-log=" + corev1.TerminationMessagePathDefault,
	}
	if c.Protocol != "dns" {
		args = append(args, "--port="+strconv.Itoa(int(c.Port)))
	}
	if c.Path != "" && (c.Protocol == "http" || c.Protocol == "https") {
		args = append(args, "--path="+c.Path)
	}
	yes, no := true, false
	uid := int64(RunAsUser)
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name:                     name,
		Image:                    image,
		ImagePullPolicy:          o.PullPolicy,
		Args:                     args,
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             &yes,
			RunAsUser:                &uid,
			RunAsGroup:               &uid,
			AllowPrivilegeEscalation: &no,
			ReadOnlyRootFilesystem:   &yes,
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}}
}

// Outcome is what came back from the probe.
type Outcome struct {
	Container string        `json:"container"`
	Image     string        `json:"image"`
	ExitCode  int32         `json:"exitCode"`
	Result    result.Result `json:"result"`
	// Elapsed is from the patch to the container's end.
	Elapsed time.Duration `json:"-"`
}

// Failure kinds of Run, so callers can explain them.
var (
	ErrPodNotRunning = errors.New("pod is not running")
	ErrPodGone       = errors.New("pod was deleted")
	ErrDisabled      = errors.New("ephemeral containers are not available")
	ErrForbidden     = errors.New("forbidden")
	ErrImage         = errors.New("probe image cannot be used")
	ErrStart         = errors.New("probe container did not start")
	ErrWaitTimeout   = errors.New("probe did not finish in time")
)

// Run adds the probe container to pod and waits, at most wait, for its result.
// added is called right after the API server accepted the container, before
// the wait, so the caller can tell the user it exists.
func Run(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, ec corev1.EphemeralContainer, wait time.Duration, added func(name string)) (*Outcome, error) {
	if pod.Status.Phase != corev1.PodRunning {
		return nil, fmt.Errorf("%w: pod %s/%s is %s; an ephemeral container runs only in a running pod", ErrPodNotRunning, pod.Namespace, pod.Name, pod.Status.Phase)
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"ephemeralContainers": []corev1.EphemeralContainer{ec}}})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = cs.CoreV1().Pods(pod.Namespace).Patch(pctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-netcheck"}, "ephemeralcontainers")
	cancel()
	if err != nil {
		return nil, patchError(err, pod)
	}
	if added != nil {
		added(ec.Name)
	}
	return waitFor(ctx, cs, pod, ec, start, wait)
}

func patchError(err error, pod *corev1.Pod) error {
	ref := pod.Namespace + "/" + pod.Name
	msg := err.Error()
	switch {
	case apierrors.IsForbidden(err) && strings.Contains(msg, "PodSecurity"):
		return fmt.Errorf("%w: the namespace's Pod Security admission refused the probe container in pod %s: %s; the probe is restricted-compliant, so check --image and any custom admission policy", ErrForbidden, ref, lastPart(msg))
	case apierrors.IsForbidden(err) && strings.Contains(msg, "cannot patch"):
		return fmt.Errorf("%w: cannot patch pods/ephemeralcontainers in namespace %s: grant patch on pods/ephemeralcontainers (kubectl auth can-i patch pods --subresource=ephemeralcontainers -n %s), or use --no-probe", ErrForbidden, pod.Namespace, pod.Namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: adding the probe container to pod %s was refused: %s", ErrForbidden, ref, lastPart(msg))
	case apierrors.IsNotFound(err) && strings.Contains(msg, "could not find the requested resource"):
		return fmt.Errorf("%w: the API server has no pods/ephemeralcontainers subresource (Kubernetes older than 1.23, or the feature is off); use --no-probe", ErrDisabled)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: pod %s no longer exists", ErrPodGone, ref)
	case apierrors.IsInvalid(err) && strings.Contains(msg, "feature"):
		return fmt.Errorf("%w: %s; use --no-probe", ErrDisabled, lastPart(msg))
	case apierrors.IsInvalid(err):
		return fmt.Errorf("the API server rejected the probe container for pod %s: %s", ref, lastPart(msg))
	case apierrors.IsMethodNotSupported(err):
		return fmt.Errorf("%w: the API server does not support patching ephemeral containers; use --no-probe", ErrDisabled)
	}
	return fmt.Errorf("adding the probe container to pod %s: %w", ref, err)
}

// lastPart keeps the telling end of a long API error.
func lastPart(msg string) string {
	if len(msg) > 400 {
		return "..." + msg[len(msg)-400:]
	}
	return msg
}

// Waiting reasons that will not resolve by themselves within a probe's time.
var fatalWaiting = map[string]bool{
	"ErrImagePull":               true,
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"ImageInspectError":          true,
	"RegistryUnavailable":        true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"PreCreateHookError":         true,
	"PreStartHookError":          true,
}

const pollInterval = 500 * time.Millisecond

func waitFor(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, ec corev1.EphemeralContainer, start time.Time, wait time.Duration) (*Outcome, error) {
	ref := pod.Namespace + "/" + pod.Name
	// Named if the run is interrupted or its deadline passes: what the
	// probe leaves is its one container, which ends by itself.
	defer inflight.Begin(ctx, "the result of the probe container "+ec.Name+" in pod "+ref+
		" (the container stays in the pod's spec and stops by itself within --timeout)")()
	deadline := time.Now().Add(wait)
	last := "no status reported yet"
	for {
		gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		p, err := cs.CoreV1().Pods(pod.Namespace).Get(gctx, pod.Name, metav1.GetOptions{})
		cancel()
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("%w: pod %s was deleted while the probe ran, so the probe has no result (its container went with the pod)", ErrPodGone, ref)
		case err == nil && p.UID != pod.UID && pod.UID != "":
			return nil, fmt.Errorf("%w: pod %s was replaced by a new pod of the same name while the probe ran", ErrPodGone, ref)
		case err == nil:
			if out, done, err := inspect(p, ec, start); done || err != nil {
				return out, err
			}
			last = describe(p, ec.Name)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: the probe container %s in pod %s did not finish within %s (%s); see kubectl describe pod %s -n %s", ErrWaitTimeout, ec.Name, ref, wait, last, pod.Name, pod.Namespace)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// inspect reads the container's status: done with an outcome, not yet, or a
// failure that will not go away.
func inspect(p *corev1.Pod, ec corev1.EphemeralContainer, start time.Time) (*Outcome, bool, error) {
	ref := p.Namespace + "/" + p.Name
	if p.DeletionTimestamp != nil {
		return nil, true, fmt.Errorf("%w: pod %s is being deleted, so the probe has no result (its container goes with the pod)", ErrPodGone, ref)
	}
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return nil, true, fmt.Errorf("%w: pod %s ended (%s) before the probe ran", ErrPodNotRunning, ref, p.Status.Phase)
	}
	for _, st := range p.Status.EphemeralContainerStatuses {
		if st.Name != ec.Name {
			continue
		}
		if w := st.State.Waiting; w != nil && fatalWaiting[w.Reason] {
			if strings.Contains(w.Reason, "Image") || w.Reason == "RegistryUnavailable" {
				return nil, true, fmt.Errorf("%w: %s %s: %s; pass --image with an image the node can pull (the probe is cmd/netcheck-probe)", ErrImage, w.Reason, ec.Image, w.Message)
			}
			return nil, true, fmt.Errorf("%w: %s: %s", ErrStart, w.Reason, w.Message)
		}
		if t := st.State.Terminated; t != nil {
			out := &Outcome{Container: ec.Name, Image: ec.Image, ExitCode: t.ExitCode, Elapsed: time.Since(start)}
			if t.Message != "" {
				r, err := result.Parse(t.Message)
				if err == nil {
					out.Result = r
					return out, true, nil
				}
			}
			outcome, ok := result.OutcomeForExitCode(t.ExitCode)
			if !ok {
				return nil, true, fmt.Errorf("%w: the probe container exited with code %d (%s) without a result: %s", ErrStart, t.ExitCode, t.Reason, strings.TrimSpace(t.Message))
			}
			out.Result = result.Result{Result: outcome, Detail: "result read from the exit code; the termination message was lost"}
			return out, true, nil
		}
	}
	return nil, false, nil
}

func describe(p *corev1.Pod, name string) string {
	for _, st := range p.Status.EphemeralContainerStatuses {
		if st.Name != name {
			continue
		}
		switch {
		case st.State.Waiting != nil:
			return "waiting: " + st.State.Waiting.Reason
		case st.State.Running != nil:
			return "running"
		}
	}
	return "no status reported yet: is the kubelet of node " + p.Spec.NodeName + " up?"
}
