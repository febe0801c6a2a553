package pending

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// explainBound handles a Pending pod the scheduler already bound to a node:
// node health first (statuses from a lost node are stale), then init
// containers, image pulls and container creation.
func (a *analyzer) explainBound(pod *corev1.Pod, ex *Explanation) {
	ex.Node = pod.Spec.NodeName
	if a.explainNodeLost(pod, ex) {
		return
	}
	if a.explainInit(pod, ex) {
		return
	}
	if a.explainImagePull(pod, ex) {
		return
	}
	a.explainContainerCreating(pod, ex)
}

func (a *analyzer) explainNodeLost(pod *corev1.Pod, ex *Explanation) bool {
	name := pod.Spec.NodeName
	node, ok := a.nodes[name]
	if !ok {
		if !a.snap.Loaded[cluster.KindNode] {
			return false
		}
		ex.Stage = StageNodeLost
		ex.Evidence = append(ex.Evidence, fmt.Sprintf("spec.nodeName: %s; node %q not found", name, name))
		if c := podScheduledCondition(pod); c == nil || c.Status != corev1.ConditionTrue {
			// No scheduler bound it: spec.nodeName was set at creation, so
			// a recreated pod would name the same missing node.
			ex.Reason = fmt.Sprintf("spec.nodeName names node %s, which does not exist", name)
			a.add(ex, RuleNodeGone, report.SeverityError,
				fmt.Sprintf("the pod was created with spec.nodeName %s, and no such node exists (no scheduler bound it)", name),
				"fix spec.nodeName in the pod (or its template) to an existing node, or replace it with a nodeSelector on kubernetes.io/hostname so the scheduler places it",
				map[string]any{"node": name, "setAtCreation": true})
			return true
		}
		ex.Reason = fmt.Sprintf("node %s no longer exists", name)
		a.add(ex, RuleNodeGone, report.SeverityError,
			fmt.Sprintf("the pod is bound to node %s, which no longer exists", name),
			fmt.Sprintf("delete the pod so its controller recreates it on another node: kubectl delete pod %s -n %s", pod.Name, pod.Namespace),
			map[string]any{"node": name})
		return true
	}
	ready := cluster.ReadyCondition(node)
	var unreachable []string
	for _, t := range node.Spec.Taints {
		if t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady {
			unreachable = append(unreachable, taintString(t))
		}
	}
	if ready != nil && ready.Status == corev1.ConditionTrue && len(unreachable) == 0 {
		return false
	}
	ex.Stage = StageNodeLost
	state := "NotReady"
	msg := ""
	if ready == nil {
		state = "without a Ready condition"
	} else {
		if ready.Status == corev1.ConditionUnknown {
			state = "unreachable (Ready=Unknown)"
		}
		msg = strings.TrimSpace(ready.Reason + ": " + ready.Message)
		ex.Evidence = append(ex.Evidence, fmt.Sprintf("node %s Ready=%s since %s: %s", name, ready.Status, ready.LastTransitionTime.UTC().Format("2006-01-02T15:04:05Z"), msg))
	}
	if len(unreachable) > 0 {
		ex.Evidence = append(ex.Evidence, "node taints: "+strings.Join(unreachable, ", "))
	}
	ex.Reason = fmt.Sprintf("node %s is %s", name, state)
	a.add(ex, RuleNodeNotReady, report.SeverityError,
		fmt.Sprintf("the pod is bound to node %s, which is %s", name, state),
		fmt.Sprintf("repair node %s (kubelet, network, runtime); if it is gone for good, drain and delete it: kubectl drain %s --ignore-daemonsets --delete-emptydir-data && kubectl delete node %s", name, name, name),
		map[string]any{"node": name, "ready": condStatus(ready), "taints": unreachable, "condition": msg})
	return true
}

func condStatus(c *corev1.NodeCondition) string {
	if c == nil {
		return ""
	}
	return string(c.Status)
}

// explainInit reports the first init container that has not completed.
func (a *analyzer) explainInit(pod *corev1.Pod, ex *Explanation) bool {
	for i, st := range pod.Status.InitContainerStatuses {
		if st.State.Terminated != nil && st.State.Terminated.ExitCode == 0 {
			continue
		}
		if st.Started != nil && *st.Started && isSidecar(pod, st.Name) {
			continue
		}
		w := st.State.Waiting
		// An init container waiting on its image is an image pull problem.
		if w != nil && isImageReason(w.Reason) {
			return false
		}
		if w != nil && (w.Reason == "ContainerCreating" || w.Reason == "PodInitializing") && st.RestartCount == 0 {
			return false
		}
		if w != nil && w.Reason == "CreateContainerConfigError" {
			return false
		}
		ex.Stage = StageInitContainers
		pos := fmt.Sprintf("%d/%d", i, len(pod.Spec.InitContainers))
		details := map[string]any{"container": st.Name, "restartCount": st.RestartCount, "position": pos}
		var msg string
		switch {
		case w != nil && w.Reason == "CrashLoopBackOff":
			last := st.LastTerminationState.Terminated
			exit := "unknown exit code"
			if last != nil {
				exit = fmt.Sprintf("exit code %d", last.ExitCode)
				if last.Reason != "" {
					exit += " (" + last.Reason + ")"
				}
				details["exitCode"] = last.ExitCode
				if last.Message != "" {
					details["terminationMessage"] = last.Message
				}
			}
			ex.Reason = fmt.Sprintf("init container %s crash-looping: %s, %d restarts", st.Name, exit, st.RestartCount)
			msg = fmt.Sprintf("init container %s (%s) is crash-looping: last run ended with %s, restarted %d times", st.Name, pos, exit, st.RestartCount)
		case st.State.Terminated != nil:
			t := st.State.Terminated
			details["exitCode"] = t.ExitCode
			ex.Reason = fmt.Sprintf("init container %s failed: exit code %d (%s)", st.Name, t.ExitCode, t.Reason)
			msg = fmt.Sprintf("init container %s (%s) exited with code %d (%s)", st.Name, pos, t.ExitCode, t.Reason)
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				msg += "; restartPolicy Never: the pod will not start"
			}
		case st.State.Running != nil:
			since := a.now.Sub(st.State.Running.StartedAt.Time)
			ex.Reason = fmt.Sprintf("init container %s still running (%s)", st.Name, age(since))
			msg = fmt.Sprintf("init container %s (%s) has been running for %s; the app containers start after it exits 0", st.Name, pos, age(since))
		case w != nil:
			ex.Reason = fmt.Sprintf("init container %s waiting: %s", st.Name, w.Reason)
			msg = fmt.Sprintf("init container %s (%s) is waiting: %s %s", st.Name, pos, w.Reason, w.Message)
		default:
			continue
		}
		ex.Evidence = append(ex.Evidence, msg)
		a.add(ex, RuleInitContainer, report.SeverityError, strings.TrimSpace(msg),
			fmt.Sprintf("read its logs: kubectl logs %s -n %s -c %s --previous; fix the command or what it waits for", pod.Name, pod.Namespace, st.Name),
			details)
		return true
	}
	return false
}

func isSidecar(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}

func isImageReason(r string) bool {
	switch r {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable":
		return true
	}
	return false
}

var quotedImage = regexp.MustCompile(`image "([^"]+)"`)

// explainImagePull reads waiting reasons of every container and the Failed
// events of the pod.
func (a *analyzer) explainImagePull(pod *corev1.Pod, ex *Explanation) bool {
	var st *corev1.ContainerStatus
	all := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for i := range all {
		if w := all[i].State.Waiting; w != nil && isImageReason(w.Reason) {
			st = &all[i]
			break
		}
	}
	events := a.events("Pod", pod.Namespace, pod.Name, string(pod.UID))
	var pullMsg, secretWarning string
	for _, e := range events {
		switch {
		case e.Reason == "Failed" && strings.Contains(e.Message, "image"):
			if !strings.HasPrefix(e.Message, "Error: ") {
				pullMsg = e.Message
			}
		case e.Reason == "FailedToRetrieveImagePullSecret":
			secretWarning = e.Message
		case e.Reason == "InspectFailed" || e.Reason == "ErrImageNeverPull":
			pullMsg = e.Message
		}
	}
	if st == nil && pullMsg == "" {
		return false
	}
	ex.Stage = StageImagePull
	container, image, reason, text := "", "", "ImagePull", pullMsg
	if st != nil {
		container, image, reason = st.Name, st.Image, st.State.Waiting.Reason
		if text == "" || reason == "InvalidImageName" {
			text = st.State.Waiting.Message
		}
	}
	if image == "" || (st != nil && reason == "InvalidImageName") {
		if m := quotedImage.FindStringSubmatch(text); m != nil {
			image = m[1]
		}
	}
	if container != "" {
		if spec := containerSpec(pod, container); spec != nil {
			image = spec.Image
		}
	}
	if text != "" {
		ex.Evidence = append(ex.Evidence, text)
	}
	details := map[string]any{"container": container, "image": image, "reason": reason}
	if text != "" {
		details["message"] = text
	}
	// The pod names pull secrets that do not exist?
	missing := a.missingPullSecrets(pod)
	if len(missing) > 0 {
		details["missingImagePullSecrets"] = missing
	}
	lower := strings.ToLower(text)
	switch {
	case reason == "InvalidImageName" || strings.Contains(lower, "invalid reference format") || strings.Contains(lower, "couldn't parse image"):
		ex.Reason = fmt.Sprintf("invalid image name %q", image)
		a.add(ex, RuleImageInvalid, report.SeverityError,
			fmt.Sprintf("container %s: image reference %q cannot be parsed: %s", container, image, text),
			fmt.Sprintf("fix the image of container %s: repository names are lowercase, a tag follows ':' and a digest '@sha256:'", container), details)
	case len(missing) > 0 || secretWarning != "" || isUnauthorized(lower):
		ex.Reason = fmt.Sprintf("pull of %s unauthorized", image)
		msg := fmt.Sprintf("container %s: the registry refused to pull %s", container, image)
		fix := "check the registry credentials in the pod's imagePullSecrets (or its ServiceAccount's)"
		if len(missing) > 0 {
			msg += fmt.Sprintf("; the pod names imagePullSecret(s) that do not exist: %s", strings.Join(missing, ", "))
			fix = fmt.Sprintf("create the secret: kubectl create secret docker-registry %s -n %s --docker-server=REGISTRY --docker-username=USER --docker-password=PASSWORD", missing[0], pod.Namespace)
		} else if secretWarning != "" {
			msg += "; " + secretWarning
			fix = "create the pull secret the event names, in namespace " + pod.Namespace
		} else if len(pod.Spec.ImagePullSecrets) == 0 {
			fix = fmt.Sprintf("create a pull secret (kubectl create secret docker-registry regcred -n %s --docker-server=REGISTRY ...) and add spec.imagePullSecrets: [{name: regcred}] to the pod template, or check the image name (registries answer 'unauthorized' for repositories that do not exist)", pod.Namespace)
		}
		a.add(ex, RuleImageUnauthorized, report.SeverityError, msg, fix, details)
	case isNotFound(lower):
		ex.Reason = fmt.Sprintf("image %s not found", image)
		a.add(ex, RuleImageNotFound, report.SeverityError,
			fmt.Sprintf("container %s: image %s does not exist in its registry", container, image),
			fmt.Sprintf("fix the image name or tag of container %s (kubectl set image), or push %s", container, image), details)
	default:
		ex.Reason = fmt.Sprintf("cannot pull %s (%s)", image, reason)
		a.add(ex, RuleImagePull, report.SeverityError,
			fmt.Sprintf("container %s: pulling %s fails: %s", container, image, strings.TrimSpace(text)),
			"check that the node can reach the registry and that the image exists", details)
	}
	return true
}

func isUnauthorized(s string) bool {
	for _, p := range []string{"unauthorized", "authorization failed", "pull access denied", "401", "403 forbidden", "denied: ", "no basic auth credentials", "authentication required"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func isNotFound(s string) bool {
	return strings.Contains(s, "not found") || strings.Contains(s, "manifest unknown") || strings.Contains(s, "code = notfound") || strings.Contains(s, "does not exist")
}

func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

func (a *analyzer) hasObject(kind cluster.Kind, ns, name string) (exists, known bool) {
	if !a.snap.Loaded[kind] {
		return false, false
	}
	switch kind {
	case cluster.KindSecret:
		for _, s := range a.snap.Secrets {
			if s.Namespace == ns && s.Name == name {
				return true, true
			}
		}
	case cluster.KindConfigMap:
		for _, c := range a.snap.ConfigMaps {
			if c.Namespace == ns && c.Name == name {
				return true, true
			}
		}
	case cluster.KindPVC:
		return a.pvc(ns, name) != nil, true
	}
	return false, true
}

func (a *analyzer) missingPullSecrets(pod *corev1.Pod) []string {
	var out []string
	for _, s := range pod.Spec.ImagePullSecrets {
		if exists, known := a.hasObject(cluster.KindSecret, pod.Namespace, s.Name); known && !exists {
			out = append(out, s.Name)
		}
	}
	return out
}

// objectRefs lists the ConfigMaps and Secrets (and claims) the pod needs to
// start, skipping optional references.
type objRef struct {
	kind cluster.Kind
	name string
	how  string
}

func requiredObjects(pod *corev1.Pod) []objRef {
	var out []objRef
	opt := func(b *bool) bool { return b != nil && *b }
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil && !opt(v.ConfigMap.Optional):
			out = append(out, objRef{cluster.KindConfigMap, v.ConfigMap.Name, "volume " + v.Name})
		case v.Secret != nil && !opt(v.Secret.Optional):
			out = append(out, objRef{cluster.KindSecret, v.Secret.SecretName, "volume " + v.Name})
		case v.PersistentVolumeClaim != nil:
			out = append(out, objRef{cluster.KindPVC, v.PersistentVolumeClaim.ClaimName, "volume " + v.Name})
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil && !opt(s.ConfigMap.Optional) {
					out = append(out, objRef{cluster.KindConfigMap, s.ConfigMap.Name, "projected volume " + v.Name})
				}
				if s.Secret != nil && !opt(s.Secret.Optional) {
					out = append(out, objRef{cluster.KindSecret, s.Secret.Name, "projected volume " + v.Name})
				}
			}
		}
	}
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range containers {
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil && !opt(ef.ConfigMapRef.Optional) {
				out = append(out, objRef{cluster.KindConfigMap, ef.ConfigMapRef.Name, "envFrom of container " + c.Name})
			}
			if ef.SecretRef != nil && !opt(ef.SecretRef.Optional) {
				out = append(out, objRef{cluster.KindSecret, ef.SecretRef.Name, "envFrom of container " + c.Name})
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !opt(r.Optional) {
				out = append(out, objRef{cluster.KindConfigMap, r.Name, "env " + e.Name + " of container " + c.Name})
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil && !opt(r.Optional) {
				out = append(out, objRef{cluster.KindSecret, r.Name, "env " + e.Name + " of container " + c.Name})
			}
		}
	}
	return out
}

var notFoundObject = regexp.MustCompile(`(configmap|secret|persistentvolumeclaim) "([^"]+)" not found`)

func (a *analyzer) explainContainerCreating(pod *corev1.Pod, ex *Explanation) {
	ex.Stage = StageContainerCreating
	events := a.events("Pod", pod.Namespace, pod.Name, string(pod.UID))
	// Missing objects: from the snapshot when it holds that kind, else from
	// the kubelet's messages.
	missing := map[string]objRef{}
	var order []string
	for _, r := range requiredObjects(pod) {
		if exists, known := a.hasObject(r.kind, pod.Namespace, r.name); known && !exists {
			k := string(r.kind) + "/" + r.name
			if _, dup := missing[k]; !dup {
				order = append(order, k)
				missing[k] = r
			}
		}
	}
	var texts []string
	for _, e := range events {
		if e.Reason == "FailedMount" || e.Reason == "FailedAttachVolume" {
			texts = append(texts, e.Message)
		}
	}
	for _, st := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if w := st.State.Waiting; w != nil && w.Reason == "CreateContainerConfigError" {
			texts = append(texts, w.Message)
		}
	}
	for _, t := range texts {
		for _, m := range notFoundObject.FindAllStringSubmatch(t, -1) {
			kind := map[string]cluster.Kind{"configmap": cluster.KindConfigMap, "secret": cluster.KindSecret, "persistentvolumeclaim": cluster.KindPVC}[m[1]]
			k := string(kind) + "/" + m[2]
			if _, dup := missing[k]; !dup {
				if exists, known := a.hasObject(kind, pod.Namespace, m[2]); known && exists {
					continue // created since the event
				}
				order = append(order, k)
				missing[k] = objRef{kind, m[2], "kubelet: " + t}
			}
		}
	}
	if len(order) > 0 {
		var names []string
		for _, k := range order {
			r := missing[k]
			names = append(names, strings.ToLower(string(r.kind))+"/"+r.name)
			ex.Evidence = append(ex.Evidence, fmt.Sprintf("%s %q (used by %s) not found", strings.ToLower(string(r.kind)), r.name, r.how))
			a.add(ex, RuleMissingObject, report.SeverityError,
				fmt.Sprintf("%s %s/%s, used by %s, does not exist", r.kind, pod.Namespace, r.name, r.how),
				createHint(r, pod.Namespace),
				map[string]any{"kind": string(r.kind), "name": r.name, "usedBy": r.how})
		}
		ex.Reason = "missing " + strings.Join(names, ", ")
		return
	}
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Reason == "FailedCreatePodSandBox" || e.Reason == "FailedKillPod" && strings.Contains(e.Message, "sandbox") {
			ex.Reason = "pod sandbox creation fails"
			ex.Evidence = append(ex.Evidence, e.Message)
			a.add(ex, RuleSandbox, report.SeverityError,
				fmt.Sprintf("the runtime on node %s cannot create the pod sandbox: %s", pod.Spec.NodeName, strings.TrimSpace(e.Message)),
				sandboxFix(e.Message, pod.Spec.NodeName),
				map[string]any{"node": pod.Spec.NodeName, "event": e.Message, "count": e.Count})
			return
		}
	}
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Type == corev1.EventTypeWarning && (e.Reason == "FailedMount" || e.Reason == "FailedAttachVolume") {
			ex.Reason = "volume mount fails"
			ex.Evidence = append(ex.Evidence, e.Message)
			a.add(ex, RuleContainerCreating, report.SeverityError,
				fmt.Sprintf("volumes cannot be mounted on node %s: %s", pod.Spec.NodeName, strings.TrimSpace(e.Message)),
				"fix the volume as the kubelet's message says (kubectl describe pod)",
				map[string]any{"node": pod.Spec.NodeName, "event": e.Message})
			return
		}
	}
	ex.Reason = "containers being created on " + pod.Spec.NodeName
	var waiting []string
	for _, st := range pod.Status.ContainerStatuses {
		if w := st.State.Waiting; w != nil {
			waiting = append(waiting, st.Name+": "+w.Reason)
		}
	}
	if len(waiting) > 0 {
		ex.Evidence = append(ex.Evidence, strings.Join(waiting, "; "))
	}
	a.add(ex, RuleContainerCreating, report.SeverityWarning,
		fmt.Sprintf("the pod is bound to node %s for %s but its containers have not started; no failure event explains it", pod.Spec.NodeName, age(a.now.Sub(pod.CreationTimestamp.Time))),
		fmt.Sprintf("look at the kubelet on %s and the pod's events: kubectl describe pod %s -n %s", pod.Spec.NodeName, pod.Name, pod.Namespace),
		map[string]any{"node": pod.Spec.NodeName, "waiting": waiting})
}

func createHint(r objRef, ns string) string {
	switch r.kind {
	case cluster.KindConfigMap:
		return fmt.Sprintf("create it: kubectl create configmap %s -n %s --from-file=... (or mark the reference optional: true)", r.name, ns)
	case cluster.KindSecret:
		return fmt.Sprintf("create it: kubectl create secret generic %s -n %s --from-literal=KEY=VALUE (or mark the reference optional: true)", r.name, ns)
	}
	return fmt.Sprintf("create PersistentVolumeClaim %s in namespace %s", r.name, ns)
}

func sandboxFix(msg, node string) string {
	l := strings.ToLower(msg)
	switch {
	case strings.Contains(l, "network") || strings.Contains(l, "cni"):
		return fmt.Sprintf("the CNI plugin on node %s fails: check its pods (kubectl get pods -A -o wide --field-selector spec.nodeName=%s) and /etc/cni/net.d on the node", node, node)
	case strings.Contains(l, "runtimehandler") || strings.Contains(l, "runtime handler") || strings.Contains(l, "runtimeclass"):
		return "the pod's runtimeClassName names a handler the node's runtime does not have: fix runtimeClassName or configure the handler"
	}
	return fmt.Sprintf("check the container runtime on node %s (journalctl -u containerd / crio)", node)
}
