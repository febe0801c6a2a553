package cluster

import (
	"context"

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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Kind names a kind of object a Snapshot can hold.
type Kind string

// The kinds a Snapshot has typed fields for.
const (
	KindNamespace      Kind = "Namespace"
	KindNode           Kind = "Node"
	KindPod            Kind = "Pod"
	KindEvent          Kind = "Event"
	KindService        Kind = "Service"
	KindSecret         Kind = "Secret"
	KindConfigMap      Kind = "ConfigMap"
	KindPVC            Kind = "PersistentVolumeClaim"
	KindPV             Kind = "PersistentVolume"
	KindResourceQuota  Kind = "ResourceQuota"
	KindLimitRange     Kind = "LimitRange"
	KindServiceAccount Kind = "ServiceAccount"
	KindDeployment     Kind = "Deployment"
	KindReplicaSet     Kind = "ReplicaSet"
	KindStatefulSet    Kind = "StatefulSet"
	KindDaemonSet      Kind = "DaemonSet"
	KindJob            Kind = "Job"
	KindCronJob        Kind = "CronJob"
	// KindReplicationController is the core API's predecessor of the
	// ReplicaSet, still served and still run by kube-controller-manager.
	KindReplicationController Kind = "ReplicationController"
	KindStorageClass          Kind = "StorageClass"
	KindCSINode               Kind = "CSINode"
	KindCSIDriver             Kind = "CSIDriver"
	KindVolumeAttachment      Kind = "VolumeAttachment"
	KindPDB                   Kind = "PodDisruptionBudget"
	KindPriorityClass         Kind = "PriorityClass"
	KindRuntimeClass          Kind = "RuntimeClass"
	KindNetworkPolicy         Kind = "NetworkPolicy"
	KindEndpointSlice         Kind = "EndpointSlice"
	KindResourceClaim         Kind = "ResourceClaim"
	KindDeviceClass           Kind = "DeviceClass"
	KindResourceSlice         Kind = "ResourceSlice"
	KindValidatingWebhook     Kind = "ValidatingWebhookConfiguration"
	KindMutatingWebhook       Kind = "MutatingWebhookConfiguration"
	KindCSR                   Kind = "CertificateSigningRequest"
	KindAPIService            Kind = "APIService"
	KindCRD                   Kind = "CustomResourceDefinition"
)

// Leases (coordination.k8s.io/v1) have no typed field: a Query with
// Resource LeaseResource lists them into Snapshot.Other, recorded in Loaded
// as KindLease.
const KindLease Kind = "Lease"

// LeaseResource is coordination.k8s.io/v1 Leases, listed with the dynamic client.
var LeaseResource = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// kindSpec says how one Kind is named in the API, listed and stored.
type kindSpec struct {
	gvk        schema.GroupVersionKind
	resource   string // plural resource name, e.g. "pods"
	namespaced bool
	// list returns a lister for one namespace ("" for all); nil for kinds read
	// with the dynamic client, which land in Snapshot.Other.
	list func(cs kubernetes.Interface, ns string) lister
	// pages, when set, fetches the pages instead of list, reading each
	// page's continue token before decoding it (see podpages.go).
	pages func(cs kubernetes.Interface, ns string) fetcher
	// add appends a typed object to its Snapshot slice; false if obj is of
	// another type.
	add func(s *Snapshot, obj runtime.Object) bool
	// slice returns the kind's objects; nil for kinds kept in Other.
	slice func(s *Snapshot) []metav1.Object
	// length is len(slice(s)) without the copy.
	length func(s *Snapshot) int
	// merge puts the kind's objects of a and b (either may be nil) into
	// dst, as Merge does (mergeKind).
	merge func(k Kind, dst, a, b *Snapshot)
}

// lister fetches one page of a list.
type lister func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error)

// resourceName is how messages and RBAC name the resource: "pods",
// "deployments.apps".
func (k kindSpec) resourceName() string {
	if k.gvk.Group == "" {
		return k.resource
	}
	return k.resource + "." + k.gvk.Group
}

func (k kindSpec) gvr() schema.GroupVersionResource {
	return k.gvk.GroupVersion().WithResource(k.resource)
}

// into stores objects of type *T in the Snapshot slice field returns.
func into[T any, PT interface {
	*T
	metav1.Object
}](field func(*Snapshot) *[]PT) (func(*Snapshot, runtime.Object) bool, func(*Snapshot) []metav1.Object, func(*Snapshot) int, func(Kind, *Snapshot, *Snapshot, *Snapshot)) {
	add := func(s *Snapshot, obj runtime.Object) bool {
		p, ok := obj.(PT)
		if ok {
			f := field(s)
			*f = append(*f, p)
		}
		return ok
	}
	slice := func(s *Snapshot) []metav1.Object {
		items := *field(s)
		out := make([]metav1.Object, len(items))
		for i, o := range items {
			out[i] = o
		}
		return out
	}
	length := func(s *Snapshot) int { return len(*field(s)) }
	merge := func(k Kind, dst, a, b *Snapshot) {
		var as, bs []PT
		if a != nil {
			as = *field(a)
		}
		if b != nil {
			bs = *field(b)
		}
		if len(as)+len(bs) > 0 {
			*field(dst) = mergeKind(k, as, bs, a.uniqueKind(k, len(as)), b.uniqueKind(k, len(bs)))
		}
	}
	return add, slice, length, merge
}

func typed[T any, PT interface {
	*T
	metav1.Object
}](gvk schema.GroupVersionKind, resource string, namespaced bool, list func(kubernetes.Interface, string) lister, field func(*Snapshot) *[]PT) kindSpec {
	add, slice, length, merge := into(field)
	return kindSpec{gvk: gvk, resource: resource, namespaced: namespaced, list: list, add: add, slice: slice, length: length, merge: merge}
}

func withPages(k kindSpec, pages func(kubernetes.Interface, string) fetcher) kindSpec {
	k.pages = pages
	return k
}

// listFn adapts a typed List call to a lister.
func listFn[L runtime.Object](f func(context.Context, metav1.ListOptions) (L, error)) lister {
	return func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		l, err := f(ctx, opts)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}

var kinds = map[Kind]kindSpec{
	KindNamespace: typed(corev1.SchemeGroupVersion.WithKind("Namespace"), "namespaces", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.CoreV1().Namespaces().List) },
		func(s *Snapshot) *[]*corev1.Namespace { return &s.Namespaces }),
	KindNode: typed(corev1.SchemeGroupVersion.WithKind("Node"), "nodes", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.CoreV1().Nodes().List) },
		func(s *Snapshot) *[]*corev1.Node { return &s.Nodes }),
	KindPod: withPages(typed(corev1.SchemeGroupVersion.WithKind("Pod"), "pods", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().Pods(ns).List) },
		func(s *Snapshot) *[]*corev1.Pod { return &s.Pods }), podPages),
	KindEvent: typed(corev1.SchemeGroupVersion.WithKind("Event"), "events", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().Events(ns).List) },
		func(s *Snapshot) *[]*corev1.Event { return &s.Events }),
	KindService: typed(corev1.SchemeGroupVersion.WithKind("Service"), "services", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().Services(ns).List) },
		func(s *Snapshot) *[]*corev1.Service { return &s.Services }),
	KindSecret: typed(corev1.SchemeGroupVersion.WithKind("Secret"), "secrets", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().Secrets(ns).List) },
		func(s *Snapshot) *[]*corev1.Secret { return &s.Secrets }),
	KindConfigMap: typed(corev1.SchemeGroupVersion.WithKind("ConfigMap"), "configmaps", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().ConfigMaps(ns).List) },
		func(s *Snapshot) *[]*corev1.ConfigMap { return &s.ConfigMaps }),
	KindPVC: typed(corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"), "persistentvolumeclaims", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.CoreV1().PersistentVolumeClaims(ns).List)
		},
		func(s *Snapshot) *[]*corev1.PersistentVolumeClaim { return &s.PVCs }),
	KindPV: typed(corev1.SchemeGroupVersion.WithKind("PersistentVolume"), "persistentvolumes", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.CoreV1().PersistentVolumes().List) },
		func(s *Snapshot) *[]*corev1.PersistentVolume { return &s.PVs }),
	KindResourceQuota: typed(corev1.SchemeGroupVersion.WithKind("ResourceQuota"), "resourcequotas", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().ResourceQuotas(ns).List) },
		func(s *Snapshot) *[]*corev1.ResourceQuota { return &s.ResourceQuotas }),
	KindLimitRange: typed(corev1.SchemeGroupVersion.WithKind("LimitRange"), "limitranges", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().LimitRanges(ns).List) },
		func(s *Snapshot) *[]*corev1.LimitRange { return &s.LimitRanges }),
	KindServiceAccount: typed(corev1.SchemeGroupVersion.WithKind("ServiceAccount"), "serviceaccounts", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.CoreV1().ServiceAccounts(ns).List) },
		func(s *Snapshot) *[]*corev1.ServiceAccount { return &s.ServiceAccounts }),

	KindDeployment: typed(appsv1.SchemeGroupVersion.WithKind("Deployment"), "deployments", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.AppsV1().Deployments(ns).List) },
		func(s *Snapshot) *[]*appsv1.Deployment { return &s.Deployments }),
	KindReplicaSet: typed(appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), "replicasets", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.AppsV1().ReplicaSets(ns).List) },
		func(s *Snapshot) *[]*appsv1.ReplicaSet { return &s.ReplicaSets }),
	KindStatefulSet: typed(appsv1.SchemeGroupVersion.WithKind("StatefulSet"), "statefulsets", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.AppsV1().StatefulSets(ns).List) },
		func(s *Snapshot) *[]*appsv1.StatefulSet { return &s.StatefulSets }),
	KindDaemonSet: typed(appsv1.SchemeGroupVersion.WithKind("DaemonSet"), "daemonsets", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.AppsV1().DaemonSets(ns).List) },
		func(s *Snapshot) *[]*appsv1.DaemonSet { return &s.DaemonSets }),
	KindJob: typed(batchv1.SchemeGroupVersion.WithKind("Job"), "jobs", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.BatchV1().Jobs(ns).List) },
		func(s *Snapshot) *[]*batchv1.Job { return &s.Jobs }),
	KindCronJob: typed(batchv1.SchemeGroupVersion.WithKind("CronJob"), "cronjobs", true,
		func(cs kubernetes.Interface, ns string) lister { return listFn(cs.BatchV1().CronJobs(ns).List) },
		func(s *Snapshot) *[]*batchv1.CronJob { return &s.CronJobs }),
	KindReplicationController: typed(corev1.SchemeGroupVersion.WithKind("ReplicationController"), "replicationcontrollers", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.CoreV1().ReplicationControllers(ns).List)
		},
		func(s *Snapshot) *[]*corev1.ReplicationController { return &s.ReplicationControllers }),

	KindStorageClass: typed(storagev1.SchemeGroupVersion.WithKind("StorageClass"), "storageclasses", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.StorageV1().StorageClasses().List) },
		func(s *Snapshot) *[]*storagev1.StorageClass { return &s.StorageClasses }),
	KindCSINode: typed(storagev1.SchemeGroupVersion.WithKind("CSINode"), "csinodes", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.StorageV1().CSINodes().List) },
		func(s *Snapshot) *[]*storagev1.CSINode { return &s.CSINodes }),
	KindCSIDriver: typed(storagev1.SchemeGroupVersion.WithKind("CSIDriver"), "csidrivers", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.StorageV1().CSIDrivers().List) },
		func(s *Snapshot) *[]*storagev1.CSIDriver { return &s.CSIDrivers }),
	KindVolumeAttachment: typed(storagev1.SchemeGroupVersion.WithKind("VolumeAttachment"), "volumeattachments", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.StorageV1().VolumeAttachments().List) },
		func(s *Snapshot) *[]*storagev1.VolumeAttachment { return &s.VolumeAttachments }),

	KindPDB: typed(policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"), "poddisruptionbudgets", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.PolicyV1().PodDisruptionBudgets(ns).List)
		},
		func(s *Snapshot) *[]*policyv1.PodDisruptionBudget { return &s.PDBs }),
	KindPriorityClass: typed(schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"), "priorityclasses", false,
		func(cs kubernetes.Interface, _ string) lister {
			return listFn(cs.SchedulingV1().PriorityClasses().List)
		},
		func(s *Snapshot) *[]*schedulingv1.PriorityClass { return &s.PriorityClasses }),
	KindRuntimeClass: typed(nodev1.SchemeGroupVersion.WithKind("RuntimeClass"), "runtimeclasses", false,
		func(cs kubernetes.Interface, _ string) lister {
			return listFn(cs.NodeV1().RuntimeClasses().List)
		},
		func(s *Snapshot) *[]*nodev1.RuntimeClass { return &s.RuntimeClasses }),
	KindNetworkPolicy: typed(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), "networkpolicies", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.NetworkingV1().NetworkPolicies(ns).List)
		},
		func(s *Snapshot) *[]*networkingv1.NetworkPolicy { return &s.NetworkPolicies }),
	KindEndpointSlice: typed(discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), "endpointslices", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.DiscoveryV1().EndpointSlices(ns).List)
		},
		func(s *Snapshot) *[]*discoveryv1.EndpointSlice { return &s.EndpointSlices }),

	KindResourceClaim: typed(resourcev1.SchemeGroupVersion.WithKind("ResourceClaim"), "resourceclaims", true,
		func(cs kubernetes.Interface, ns string) lister {
			return listFn(cs.ResourceV1().ResourceClaims(ns).List)
		},
		func(s *Snapshot) *[]*resourcev1.ResourceClaim { return &s.ResourceClaims }),
	KindDeviceClass: typed(resourcev1.SchemeGroupVersion.WithKind("DeviceClass"), "deviceclasses", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.ResourceV1().DeviceClasses().List) },
		func(s *Snapshot) *[]*resourcev1.DeviceClass { return &s.DeviceClasses }),
	KindResourceSlice: typed(resourcev1.SchemeGroupVersion.WithKind("ResourceSlice"), "resourceslices", false,
		func(cs kubernetes.Interface, _ string) lister { return listFn(cs.ResourceV1().ResourceSlices().List) },
		func(s *Snapshot) *[]*resourcev1.ResourceSlice { return &s.ResourceSlices }),

	KindValidatingWebhook: typed(admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingWebhookConfiguration"), "validatingwebhookconfigurations", false,
		func(cs kubernetes.Interface, _ string) lister {
			return listFn(cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List)
		},
		func(s *Snapshot) *[]*admissionregistrationv1.ValidatingWebhookConfiguration {
			return &s.ValidatingWebhooks
		}),
	KindMutatingWebhook: typed(admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingWebhookConfiguration"), "mutatingwebhookconfigurations", false,
		func(cs kubernetes.Interface, _ string) lister {
			return listFn(cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List)
		},
		func(s *Snapshot) *[]*admissionregistrationv1.MutatingWebhookConfiguration { return &s.MutatingWebhooks }),
	KindCSR: typed(certificatesv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"), "certificatesigningrequests", false,
		func(cs kubernetes.Interface, _ string) lister {
			return listFn(cs.CertificatesV1().CertificateSigningRequests().List)
		},
		func(s *Snapshot) *[]*certificatesv1.CertificateSigningRequest { return &s.CSRs }),

	KindAPIService: {gvk: schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"}, resource: "apiservices"},
	KindCRD:        {gvk: schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}, resource: "customresourcedefinitions"},
}

// typedByGVK maps the exact group/version/kind of each typed field to its Kind,
// so manifests of other versions (e.g. policy/v1beta1) are kept as Other
// rather than misread.
var typedByGVK = func() map[schema.GroupVersionKind]Kind {
	m := map[schema.GroupVersionKind]Kind{}
	for k, spec := range kinds {
		if spec.add != nil {
			m[spec.gvk] = k
		}
	}
	return m
}()
