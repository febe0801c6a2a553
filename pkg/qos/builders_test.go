package qos

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rl builds a ResourceList from name/quantity pairs: rl("cpu", "1", "memory", "1Gi").
func rl(kv ...string) corev1.ResourceList {
	if len(kv) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

type ctr struct {
	name      string
	req, lim  corev1.ResourceList
	sidecar   bool
	initPhase bool
}

func c(name string, req, lim corev1.ResourceList) ctr { return ctr{name: name, req: req, lim: lim} }

func initC(name string, req, lim corev1.ResourceList) ctr {
	return ctr{name: name, req: req, lim: lim, initPhase: true}
}

func sidecar(name string, req, lim corev1.ResourceList) ctr {
	return ctr{name: name, req: req, lim: lim, initPhase: true, sidecar: true}
}

func pod(ctrs ...ctr) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	for _, x := range ctrs {
		k := corev1.Container{Name: x.name, Resources: corev1.ResourceRequirements{Requests: x.req, Limits: x.lim}}
		if x.sidecar {
			always := corev1.ContainerRestartPolicyAlways
			k.RestartPolicy = &always
		}
		if x.initPhase {
			p.Spec.InitContainers = append(p.Spec.InitContainers, k)
		} else {
			p.Spec.Containers = append(p.Spec.Containers, k)
		}
	}
	return p
}

func withPodLevel(p *corev1.Pod, req, lim corev1.ResourceList) *corev1.Pod {
	p.Spec.Resources = &corev1.ResourceRequirements{Requests: req, Limits: lim}
	return p
}
