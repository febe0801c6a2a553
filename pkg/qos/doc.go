// Package qos computes what Kubernetes derives from a pod's resources: its
// QoS class (as the apiserver stores it in status.qosClass), the requests and
// limits the apiserver fills in on create (API defaulting, LimitRanger
// admission, pod-level defaulting), the kubelet's OOM score adjustment per
// container and the kubelet's eviction order under memory pressure.
//
// Every function is pure and ports, line for line where it matters, the
// Kubernetes v1.37 source named in its comment, with the v1.37 default
// feature gates.
//
// In the data flow it is part of the analysis: pkg/qosaudit and pkg/pending call it
// on the pods of a Snapshot or of manifests.
package qos
