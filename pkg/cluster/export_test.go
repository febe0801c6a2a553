package cluster

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DecodePodPage decodes an encoded PodList as the live loader decodes a
// page of pods, before trimming.
func DecodePodPage(raw []byte) (*corev1.PodList, error) {
	var d podDecoder
	return d.list(raw)
}

// Trim is trim without sharing.
func Trim(obj runtime.Object) { trim(obj, nil) }
