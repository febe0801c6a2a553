package scheduling

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// nodeInfo is the scheduler's view of one node: the node and the pods the
// scheduler counts on it, with their summed requests.
type nodeInfo struct {
	node *corev1.Node
	pods []*corev1.Pod
	// antiPods are the pods with required anti-affinity (the scheduler's
	// PodsWithRequiredAntiAffinity): every incoming pod is checked against
	// them, and they are few.
	antiPods    []*corev1.Pod
	allocatable resources
	requested   resources
	// nonZero sums the pods' requests as scoring counts them; computed on
	// first use by SelectHost (nil until then) and kept up to date after.
	nonZero *cpuMem
}

// Engine evaluates pods against one snapshot. Building it indexes the
// snapshot once (pods per node, summed requests), so explaining many pods
// costs one pass over the snapshot plus the filters.
type Engine struct {
	snap   *cluster.Snapshot
	nodes  []*nodeInfo
	byName map[string]*nodeInfo
	// namespaces by name, for namespaceSelector and namespace labels.
	namespaces map[string]*corev1.Namespace
	// pvcs by namespace/name and pvs by name.
	pvcs     map[string]*corev1.PersistentVolumeClaim
	pvs      map[string]*corev1.PersistentVolume
	scLister storagelisters.StorageClassLister
	// nominated: unbound pods by status.nominatedNodeName.
	nominated map[string][]*corev1.Pod
	podReq    map[*corev1.Pod]resources
	// podHost: the node each counted pod is on, by podKey.
	podHost map[string]*nodeInfo
	// antiTerms: the snapshot pods' parsed required anti-affinity.
	antiTerms map[*corev1.Pod][]*affinityTerm
	// podOnNode: some node of the snapshot holds a pod (a Planner's
	// engine, which has no nodes).
	podOnNode bool

	// equivalent caches results by equivalenceKey: the Pending replicas of
	// one workload get the same answer, so it is computed once.
	mu         sync.Mutex
	equivalent map[string]Result
	// termCounts caches, by termsKey, what incoming pods' required
	// (anti-)affinity terms match.
	termCounts map[string]termCounts
}

// podKey identifies a pod across copies: its UID, else namespace/name.
func podKey(p *corev1.Pod) string {
	if p.UID != "" {
		return string(p.UID)
	}
	return p.Namespace + "/" + p.Name
}

// NewEngine indexes snap for repeated evaluations. snap must not change
// while the Engine is in use.
func NewEngine(snap *cluster.Snapshot) *Engine {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	e := &Engine{
		snap:       snap,
		nodes:      make([]*nodeInfo, 0, len(snap.Nodes)),
		byName:     make(map[string]*nodeInfo, len(snap.Nodes)),
		podReq:     make(map[*corev1.Pod]resources, len(snap.Pods)),
		podHost:    make(map[string]*nodeInfo, len(snap.Pods)),
		namespaces: make(map[string]*corev1.Namespace, len(snap.Namespaces)),
	}
	e.pvcs = make(map[string]*corev1.PersistentVolumeClaim, len(snap.PVCs))
	for _, pvc := range snap.PVCs {
		if pvc != nil {
			e.pvcs[pvc.Namespace+"/"+pvc.Name] = pvc
		}
	}
	e.pvs = make(map[string]*corev1.PersistentVolume, len(snap.PVs))
	for _, pv := range snap.PVs {
		if pv != nil {
			e.pvs[pv.Name] = pv
		}
	}
	e.scLister = newStorageClassLister(snap.StorageClasses)
	for _, ns := range snap.Namespaces {
		if ns != nil {
			e.namespaces[ns.Name] = ns
		}
	}
	for _, n := range snap.Nodes {
		if n == nil {
			continue
		}
		ni := &nodeInfo{node: n, allocatable: newResources(n.Status.Allocatable)}
		e.nodes = append(e.nodes, ni)
		e.byName[n.Name] = ni
	}
	for _, p := range snap.Pods {
		if p == nil {
			continue
		}
		e.indexAntiTerms(p)
		if p.Spec.NodeName == "" && p.Status.NominatedNodeName != "" &&
			p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			if e.nominated == nil {
				e.nominated = map[string][]*corev1.Pod{}
			}
			e.nominated[p.Status.NominatedNodeName] = append(e.nominated[p.Status.NominatedNodeName], p)
			e.podReq[p] = existingPodResources(p)
		}
		if !countsOnNode(p) {
			continue
		}
		if ni := e.byName[p.Spec.NodeName]; ni != nil {
			e.podReq[p] = existingPodResources(p)
			ni.addPod(e, p)
			e.podHost[podKey(p)] = ni
		}
	}
	return e
}

// countsOnNode reports whether the scheduler's cache holds p on its node: it
// is bound and has not terminated (Succeeded and Failed pods free their
// resources).
func countsOnNode(p *corev1.Pod) bool {
	return p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func (ni *nodeInfo) addPod(e *Engine, p *corev1.Pod) {
	ni.pods = append(ni.pods, p)
	if hasRequiredAntiAffinity(p) {
		ni.antiPods = append(ni.antiPods, p)
	}
	ni.requested.addResources(e.requestsOf(p))
	if ni.nonZero != nil {
		*ni.nonZero = ni.nonZero.plus(nonZeroRequests(p))
	}
}

// requestsOf returns a pod's requests, computed once in NewEngine for the
// snapshot's pods: it is the costliest part of indexing and preemption dry
// runs add pods back many times. The map is only read after NewEngine, so
// one Engine serves concurrent evaluations.
func (e *Engine) requestsOf(p *corev1.Pod) resources {
	if r, ok := e.podReq[p]; ok {
		return r
	}
	return existingPodResources(p)
}

// existingPodResources is existingPodRequests summed: what the scheduler's
// cache charges a bound pod. It is computed for every pod of the cluster,
// so the common pod takes a path that builds no ResourceList.
func existingPodResources(p *corev1.Pod) resources {
	if r, ok := containerRequestsOnly(p); ok {
		return r
	}
	return newResources(existingPodRequests(p))
}

// containerRequestsOnly sums the containers' cpu, memory and
// ephemeral-storage requests of a pod for which PodRequests (with status
// resources) is exactly that sum: regular containers only, no overhead, no
// pod-level resources, nothing resized or allocated in its status, no
// infeasible resize. Any other pod or resource is not ok: the caller asks
// PodRequests itself.
func containerRequestsOnly(p *corev1.Pod) (resources, bool) {
	if len(p.Spec.InitContainers) > 0 || p.Spec.Overhead != nil || p.Spec.Resources != nil ||
		p.Status.AllocatedResources != nil || p.Status.Resources != nil ||
		len(p.Status.InitContainerStatuses) > 0 || len(p.Status.NodeAllocatableResourceClaimStatuses) > 0 {
		return resources{}, false
	}
	for i := range p.Status.ContainerStatuses {
		if cs := &p.Status.ContainerStatuses[i]; cs.AllocatedResources != nil || cs.Resources != nil {
			return resources{}, false
		}
	}
	if resourcehelper.IsPodResizeInfeasible(p) {
		return resources{}, false
	}
	// Summed as Quantities, then rounded once, as PodRequests sums them.
	var cpu, memory, storage resource.Quantity
	for i := range p.Spec.Containers {
		for name, q := range p.Spec.Containers[i].Resources.Requests {
			switch name {
			case corev1.ResourceCPU:
				cpu.Add(q)
			case corev1.ResourceMemory:
				memory.Add(q)
			case corev1.ResourceEphemeralStorage:
				storage.Add(q)
			default:
				return resources{}, false
			}
		}
	}
	return resources{milliCPU: cpu.MilliValue(), memory: memory.Value(), ephemeralStorage: storage.Value()}, true
}

// existingPodRequests is what the scheduler's cache charges a bound pod:
// its requests, taking resized (status) resources into account.
func existingPodRequests(p *corev1.Pod) corev1.ResourceList {
	return resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{
		UseStatusResources: true,
		InPlacePodLevelResourcesVerticalScalingEnabled: true,
	})
}

// incomingPodRequests is what NodeResourcesFit asks of a node for a pod that
// is not yet scheduled.
func incomingPodRequests(p *corev1.Pod) resources {
	var r resources
	r.setMax(resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}))
	return r
}

// indexAntiTerms records p's required anti-affinity terms, if it has any:
// every incoming pod is checked against them.
func (e *Engine) indexAntiTerms(p *corev1.Pod) {
	if !hasRequiredAntiAffinity(p) {
		return
	}
	if e.antiTerms == nil {
		e.antiTerms = map[*corev1.Pod][]*affinityTerm{}
	}
	e.antiTerms[p] = parseAntiTerms(p)
}
