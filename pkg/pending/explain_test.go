package pending

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

func TestEveryRuleIsRegisteredWithTitleAndFix(t *testing.T) {
	rules := report.Rules(Plugin)
	if len(rules) < 30 {
		t.Fatalf("want the why-pending rules registered, got %d", len(rules))
	}
	for _, r := range rules {
		if !strings.HasPrefix(r.ID, "WP1") || r.Title == "" || r.Description == "" || r.Fix == "" {
			t.Errorf("rule %+v: want a WP1xx ID, a title, a description and a fix", r)
		}
	}
}

func TestAGatedPodIsExplainedByItsGates(t *testing.T) {
	p := pod("app", "web", func(p *corev1.Pod) {
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota-check"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"}}
	})
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if ex.Stage != StageGated || !strings.Contains(ex.Reason, "example.com/quota-check") {
		t.Fatalf("got stage %s reason %q", ex.Stage, ex.Reason)
	}
	if _, fix, ok := finding(res, RuleGated); !ok || !strings.Contains(fix, "schedulingGates") {
		t.Errorf("want WP101 with a patch removing the gates, got %v", res.Findings)
	}
}

func TestAPodNoSchedulerServesIsNoScheduler(t *testing.T) {
	p := pod("app", "batch", func(p *corev1.Pod) { p.Spec.SchedulerName = "volcano" })
	later := pod("app", "other", onNode("n1"), func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now.Add(-time.Minute)) })
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p, later), p)
	if ex.Stage != StageNoScheduler {
		t.Fatalf("got stage %s (%s)", ex.Stage, ex.Reason)
	}
	if !strings.Contains(strings.Join(ex.Evidence, "\n"), "default-scheduler (1)") {
		t.Errorf("want evidence that pods created later were scheduled by default-scheduler, got %q", ex.Evidence)
	}
	if _, fix, _ := finding(res, RuleNoScheduler); !strings.Contains(fix, `"volcano"`) {
		t.Errorf("fix should name the scheduler: %q", fix)
	}
}

func TestAYoungPodWithoutConditionIsNotBlamedOnTheScheduler(t *testing.T) {
	p := pod("app", "new", func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now.Add(-2 * time.Second)) })
	ex, _ := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if ex.Stage == StageNoScheduler {
		t.Fatalf("a 2s old pod must not be NoScheduler: %s", ex.Reason)
	}
}

func TestAPodWithSchedulerEventsIsNotNoScheduler(t *testing.T) {
	p := pod("app", "big", requests("64", ""))
	ev := event("Pod", "app", "big", "uid-app-big", "FailedScheduling", "Warning", "0/1 nodes are available: 1 Insufficient cpu.")
	ex, _ := explainOne(snapshot(node("n1", "4", "8Gi"), p, ev), p)
	if ex.Stage != StageUnschedulable {
		t.Fatalf("got %s", ex.Stage)
	}
}

func TestInsufficientCPUNamesTheLargestRequestThatFits(t *testing.T) {
	busy := pod("other", "busy", onNode("n1"), requests("3", ""))
	p := pod("app", "big", requests("3", ""), unschedulableCondition("0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."))
	s := snapshot(node("n1", "4", "8Gi"), node("n2", "2", "8Gi"), busy, p)
	ex, res := explainOne(s, p)
	if ex.Stage != StageUnschedulable {
		t.Fatalf("got %s", ex.Stage)
	}
	if !strings.HasPrefix(ex.SimulatedSchedulerMessage, "0/2 nodes are available: 2 Insufficient cpu.") {
		t.Errorf("simulated message %q", ex.SimulatedSchedulerMessage)
	}
	msg, fix, ok := finding(res, RuleResources)
	if !ok || !strings.Contains(fix, "lower resources.requests.cpu from 3 to at most 2 (fits on n2)") || !strings.Contains(msg, "fragmented") {
		t.Errorf("want the largest fitting request on n2 and fragmentation, got %q / %q", msg, fix)
	}
}

func TestARequestAboveEveryNodesAllocatableIsNotFragmentation(t *testing.T) {
	// 8 cpu free over two idle 4-cpu nodes, yet no node can ever hold 6.
	p := pod("app", "big-batch", requests("6", "1Gi"), unschedulableCondition("0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."))
	s := snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"), p)
	_, res := explainOne(s, p)
	msg, fix, ok := finding(res, RuleResources)
	if !ok {
		t.Fatalf("want %s, got %+v", RuleResources, res.Findings)
	}
	if strings.Contains(msg, "fragmented") || strings.Contains(fix, "free capacity") {
		t.Errorf("no amount of free capacity holds 6 cpu on 4-cpu nodes: %q / %q", msg, fix)
	}
	if !strings.Contains(msg, "no node is big enough") || !strings.Contains(msg, "the largest allocatable of the 2 eligible node(s) is 4 (n1)") {
		t.Errorf("want the largest allocatable and its node in the message, got %q", msg)
	}
	if !strings.Contains(fix, "lower resources.requests.cpu from 6 to at most 4 (fits on n1)") ||
		!strings.Contains(fix, "no node is big enough for 6 cpu (the largest allocatable is 4, on n1): keep the request at most 4, or add a node with at least 6 cpu allocatable") {
		t.Errorf("want a smaller request or a bigger node, got %q", fix)
	}
}

func TestFreeCapacitySplitOverNodesThatCouldHoldTheRequestIsFragmentation(t *testing.T) {
	// 2 + 2 cpu free on two 4-cpu nodes: 3 cpu fits either node once freed.
	a := pod("other", "a", onNode("n1"), requests("2", ""))
	b := pod("other", "b", onNode("n2"), requests("2", ""))
	p := pod("app", "mid", requests("3", ""), unschedulableCondition("0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."))
	_, res := explainOne(snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"), a, b, p), p)
	msg, fix, ok := finding(res, RuleResources)
	if !ok {
		t.Fatalf("want %s, got %+v", RuleResources, res.Findings)
	}
	if !strings.Contains(msg, "the free capacity is fragmented") || strings.Contains(msg, "no node is big enough") {
		t.Errorf("want fragmentation, got %q", msg)
	}
	if !strings.Contains(fix, "lower resources.requests.cpu from 3 to at most 2 (fits on n1)") || !strings.Contains(fix, "free capacity") {
		t.Errorf("want the largest fitting request and freeing capacity, got %q", fix)
	}
}

func TestUntoleratedTaintsGiveTheTolerationYAML(t *testing.T) {
	tainted := node("gpu-1", "8", "32Gi", func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})
	p := pod("ml", "train", unschedulableCondition("x"))
	ex, res := explainOne(snapshot(tainted, p), p)
	if ex.Stage != StageUnschedulable {
		t.Fatalf("got %s", ex.Stage)
	}
	msg, fix, ok := finding(res, RuleTaint)
	if !ok || !strings.Contains(msg, "dedicated=gpu:NoSchedule") {
		t.Fatalf("want the taint named, got %q", msg)
	}
	for _, want := range []string{"tolerations:", `- key: "dedicated"`, "operator: Equal", `value: "gpu"`, "effect: NoSchedule", "kubectl taint node gpu-1 dedicated:NoSchedule-"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, fix)
		}
	}
}

func TestANodeSelectorNoNodeMatchesSaysWhichLabelToAdd(t *testing.T) {
	p := pod("app", "db", unschedulableCondition("x"), func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disktype": "ssd"} })
	_, res := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if _, fix, ok := finding(res, RuleNodeAffinity); !ok || !strings.HasPrefix(fix, "kubectl label node n1 disktype=ssd") {
		t.Errorf("got %q", fix)
	}
}

func TestACordonedNodeIsNamedWithUncordon(t *testing.T) {
	p := pod("app", "web", unschedulableCondition("x"))
	_, res := explainOne(snapshot(node("n1", "4", "8Gi", func(n *corev1.Node) {
		n.Spec.Unschedulable = true
		n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}}
	}), p), p)
	if _, fix, ok := finding(res, RuleCordoned); !ok || !strings.Contains(fix, "kubectl uncordon n1") {
		t.Errorf("got %v", res.Findings)
	}
}

func TestAStaleConditionIsFlagged(t *testing.T) {
	p := pod("app", "web", unschedulableCondition("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if ex.MessagesAgree == nil || *ex.MessagesAgree {
		t.Fatalf("want disagreement flagged, got %v", ex.MessagesAgree)
	}
	if _, _, ok := finding(res, RuleStaleCondition); !ok {
		t.Errorf("want WP181, got %v", ruleIDs(res))
	}
}

func TestPreemptionCouldHelpWhenLowerPriorityPodsHoldTheNode(t *testing.T) {
	low := pod("batch", "low", onNode("n1"), requests("3", ""), func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](0) })
	p := pod("app", "urgent", requests("2", ""), unschedulableCondition("x"), func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](1000) })
	_, res := explainOne(snapshot(node("n1", "4", "8Gi"), low, p), p)
	if msg, _, ok := finding(res, RulePreemption); !ok || !strings.Contains(msg, "batch/low") {
		t.Errorf("want WP180 naming batch/low, got %v", res.Findings)
	}
}

func claim(ns, name string, class *string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-pvc-" + name)},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
}

func withClaim(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}})
	}
}

func TestVolumeBinding(t *testing.T) {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	cases := []struct {
		name      string
		objs      []any
		wantStage Stage
		wantRule  string
		wantFix   string
	}{
		{"a missing claim is VolumeBinding with the claim to create", nil, StageVolumeBinding, RulePVCMissing, "kind: PersistentVolumeClaim"},
		{"a claim without class and no default class says so", []any{claim("app", "data", nil)}, StageVolumeBinding, RulePVCNoClass, "is-default-class"},
		{"a claim naming a missing class says so", []any{claim("app", "data", ptr.To("fast"))}, StageVolumeBinding, RuleClassMissing, `StorageClass "fast"`},
		{"a static class without a matching PV asks for a PV", []any{claim("app", "data", ptr.To("local")), &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: noProvisioner}}, StageVolumeBinding, RuleNoMatchingPV, "storageClassName: local"},
		{"a WaitForFirstConsumer claim is not the cause by itself", []any{claim("app", "data", ptr.To("csi")), &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "csi"}, Provisioner: "csi.example.com", VolumeBindingMode: &wffc}}, StageNoScheduler, RuleWaitForConsumer, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("app", "db", withClaim("data"), unschedulableCondition("x"))
			if tc.wantStage == StageNoScheduler {
				// With the claim not blocking, the pod fits: the
				// scheduler has simply not bound it yet.
				p.Status.Conditions = nil
				p.CreationTimestamp = metav1.NewTime(now.Add(-time.Second))
			}
			s := snapshot(append([]any{node("n1", "4", "8Gi"), p}, tc.objs...)...)
			ex, res := explainOne(s, p)
			if tc.wantStage != StageNoScheduler && ex.Stage != tc.wantStage {
				t.Errorf("stage %s, want %s (%s)", ex.Stage, tc.wantStage, ex.Reason)
			}
			_, fix, ok := finding(res, tc.wantRule)
			if !ok || !strings.Contains(fix, tc.wantFix) {
				t.Errorf("want %s with fix containing %q, got %v", tc.wantRule, tc.wantFix, res.Findings)
			}
		})
	}
}

// Status and events below are copied from kubelet v1.3x output.
func TestImagePull(t *testing.T) {
	cases := []struct {
		name, reason, message, event string
		pullSecret                   string
		wantRule                     string
	}{
		{"a missing tag is image not found", "ErrImagePull",
			`failed to pull and unpack image "docker.io/library/nginx:1.99-nope": failed to resolve reference "docker.io/library/nginx:1.99-nope": docker.io/library/nginx:1.99-nope: not found`,
			`Failed to pull image "nginx:1.99-nope": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.99-nope": failed to resolve reference "docker.io/library/nginx:1.99-nope": docker.io/library/nginx:1.99-nope: not found`,
			"", RuleImageNotFound},
		{"a private repository without credentials is unauthorized", "ImagePullBackOff",
			`Back-off pulling image "ghcr.io/acme/private:1.0"`,
			`Failed to pull image "ghcr.io/acme/private:1.0": failed to pull and unpack image "ghcr.io/acme/private:1.0": failed to resolve reference "ghcr.io/acme/private:1.0": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme%2Fprivate%3Apull&service=ghcr.io: 401 Unauthorized`,
			"", RuleImageUnauthorized},
		{"a pull secret the pod names but that does not exist is named", "ImagePullBackOff",
			`Back-off pulling image "ghcr.io/acme/private:1.0"`, "", "regcred", RuleImageUnauthorized},
		{"an uppercase repository is an invalid name", "InvalidImageName",
			`Failed to apply default image tag "Nginx:Latest": couldn't parse image name "Nginx:Latest": invalid reference format: repository name must be lowercase`, "", "", RuleImageInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("app", "web", onNode("n1"), func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodPending
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: p.Spec.Containers[0].Image, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: tc.reason, Message: tc.message}}}}
				if tc.pullSecret != "" {
					p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: tc.pullSecret}}
				}
			})
			objs := []any{node("n1", "4", "8Gi"), p}
			if tc.event != "" {
				objs = append(objs, event("Pod", "app", "web", "uid-app-web", "Failed", "Warning", tc.event))
			}
			ex, res := explainOne(snapshot(objs...), p)
			if ex.Stage != StageImagePull {
				t.Fatalf("stage %s (%s)", ex.Stage, ex.Reason)
			}
			msg, fix, ok := finding(res, tc.wantRule)
			if !ok {
				t.Fatalf("want %s, got %v", tc.wantRule, res.Findings)
			}
			if tc.pullSecret != "" && (!strings.Contains(msg, tc.pullSecret) || !strings.Contains(fix, "kubectl create secret docker-registry "+tc.pullSecret)) {
				t.Errorf("want the missing secret named with a create command: %q / %q", msg, fix)
			}
		})
	}
}

func TestContainerCreating(t *testing.T) {
	t.Run("a missing ConfigMap volume is named from the snapshot and the FailedMount event", func(t *testing.T) {
		p := pod("app", "web", onNode("n1"), func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
		})
		ev := event("Pod", "app", "web", "uid-app-web", "FailedMount", "Warning", `MountVolume.SetUp failed for volume "config" : configmap "app-config" not found`)
		ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p, ev), p)
		if ex.Stage != StageContainerCreating || ex.Reason != "missing configmap/app-config" {
			t.Fatalf("got %s %q", ex.Stage, ex.Reason)
		}
		if _, fix, ok := finding(res, RuleMissingObject); !ok || !strings.Contains(fix, "kubectl create configmap app-config -n app") {
			t.Errorf("got %v", res.Findings)
		}
	})
	t.Run("a missing Secret in env is read from CreateContainerConfigError", func(t *testing.T) {
		p := pod("app", "web", onNode("n1"), func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "db-password" not found`}}}}
		})
		s := snapshot(node("n1", "4", "8Gi"), p)
		delete(s.Loaded, "Secret")
		ex, _ := explainOne(s, p)
		if ex.Reason != "missing secret/db-password" {
			t.Fatalf("got %s %q", ex.Stage, ex.Reason)
		}
	})
	t.Run("a sandbox failure names the CNI", func(t *testing.T) {
		p := pod("app", "web", onNode("n1"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending })
		ev := event("Pod", "app", "web", "uid-app-web", "FailedCreatePodSandBox", "Warning", `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f1c": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory`)
		ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p, ev), p)
		if _, fix, ok := finding(res, RuleSandbox); ex.Stage != StageContainerCreating || !ok || !strings.Contains(fix, "CNI") {
			t.Errorf("got %s %v", ex.Stage, res.Findings)
		}
	})
}

func TestAnInitContainerCrashLoopingGivesExitCodeAndRestarts(t *testing.T) {
	p := pod("app", "web", onNode("n1"), func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "app:1"}}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{
			Name: "migrate", RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container=migrate pod=web_app(uid-app-web)"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}},
		}}
	})
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if ex.Stage != StageInitContainers || ex.Reason != "init container migrate crash-looping: exit code 3 (Error), 4 restarts" {
		t.Fatalf("got %s %q", ex.Stage, ex.Reason)
	}
	if _, fix, _ := finding(res, RuleInitContainer); !strings.Contains(fix, "kubectl logs web -n app -c migrate --previous") {
		t.Errorf("fix %q", fix)
	}
}

func TestNodeLost(t *testing.T) {
	bound := func(p *corev1.Pod) { p.Spec.NodeName = "n1" }
	t.Run("a deleted node is NodeLost with delete the pod", func(t *testing.T) {
		p := pod("app", "web", bound)
		ex, res := explainOne(snapshot(node("n2", "4", "8Gi"), p), p)
		if _, _, ok := finding(res, RuleNodeGone); ex.Stage != StageNodeLost || !ok {
			t.Errorf("got %s %v", ex.Stage, ruleIDs(res))
		}
	})
	t.Run("an unreachable node is NodeLost", func(t *testing.T) {
		n := node("n1", "4", "8Gi", func(n *corev1.Node) {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}}
			n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}}
		})
		p := pod("app", "web", bound)
		ex, res := explainOne(snapshot(n, p), p)
		if _, _, ok := finding(res, RuleNodeNotReady); ex.Stage != StageNodeLost || !ok || !strings.Contains(ex.Reason, "unreachable") {
			t.Errorf("got %s %q %v", ex.Stage, ex.Reason, ruleIDs(res))
		}
	})
}

func TestNotCreated(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "uid-dep"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d8f", UID: "uid-rs", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: "uid-dep", Controller: ptr.To(true)}}}}
	cases := []struct {
		name, message, wantRule, wantReason, wantFix string
	}{
		{"an exceeded quota gives the quota to raise", `Error creating: pods "web-5d8f-x7k2p" is forbidden: exceeded quota: compute, requested: requests.cpu=2,requests.memory=1Gi, used: requests.cpu=3,requests.memory=1Gi, limited: requests.cpu=4,requests.memory=4Gi`,
			RuleQuota, "exceeded quota compute", `"requests.cpu":"5"`},
		{"a LimitRange maximum names the limit", `Error creating: pods "web-5d8f-x7k2p" is forbidden: maximum cpu usage per Container is 1, but limit is 2`,
			RuleLimitRange, "maximum cpu usage per Container is 1, but limit is 2", "LimitRange"},
		{"a Pod Security denial lists what to change", `Error creating: pods "web-5d8f-x7k2p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`,
			RuleAdmission, "PodSecurity restricted:latest", "allowPrivilegeEscalation=false"},
		{"a webhook denial names the webhook", `Error creating: admission webhook "policy.example.com" denied the request: image registry not allowed`,
			RuleAdmission, "webhook policy.example.com denied", "policy.example.com"},
		{"a missing service account says to create it", `Error creating: pods "web-5d8f-" is forbidden: error looking up service account shop/deployer: serviceaccount "deployer" not found`,
			RuleNotCreated, "ServiceAccount deployer not found", "kubectl create serviceaccount deployer -n shop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := snapshot(dep, rs, event("ReplicaSet", "shop", "web-5d8f", "uid-rs", "FailedCreate", "Warning", tc.message))
			res := Explain(s, nil, []WorkloadTarget{{Kind: "Deployment", Namespace: "shop", Name: "web"}}, Options{Now: now})
			if len(res.Pods) != 1 || res.Pods[0].Stage != StageNotCreated || res.Pods[0].Name != "deployment/web" {
				t.Fatalf("got %+v", res.Pods)
			}
			if !strings.Contains(res.Pods[0].Reason, tc.wantReason) {
				t.Errorf("reason %q lacks %q", res.Pods[0].Reason, tc.wantReason)
			}
			_, fix, ok := finding(res, tc.wantRule)
			if !ok || !strings.Contains(fix, tc.wantFix) {
				t.Errorf("want %s with fix containing %q, got %v", tc.wantRule, tc.wantFix, res.Findings)
			}
		})
	}
	t.Run("a workload with some pods and no failure is not explained twice", func(t *testing.T) {
		res := Explain(snapshot(dep, rs), nil, []WorkloadTarget{{Kind: "Deployment", Namespace: "shop", Name: "web", HasPods: true}}, Options{Now: now})
		if len(res.Pods) != 0 {
			t.Errorf("got %+v", res.Pods)
		}
	})
}

func TestANominatedPodNamesTheVictimsStillLeaving(t *testing.T) {
	leaving := pod("batch", "victim", onNode("n1"), requests("3", ""), func(p *corev1.Pod) {
		p.Spec.Priority = ptr.To[int32](0)
		p.DeletionTimestamp = &metav1.Time{Time: now.Add(-10 * time.Second)}
	})
	p := pod("app", "urgent", requests("2", ""), unschedulableCondition("x"), func(p *corev1.Pod) {
		p.Spec.Priority = ptr.To[int32](1000)
		p.Status.NominatedNodeName = "n1"
	})
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), leaving, p), p)
	if ex.NominatedNodeName != "n1" {
		t.Fatalf("nominatedNodeName %q", ex.NominatedNodeName)
	}
	if msg, _, ok := finding(res, RuleNominated); !ok || !strings.Contains(msg, "still terminating: batch/victim") {
		t.Errorf("want WP182 naming the terminating victim, got %v", res.Findings)
	}
}

func TestAFindingNamesAFewNodesAndCountsTheRest(t *testing.T) {
	// 25 nodes, all tainted: the taint finding's evidence keeps the first
	// 20 node details and the count; the explanation keeps every node.
	objs := []any{}
	for i := range 25 {
		objs = append(objs, node(fmt.Sprintf("n%02d", i), "4", "8Gi", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}))
	}
	p := pod("app", "web", unschedulableCondition("0/25 nodes are available: 25 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/25 nodes are available: 25 Preemption is not helpful for scheduling."))
	ex, res := explainOne(snapshot(append(objs, p)...), p)
	if len(ex.Nodes) != 25 {
		t.Fatalf("want all 25 nodes in the explanation, got %d", len(ex.Nodes))
	}
	for _, f := range res.Findings {
		if f.RuleID != RuleTaint {
			continue
		}
		nodes, _ := f.Details["nodes"].(map[string]any)
		if len(nodes) != maxEvidenceNodes || f.Details["nodeCount"] != 25 || nodes["n00"] == nil || nodes["n19"] == nil {
			t.Fatalf("want n00..n19 and nodeCount 25 in the evidence, got %d nodes, count %v", len(nodes), f.Details["nodeCount"])
		}
		return
	}
	t.Fatalf("no %s finding in %v", RuleTaint, ruleIDs(res))
}

func TestFiltersThatCouldNotRunAreNamedAndDoNotMakeTheConditionStale(t *testing.T) {
	// The pod's claim does not exist, but claims could not be listed: the
	// volume filters cannot run, so the scheduler's verdict stands.
	msg := `0/1 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`
	p := pod("app", "web", unschedulableCondition(msg), func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "nope"}}}}
	})
	s := snapshot(node("n1", "4", "8Gi"), p)
	delete(s.Loaded, cluster.KindPVC)
	ex, res := explainOne(s, p)
	if ex.Stage != StageUnschedulable || !strings.Contains(ex.Reason, "not evaluated here") {
		t.Errorf("want the scheduler's verdict kept, got stage %s reason %q", ex.Stage, ex.Reason)
	}
	if _, _, ok := finding(res, RuleIncomplete); !ok {
		t.Errorf("want %s naming the filters that did not run, got %v", RuleIncomplete, ruleIDs(res))
	}
	if _, _, ok := finding(res, RuleStaleCondition); ok {
		t.Errorf("the condition is not stale: the filters that reject the pod did not run")
	}
}

func TestAMissingNodeIsToldApartFromANodeThatWentAway(t *testing.T) {
	created := pod("app", "pinned", func(p *corev1.Pod) { p.Spec.NodeName = "never" })
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), created), created)
	if ex.Stage != StageNodeLost || !strings.Contains(ex.Reason, "does not exist") {
		t.Errorf("spec.nodeName set at creation: got %s %q", ex.Stage, ex.Reason)
	}
	if _, fix, _ := finding(res, RuleNodeGone); !strings.Contains(fix, "fix spec.nodeName") {
		t.Errorf("deleting the pod recreates it on the same missing node; want a fix of spec.nodeName, got %q", fix)
	}
	bound := pod("app", "bound", onNode("gone")) // PodScheduled=True
	ex, res = explainOne(snapshot(node("n1", "4", "8Gi"), bound), bound)
	if ex.Stage != StageNodeLost || !strings.Contains(ex.Reason, "no longer exists") {
		t.Errorf("scheduled, then the node went away: got %s %q", ex.Stage, ex.Reason)
	}
	if _, fix, _ := finding(res, RuleNodeGone); !strings.Contains(fix, "kubectl delete pod bound") {
		t.Errorf("want the pod deleted so its controller recreates it, got %q", fix)
	}
}

func TestAnotherSchedulersMessageIsNotCalledStale(t *testing.T) {
	p := pod("app", "batch", requests("64", "1Gi"), unschedulableCondition("pod group is not ready, 1/4 members"), func(p *corev1.Pod) {
		p.Spec.SchedulerName = "volcano"
	})
	ex, res := explainOne(snapshot(node("n1", "4", "8Gi"), p), p)
	if ex.MessagesAgree != nil {
		t.Errorf("volcano's words cannot agree with kube-scheduler's: want no comparison, got %v", *ex.MessagesAgree)
	}
	if _, _, ok := finding(res, RuleStaleCondition); ok {
		t.Errorf("want no %s for another scheduler's message", RuleStaleCondition)
	}
	if !strings.Contains(strings.Join(ex.Evidence, "\n"), `default profile; the pod's scheduler is "volcano"`) {
		t.Errorf("want the simulation labelled, got %q", ex.Evidence)
	}
}

func TestAHostnameSelectorIsFixedInThePodNotByRelabellingANode(t *testing.T) {
	p := pod("app", "pinned", func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "old-node"}
	}, unschedulableCondition("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
	n := node("n1", "4", "8Gi", func(n *corev1.Node) { n.Labels = map[string]string{"kubernetes.io/hostname": "n1"} })
	_, res := explainOne(snapshot(n, p), p)
	_, fix, ok := finding(res, RuleNodeAffinity)
	if !ok || strings.Contains(fix, "kubectl label node") || !strings.Contains(fix, "change the pod's nodeSelector kubernetes.io/hostname=old-node") {
		t.Errorf("want the selector changed, not a node relabelled: %q", fix)
	}
}

func TestAnInlineDiskConflictIsFoundWithoutListingClaims(t *testing.T) {
	msg := "0/1 nodes are available: 1 node(s) had no available disk. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
	disk := func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}}}}
	}
	holder := pod("app", "holder", onNode("n1"), disk, func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning })
	p := pod("app", "web", unschedulableCondition(msg), disk)
	s := snapshot(node("n1", "4", "8Gi"), holder, p)
	delete(s.Loaded, cluster.KindPVC)
	s.Loaded[cluster.KindCSINode], s.Loaded[cluster.KindCSIDriver] = true, true
	ex, _ := explainOne(s, p)
	if ex.Stage != StageUnschedulable || len(ex.Feasible) != 0 || ex.SimulatedSchedulerMessage != msg {
		t.Errorf("VolumeRestrictions reads no claim for an in-tree disk: want the scheduler's verdict, got stage %s feasible %v\n%s", ex.Stage, ex.Feasible, ex.SimulatedSchedulerMessage)
	}
}

func TestNodesThatPassOnlyTheFiltersThatRanAreNotCalledFeasible(t *testing.T) {
	msg := `0/1 nodes are available: 1 node(s) had no available disk. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`
	p := pod("app", "web", unschedulableCondition(msg), func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "d"}}}}
	})
	s := snapshot(node("n1", "4", "8Gi"), p)
	delete(s.Loaded, cluster.KindCSINode)
	ex, res := explainOne(s, p)
	if len(ex.Feasible) != 0 || strings.Contains(ex.Reason, "fits") || !strings.Contains(ex.Reason, "NodeVolumeLimits not evaluated here") {
		t.Errorf("want no feasible node and the scheduler's verdict, got feasible %v reason %q", ex.Feasible, ex.Reason)
	}
	if _, _, ok := finding(res, RuleIncomplete); !ok {
		t.Errorf("want %s, got %v", RuleIncomplete, ruleIDs(res))
	}
}
