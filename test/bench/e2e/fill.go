package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// The objects come from test/bench/bigcluster (the in-process benchmarks'
// generator: nodes in three zones with GPU-tainted, cordoned and NotReady
// ones, Deployments of ten replicas whose pods carry the fields the API
// server returns, Pending pods of every cause, TLS Secrets from a CA
// hierarchy, NetworkPolicies) generated once for the largest size. Each
// size creates the first N nodes, the pods bound to them and the workloads
// those pods belong to; the Pending pods, which only need the first size's
// nodes, exist from the start.

const (
	pendingNamespace = "team-00" // every Pending pod, so that one -n names them all
	namespaces       = 100
	fieldManagerCtl  = "kube-controller-manager" // the managedFields a real cluster shows
	fieldManagerNode = "kubelet"
)

type filler struct {
	cs      kubernetes.Interface
	workers int
	gen     *bigcluster.Cluster
	sizes   []int

	runningByNode [][]*corev1.Pod // generated running pods by node index
	rsByKey       map[string]*appsv1.ReplicaSet
	deployByKey   map[string]*appsv1.Deployment
	eventsByPod   map[string][]*corev1.Event
	secrets       []*corev1.Secret
	policies      []*networkingv1.NetworkPolicy
	daemonSets    []*appsv1.DaemonSet

	// What exists in the cluster.
	mu        sync.Mutex
	nodes     int // nodes [0, nodes) exist
	rsUID     map[string]types.UID
	rsPods    map[string]int // running pods created per ReplicaSet
	pdbs      map[string]*policyv1.PodDisruptionBudget
	dsCreated map[string]*appsv1.DaemonSet
	podUID    map[string]types.UID
	nSecrets  int
	nPolicies int
	counts    map[string]int // objects created, by kind
}

func key(ns, name string) string { return ns + "/" + name }

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// newFiller generates the largest cluster: sizes are node counts, ascending;
// podsPerNode pods per node in all (two of them from DaemonSets).
func newFiller(cs kubernetes.Interface, sizes []int, podsPerNode, pending, workers int) *filler {
	maxNodes := sizes[len(sizes)-1]
	gen := bigcluster.Generate(bigcluster.Config{Seed: 1, Nodes: maxNodes, Running: (podsPerNode - 2) * maxNodes, Pending: pending, Namespaces: namespaces})
	f := &filler{cs: cs, workers: workers, gen: gen, sizes: sizes,
		runningByNode: make([][]*corev1.Pod, maxNodes), rsByKey: map[string]*appsv1.ReplicaSet{}, deployByKey: map[string]*appsv1.Deployment{},
		eventsByPod: map[string][]*corev1.Event{}, rsUID: map[string]types.UID{}, rsPods: map[string]int{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, dsCreated: map[string]*appsv1.DaemonSet{}, podUID: map[string]types.UID{},
		counts: map[string]int{}}
	index := map[string]int{}
	for i, n := range gen.Nodes {
		index[n.Name] = i
	}
	for _, rs := range gen.ReplicaSets {
		f.rsByKey[key(rs.Namespace, rs.Name)] = rs
	}
	for _, d := range gen.Deployments {
		f.deployByKey[key(d.Namespace, d.Name)] = d
	}
	pendingSet := map[string]bool{}
	for _, p := range gen.PendingPods {
		pendingSet[key(p.Namespace, p.Name)] = true
	}
	for _, p := range gen.Pods {
		if !pendingSet[key(p.Namespace, p.Name)] {
			i := index[p.Spec.NodeName]
			f.runningByNode[i] = append(f.runningByNode[i], p)
		}
	}
	f.placePending(sizes[0])
	for _, e := range gen.Events {
		if e.Reason == "FailedScheduling" { // the real scheduler writes its own
			continue
		}
		k := key(e.InvolvedObject.Namespace, e.InvolvedObject.Name)
		// Most running pods' events have expired in a real cluster: keep a
		// quarter of them.
		if !pendingSet[k] && hash(k)%4 != 0 {
			continue
		}
		f.eventsByPod[k] = append(f.eventsByPod[k], e)
	}
	f.secrets = bigcluster.TLSSecrets(1, maxNodes*2/5, namespaces)
	f.policies = bigcluster.Policies(1, maxNodes/2, namespaces)
	f.daemonSets = daemonSets()
	return f
}

// placePending moves every Pending pod into pendingNamespace (owned by one
// of its ReplicaSets) and binds those a kubelet already holds to nodes of
// the smallest size.
func (f *filler) placePending(firstNodes int) {
	var owners []*appsv1.ReplicaSet
	for _, rs := range f.gen.ReplicaSets {
		if rs.Namespace == pendingNamespace {
			owners = append(owners, rs)
		}
	}
	for i, p := range f.gen.PendingPods {
		p.Namespace = pendingNamespace
		if len(p.OwnerReferences) > 0 && len(owners) > 0 {
			rs := owners[i%len(owners)]
			p.OwnerReferences[0].Name = rs.Name
		}
		if p.Spec.NodeName == "" {
			continue
		}
		wantReady := !strings.Contains(p.Name, string(bigcluster.NodeNotReady))
		for j := range firstNodes {
			n := f.gen.Nodes[(i*7+j)%firstNodes]
			if cluster.NodeReady(n) == wantReady && (!wantReady || (len(n.Spec.Taints) == 0 && !n.Spec.Unschedulable)) {
				p.Spec.NodeName = n.Name
				p.Status.HostIP = n.Status.Addresses[0].Address
				p.Status.HostIPs = []corev1.HostIP{{IP: p.Status.HostIP}}
				break
			}
		}
	}
}

// parallel runs fn for 0..n-1 on the filler's workers and stops at the first error.
func (f *filler) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.workers)
	for i := range n {
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

// clean drops what the API server sets itself.
func clean(m *metav1.ObjectMeta) {
	m.UID, m.ResourceVersion, m.CreationTimestamp, m.ManagedFields, m.Generation = "", "", metav1.Time{}, nil, 0
}

// writes counts the writes the API server accepted while filling (the
// fill rate in the log and the report).
var writes atomic.Int64

func create[T any](ctx context.Context, fn func(context.Context, T, metav1.CreateOptions) (T, error), obj T, manager string) (T, error) {
	for attempt := 0; ; attempt++ {
		out, err := fn(ctx, obj, metav1.CreateOptions{FieldManager: manager})
		if err == nil {
			writes.Add(1)
		}
		if err == nil || attempt >= 5 || !(apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsTimeout(err)) {
			return out, err
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}

// setup creates what every size shares: namespaces, then (once their
// default ServiceAccounts exist) the caller stops the controller manager.
func (f *filler) namespaces(ctx context.Context) error {
	all := append([]*corev1.Namespace{}, f.gen.Namespaces...)
	all = append(all, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring", Labels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}})
	err := f.parallel(ctx, len(all), func(ctx context.Context, i int) error {
		ns := all[i].DeepCopy()
		clean(&ns.ObjectMeta)
		_, err := create(ctx, f.cs.CoreV1().Namespaces().Create, ns, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("creating namespaces: %w", err)
	}
	// The ServiceAccount admission plugin needs each namespace's default
	// ServiceAccount, and pods mount kube-root-ca.crt: both come from the
	// controller manager.
	deadline := time.Now().Add(2 * time.Minute)
	for _, ns := range all {
		for {
			_, e1 := f.cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
			_, e2 := f.cs.CoreV1().ConfigMaps(ns.Name).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			if e1 == nil && e2 == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("namespace %s has no default ServiceAccount or kube-root-ca.crt after 2 minutes", ns.Name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// daemonSets are two DaemonSets with a pod on every node, as most clusters
// run (a node agent and a metrics exporter).
func daemonSets() []*appsv1.DaemonSet {
	mk := func(ns, name, cpu, mem string, tolerateAll bool) *appsv1.DaemonSet {
		labels := map[string]string{"app.kubernetes.io/name": name}
		tol := []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		if !tolerateAll {
			tol = []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
			}
		}
		res := corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)},
		}
		return &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						PriorityClassName: "system-node-critical", Tolerations: tol, HostNetwork: tolerateAll,
						Containers: []corev1.Container{{Name: name, Image: "registry.example.com/" + ns + "/" + name + ":1.9.0", Resources: res,
							Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}}},
						Volumes: []corev1.Volume{{Name: "host-proc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/proc"}}}},
					},
				},
			},
		}
	}
	return []*appsv1.DaemonSet{
		mk("kube-system", "node-agent", "100m", "128Mi", true),
		mk("monitoring", "node-exporter", "50m", "64Mi", false),
	}
}

// dsPod is the pod the DaemonSet controller creates on node.
func dsPod(ds *appsv1.DaemonSet, node *corev1.Node) *corev1.Pod {
	t := ds.Spec.Template
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ds.Namespace, Name: fmt.Sprintf("%s-%05x", ds.Name, hash(node.Name)&0xfffff), Labels: t.Labels,
			GenerateName: ds.Name + "-",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}},
		Spec: *t.Spec.DeepCopy(),
	}
	p.Spec.NodeName = node.Name
	p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node.Name}}}}}}}}
	host := node.Status.Addresses[0].Address
	podIP := host
	if !p.Spec.HostNetwork {
		podIP = fmt.Sprintf("100.%d.%d.%d", 64+hash(node.Name)%64, hash(p.Name)%256, 2+hash(ds.Name)%250)
	}
	now := metav1.Now()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, HostIP: host, HostIPs: []corev1.HostIP{{IP: host}}, PodIP: podIP,
		PodIPs: []corev1.PodIP{{IP: podIP}}, StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
		ContainerStatuses: []corev1.ContainerStatus{{Name: t.Spec.Containers[0].Name, Ready: true, Started: ptr(true), Image: t.Spec.Containers[0].Image,
			ImageID:     t.Spec.Containers[0].Image + "@sha256:" + fmt.Sprintf("%064x", hash(t.Spec.Containers[0].Image)),
			ContainerID: "containerd://" + fmt.Sprintf("%064x", hash(p.Name+node.Name)),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}},
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// createPod creates p and then writes its status, as the kubelet would.
// The server's QoS class is kept (it is computed on create).
func (f *filler) createPod(ctx context.Context, gen *corev1.Pod, ownerUID types.UID) (*corev1.Pod, error) {
	p := gen.DeepCopy()
	clean(&p.ObjectMeta)
	status := p.Status
	p.Status = corev1.PodStatus{}
	if len(p.OwnerReferences) > 0 {
		p.OwnerReferences[0].UID = ownerUID
	}
	pods := f.cs.CoreV1().Pods(p.Namespace)
	created, err := create(ctx, pods.Create, p, fieldManagerCtl)
	if err != nil {
		return nil, fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	f.mu.Lock()
	f.podUID[key(created.Namespace, created.Name)] = created.UID
	f.mu.Unlock()
	if p.Spec.NodeName == "" {
		return created, nil // the scheduler writes its status
	}
	status.QOSClass = created.Status.QOSClass
	created.Status = status
	for attempt := 0; ; attempt++ {
		out, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: fieldManagerNode})
		if err == nil {
			writes.Add(1)
			return out, nil
		}
		if attempt >= 5 || !(apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsTimeout(err)) {
			return nil, fmt.Errorf("writing the status of pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}

// ensureWorkload creates the Deployment, ReplicaSet and PodDisruptionBudget
// of rsKey once and returns the ReplicaSet's UID.
func (f *filler) ensureWorkload(ctx context.Context, rsKey string) (types.UID, error) {
	f.mu.Lock()
	uid, ok := f.rsUID[rsKey]
	f.mu.Unlock()
	if ok {
		return uid, nil
	}
	rs := f.rsByKey[rsKey].DeepCopy()
	d := f.deployByKey[key(rs.Namespace, rs.OwnerReferences[0].Name)].DeepCopy()
	clean(&d.ObjectMeta)
	d.Status = appsv1.DeploymentStatus{}
	d.Spec.Template = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: d.Spec.Selector.MatchLabels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/" + d.Namespace + "/app:1.4.2"}}}}
	// Paused: a running deployment controller would not replace the
	// ReplicaSet created here.
	d.Spec.Paused = true
	cd, err := create(ctx, f.cs.AppsV1().Deployments(d.Namespace).Create, d, "kubectl-client-side-apply")
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	clean(&rs.ObjectMeta)
	rs.Status = appsv1.ReplicaSetStatus{}
	rs.OwnerReferences[0].UID = cd.UID
	rs.Spec.Template = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: rs.Spec.Selector.MatchLabels}, Spec: d.Spec.Template.Spec}
	crs, err := create(ctx, f.cs.AppsV1().ReplicaSets(rs.Namespace).Create, rs, fieldManagerCtl)
	if err != nil {
		return "", fmt.Errorf("creating replicaset %s: %w", rsKey, err)
	}
	// One budget per workload, in the shapes teams write: most allow one
	// pod down at a time or keep half, some keep every replica (a drain
	// blocker).
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: d.Spec.Selector.DeepCopy()}}
	switch h := hash(rsKey) % 20; {
	case h == 5:
		pdb.Spec.MaxUnavailable = ptr(intstr.FromInt32(0))
	case h%2 == 0:
		pdb.Spec.MaxUnavailable = ptr(intstr.FromInt32(1))
	default:
		pdb.Spec.MinAvailable = ptr(intstr.FromString("50%"))
	}
	cpdb, err := create(ctx, f.cs.PolicyV1().PodDisruptionBudgets(pdb.Namespace).Create, pdb, "kubectl-client-side-apply")
	if err != nil {
		return "", fmt.Errorf("creating poddisruptionbudget %s/%s: %w", pdb.Namespace, pdb.Name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rsUID[rsKey] = crs.UID
	f.pdbs[rsKey] = cpdb
	f.counts["Deployments"]++
	f.counts["PodDisruptionBudgets"]++
	return crs.UID, nil
}

// grow creates what the cluster of n nodes has beyond the current one.
func (f *filler) grow(ctx context.Context, n int) error {
	first := f.nodes == 0
	newNodes := f.gen.Nodes[f.nodes:n]
	if err := f.parallel(ctx, len(newNodes), func(ctx context.Context, i int) error {
		node := newNodes[i].DeepCopy()
		clean(&node.ObjectMeta)
		_, err := create(ctx, f.cs.CoreV1().Nodes().Create, node, "kubelet")
		return err
	}); err != nil {
		return fmt.Errorf("creating nodes: %w", err)
	}
	f.counts["nodes"] += len(newNodes)

	var newPods []*corev1.Pod // created this round, for their events
	var mu sync.Mutex
	if first {
		if err := f.shared(ctx); err != nil {
			return err
		}
	}

	// Workloads of the pods to come, each once, before their pods.
	need := map[string]bool{}
	var rsKeys []string
	addRS := func(p *corev1.Pod) {
		if len(p.OwnerReferences) == 0 || p.OwnerReferences[0].Kind != "ReplicaSet" {
			return
		}
		k := key(p.Namespace, p.OwnerReferences[0].Name)
		if _, done := f.rsUID[k]; !done && !need[k] {
			need[k] = true
			rsKeys = append(rsKeys, k)
		}
	}
	for i := f.nodes; i < n; i++ {
		for _, p := range f.runningByNode[i] {
			addRS(p)
		}
	}
	if first {
		for _, p := range f.gen.PendingPods {
			addRS(p)
		}
	}
	sort.Strings(rsKeys)
	if err := f.parallel(ctx, len(rsKeys), func(ctx context.Context, i int) error {
		_, err := f.ensureWorkload(ctx, rsKeys[i])
		return err
	}); err != nil {
		return err
	}

	type job struct {
		pod   *corev1.Pod
		owner types.UID
		rs    string
	}
	var jobs []job
	for i := f.nodes; i < n; i++ {
		for _, p := range f.runningByNode[i] {
			k := key(p.Namespace, p.OwnerReferences[0].Name)
			jobs = append(jobs, job{p, f.rsUID[k], k})
		}
		for _, ds := range f.daemonSets {
			cds := f.dsCreated[ds.Name]
			jobs = append(jobs, job{dsPod(cds, f.gen.Nodes[i]), cds.UID, ""})
		}
	}
	if first {
		for _, p := range f.gen.PendingPods {
			var owner types.UID
			if len(p.OwnerReferences) > 0 {
				owner = f.rsUID[key(p.Namespace, p.OwnerReferences[0].Name)]
			}
			jobs = append(jobs, job{p, owner, ""})
		}
	}
	var done atomic.Int64
	start := time.Now()
	if err := f.parallel(ctx, len(jobs), func(ctx context.Context, i int) error {
		j := jobs[i]
		created, err := f.createPod(ctx, j.pod, j.owner)
		if err != nil {
			return err
		}
		mu.Lock()
		newPods = append(newPods, created)
		if j.rs != "" {
			f.rsPods[j.rs]++
		}
		mu.Unlock()
		if d := done.Add(1); d%5000 == 0 {
			logf("  %d/%d pods (%.0f/s)", d, len(jobs), float64(d)/time.Since(start).Seconds())
		}
		return nil
	}); err != nil {
		return err
	}
	f.counts["pods"] += len(jobs)
	if first {
		f.counts["Pending pods"] = len(f.gen.PendingPods)
	}

	// Secrets and NetworkPolicies grow with the cluster.
	secrets := f.secrets[f.nSecrets:min(len(f.secrets), n*2/5)]
	if err := f.parallel(ctx, len(secrets), func(ctx context.Context, i int) error {
		s := secrets[i].DeepCopy()
		clean(&s.ObjectMeta)
		_, err := create(ctx, f.cs.CoreV1().Secrets(s.Namespace).Create, s, "cert-manager")
		return err
	}); err != nil {
		return fmt.Errorf("creating secrets: %w", err)
	}
	f.nSecrets += len(secrets)
	f.counts["TLS Secrets"] += len(secrets)
	pols := f.policies[f.nPolicies:min(len(f.policies), n/2)]
	if err := f.parallel(ctx, len(pols), func(ctx context.Context, i int) error {
		np := pols[i].DeepCopy()
		clean(&np.ObjectMeta)
		_, err := create(ctx, f.cs.NetworkingV1().NetworkPolicies(np.Namespace).Create, np, "kubectl-client-side-apply")
		return err
	}); err != nil {
		return fmt.Errorf("creating networkpolicies: %w", err)
	}
	f.nPolicies += len(pols)
	f.counts["NetworkPolicies"] += len(pols)

	// The kubelet's and the scheduler's events of the new pods.
	var events []*corev1.Event
	for _, p := range newPods {
		for _, e := range f.eventsByPod[key(p.Namespace, p.Name)] {
			e = e.DeepCopy()
			clean(&e.ObjectMeta)
			e.InvolvedObject.UID = p.UID
			now := metav1.Now()
			e.FirstTimestamp, e.LastTimestamp = now, now
			events = append(events, e)
		}
	}
	if err := f.parallel(ctx, len(events), func(ctx context.Context, i int) error {
		e := events[i]
		_, err := create(ctx, f.cs.CoreV1().Events(e.Namespace).Create, e, "")
		return err
	}); err != nil {
		return fmt.Errorf("creating events: %w", err)
	}
	f.counts["events"] += len(events)
	f.nodes = n
	return f.statuses(ctx)
}

// shared creates, once, what does not grow with the nodes: the storage
// class, the DaemonSets, a PriorityClass-free webhook pair carrying CA
// bundles (cert-expiry reads them).
func (f *filler) shared(ctx context.Context) error {
	for _, sc := range f.gen.StorageClasses {
		sc = sc.DeepCopy()
		clean(&sc.ObjectMeta)
		if _, err := create(ctx, f.cs.StorageV1().StorageClasses().Create, sc, ""); err != nil {
			return fmt.Errorf("creating storageclass: %w", err)
		}
	}
	for _, ds := range f.daemonSets {
		cds, err := create(ctx, f.cs.AppsV1().DaemonSets(ds.Namespace).Create, ds.DeepCopy(), "helm")
		if err != nil {
			return fmt.Errorf("creating daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
		}
		f.dsCreated[ds.Name] = cds
	}
	f.counts["DaemonSets"] = len(f.daemonSets)
	ca := f.secrets[0].Data["ca.crt"]
	// Rules for a group nothing serves and failurePolicy Ignore: the
	// webhooks are there to be read, never called.
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	rules := []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{APIGroups: []string{"bench.example.com"}, APIVersions: []string{"v1"}, Resources: []string{"widgets"}}}}
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: ca,
		Service: &admissionregistrationv1.ServiceReference{Namespace: "monitoring", Name: "webhook", Path: ptr("/validate")}}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "policy-webhook"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "validate.bench.example.com", ClientConfig: cc, Rules: rules,
			FailurePolicy: &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"}}}}
	if _, err := create(ctx, f.cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create, v, ""); err != nil {
		return fmt.Errorf("creating validatingwebhookconfiguration: %w", err)
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "defaults-webhook"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "mutate.bench.example.com", ClientConfig: cc, Rules: rules,
			FailurePolicy: &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"}}}}
	if _, err := create(ctx, f.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create, m, ""); err != nil {
		return fmt.Errorf("creating mutatingwebhookconfiguration: %w", err)
	}
	return nil
}

// statuses writes what the disruption and DaemonSet controllers would:
// each budget's healthy and allowed counts (every running replica is ready),
// each DaemonSet's counts.
func (f *filler) statuses(ctx context.Context) error {
	var keys []string
	for k := range f.pdbs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	err := f.parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		f.mu.Lock()
		pdb := f.pdbs[keys[i]].DeepCopy()
		pods := int32(f.rsPods[keys[i]])
		f.mu.Unlock()
		desired := int32(0)
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			desired = max(0, pods-int32(pdb.Spec.MaxUnavailable.IntValue()))
		case pdb.Spec.MinAvailable != nil:
			pct, _ := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(pods), true)
			desired = int32(pct)
		}
		allowed := max(0, pods-desired)
		cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue, Reason: policyv1.SufficientPodsReason,
			ObservedGeneration: pdb.Generation, LastTransitionTime: metav1.Now()}
		if allowed == 0 {
			cond.Status, cond.Reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
		}
		// A budget whose workload gained no pod at this size keeps its
		// status (the disruption controller would not write it either).
		if old := pdb.Status; old.ObservedGeneration == pdb.Generation && old.ExpectedPods == pods && old.CurrentHealthy == pods &&
			old.DesiredHealthy == desired && old.DisruptionsAllowed == allowed && len(old.Conditions) == 1 &&
			old.Conditions[0].Status == cond.Status && old.Conditions[0].Reason == cond.Reason {
			return nil
		}
		if c := meta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition); c != nil && c.Status == cond.Status {
			cond.LastTransitionTime = c.LastTransitionTime // a transition only when the status changes
		}
		pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: allowed,
			CurrentHealthy: pods, DesiredHealthy: desired, ExpectedPods: pods, Conditions: []metav1.Condition{cond}}
		out, err := f.cs.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, pdb, metav1.UpdateOptions{FieldManager: fieldManagerCtl})
		if err != nil {
			return fmt.Errorf("writing the status of poddisruptionbudget %s: %w", keys[i], err)
		}
		writes.Add(1)
		f.mu.Lock()
		f.pdbs[keys[i]] = out
		f.mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for name, ds := range f.dsCreated {
		n := int32(f.nodes)
		ds.Status = appsv1.DaemonSetStatus{CurrentNumberScheduled: n, DesiredNumberScheduled: n, NumberReady: n, NumberAvailable: n,
			UpdatedNumberScheduled: n, ObservedGeneration: ds.Generation}
		out, err := f.cs.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{FieldManager: fieldManagerCtl})
		if err != nil {
			return fmt.Errorf("writing the status of daemonset %s: %w", name, err)
		}
		writes.Add(1)
		f.dsCreated[name] = out
	}
	return nil
}

// settle waits until the scheduler has tried every Pending pod it will
// (each has a PodScheduled condition) and has stopped rewriting them for
// five seconds, for at most three minutes.
func (f *filler) settle(ctx context.Context) error {
	deadline := time.Now().Add(3 * time.Minute)
	last, quiet := "", 0
	for {
		l, err := f.cs.CoreV1().Pods(pendingNamespace).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Pending"})
		if err != nil {
			return err
		}
		untried := 0
		var rvs []string
		for _, p := range l.Items {
			rvs = append(rvs, p.ResourceVersion)
			if p.Spec.NodeName != "" || p.Spec.SchedulerName != corev1.DefaultSchedulerName {
				continue
			}
			tried := false
			for _, c := range p.Status.Conditions {
				tried = tried || (c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse)
			}
			if !tried {
				untried++
			}
		}
		sig := strings.Join(rvs, ",")
		if untried == 0 && sig == last {
			quiet++
		} else {
			quiet = 0
		}
		last = sig
		if quiet >= 5 {
			return nil
		}
		if time.Now().After(deadline) {
			if untried > 0 {
				return fmt.Errorf("the scheduler has not tried %d Pending pods after 3 minutes", untried)
			}
			logf("  the scheduler still rewrites Pending pods after 3 minutes; measuring anyway")
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// busiestNode is the ready, schedulable node with the most running pods
// among the first n: the drain that has the most to move.
func (f *filler) busiestNode(n int) string {
	best, bestPods := "", -1
	for i := range n {
		node := f.gen.Nodes[i]
		if !cluster.NodeReady(node) || len(node.Spec.Taints) > 0 || node.Spec.Unschedulable {
			continue
		}
		if c := len(f.runningByNode[i]); c > bestPods {
			best, bestPods = node.Name, c
		}
	}
	return best
}

// podIn is a running pod of namespace ns on the first n nodes.
func (f *filler) podIn(ns string, n int) string {
	for i := range n {
		for _, p := range f.runningByNode[i] {
			if p.Namespace == ns {
				return ns + "/" + p.Name
			}
		}
	}
	return ""
}

// pendingNames are the Pending pods' names, in creation order.
func (f *filler) pendingNames() []string {
	var out []string
	for _, p := range f.gen.PendingPods {
		out = append(out, p.Name)
	}
	return out
}

// describe is the mix at the current size, in words.
func (f *filler) describe() string {
	var parts []string
	for _, k := range []string{"Deployments", "PodDisruptionBudgets", "DaemonSets", "TLS Secrets", "NetworkPolicies", "events"} {
		parts = append(parts, fmt.Sprintf("%d %s", f.counts[k], k))
	}
	return strings.Join(parts, ", ")
}
