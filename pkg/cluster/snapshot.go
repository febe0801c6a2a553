package cluster

import (
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/report"
)

// Snapshot is a read-only view of cluster objects. Slices hold only what was
// loaded; an analysis must not read "no PVCs" as "PVCs were checked" unless it
// asked for them (see Loaded).
type Snapshot struct {
	Namespaces      []*corev1.Namespace
	Nodes           []*corev1.Node
	Pods            []*corev1.Pod
	Events          []*corev1.Event
	Services        []*corev1.Service
	Secrets         []*corev1.Secret
	ConfigMaps      []*corev1.ConfigMap
	PVCs            []*corev1.PersistentVolumeClaim
	PVs             []*corev1.PersistentVolume
	ResourceQuotas  []*corev1.ResourceQuota
	LimitRanges     []*corev1.LimitRange
	ServiceAccounts []*corev1.ServiceAccount

	Deployments  []*appsv1.Deployment
	ReplicaSets  []*appsv1.ReplicaSet
	StatefulSets []*appsv1.StatefulSet
	DaemonSets   []*appsv1.DaemonSet
	Jobs         []*batchv1.Job
	CronJobs     []*batchv1.CronJob

	ReplicationControllers []*corev1.ReplicationController

	StorageClasses    []*storagev1.StorageClass
	CSINodes          []*storagev1.CSINode
	CSIDrivers        []*storagev1.CSIDriver
	VolumeAttachments []*storagev1.VolumeAttachment

	PDBs            []*policyv1.PodDisruptionBudget
	PriorityClasses []*schedulingv1.PriorityClass
	RuntimeClasses  []*nodev1.RuntimeClass
	NetworkPolicies []*networkingv1.NetworkPolicy
	EndpointSlices  []*discoveryv1.EndpointSlice

	ResourceClaims []*resourcev1.ResourceClaim
	DeviceClasses  []*resourcev1.DeviceClass
	ResourceSlices []*resourcev1.ResourceSlice

	ValidatingWebhooks []*admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhooks   []*admissionregistrationv1.MutatingWebhookConfiguration
	CSRs               []*certificatesv1.CertificateSigningRequest

	// Other holds objects of kinds without a typed field (APIServices, CRDs,
	// custom resources), as read.
	Other []*unstructured.Unstructured

	// Loaded records which kinds were actually loaded (by Kind name, e.g.
	// "PersistentVolumeClaim"), so analyses can tell "none" from "not asked".
	// Live: at least one query for the kind succeeded (see Warnings for those
	// that did not). Files: at least one object of the kind was read.
	Loaded map[Kind]bool

	// Warnings are problems that left part of the snapshot out, e.g. a
	// forbidden list. Plugins copy them into their report.
	Warnings []string

	sources map[objectKey]*report.Source
	// queried are the queries LoadLive made for this snapshot (see Queried).
	queried []Query

	// unique is the number of objects of each typed kind when s was known
	// to hold each once (markUnique).
	unique map[Kind]int

	mu  sync.Mutex // guards idx
	idx *indexes
}

// objectKey identifies an object within a snapshot.
type objectKey struct {
	kind, namespace, name string
}

// SourceOf returns the manifest file and line an object was read from, or nil
// for objects loaded from the cluster.
func (s *Snapshot) SourceOf(kind, namespace, name string) *report.Source {
	if s == nil || s.sources == nil {
		return nil
	}
	return s.sources[objectKey{kind, namespace, name}]
}

// SetSource records where an object was read from.
func (s *Snapshot) SetSource(kind, namespace, name string, src *report.Source) {
	if s.sources == nil {
		s.sources = map[objectKey]*report.Source{}
	}
	s.sources[objectKey{kind, namespace, name}] = src
}

// Queried says the live cluster was asked q, or a query that returns all
// it returns (the same kind from every namespace, or with no selector
// where q has one): the snapshot then holds every object q would list.
// Optional queries that were refused count as asked; their warning is in
// Warnings. A snapshot read from files was asked nothing.
func (s *Snapshot) Queried(q Query) bool {
	if s == nil {
		return false
	}
	for _, r := range s.queried {
		if r.Kind == q.Kind && r.Resource == q.Resource &&
			(r.Namespace == "" || r.Namespace == q.Namespace) &&
			(r.Name == "" || r.Name == q.Name) &&
			(r.LabelSelector == "" || r.LabelSelector == q.LabelSelector) &&
			(r.FieldSelector == "" || r.FieldSelector == q.FieldSelector) {
			return true
		}
	}
	return false
}
