package qos

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ValidateLimitRange ports LimitRanger's validating half
// (plugin/pkg/admission/limitranger/admission.go PodValidateLimitFunc):
// min, max and maxLimitRequestRatio of Container items against every
// container and init container, and of Pod items against the pod's
// aggregate requests and limits. It returns the apiserver's messages; a pod
// with any is refused ("pods ... is forbidden: [...]"), and a workload's
// controller fails to create its pods. pod must be the admitted pod (Admit).
func ValidateLimitRange(lr *corev1.LimitRange, pod *corev1.Pod) []string {
	var errs []string
	check := func(limitType corev1.LimitType, item corev1.LimitRangeItem, req, lim corev1.ResourceList) {
		for _, k := range sortedNames(item.Min) {
			if err := minConstraint(string(limitType), k, item.Min[corev1.ResourceName(k)], req, lim); err != nil {
				errs = append(errs, err.Error())
			}
		}
		for _, k := range sortedNames(item.Max) {
			if err := maxConstraint(string(limitType), k, item.Max[corev1.ResourceName(k)], req, lim); err != nil {
				errs = append(errs, err.Error())
			}
		}
		for _, k := range sortedNames(item.MaxLimitRequestRatio) {
			if err := limitRequestRatioConstraint(string(limitType), k, item.MaxLimitRequestRatio[corev1.ResourceName(k)], req, lim); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	for _, item := range lr.Spec.Limits {
		switch item.Type {
		case corev1.LimitTypeContainer:
			for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
				for i := range list {
					check(item.Type, item, list[i].Resources.Requests, list[i].Resources.Limits)
				}
			}
		case corev1.LimitTypePod:
			check(item.Type, item, limitRangerPodRequests(pod), limitRangerPodLimits(pod))
		}
	}
	return errs
}

// requestLimitEnforcedValues: admission.go, milli-precision when it fits.
func requestLimitEnforcedValues(requestQuantity, limitQuantity, enforcedQuantity resource.Quantity) (request, limit, enforced int64) {
	request = requestQuantity.Value()
	limit = limitQuantity.Value()
	enforced = enforcedQuantity.Value()
	if request <= resource.MaxMilliValue && limit <= resource.MaxMilliValue && enforced <= resource.MaxMilliValue {
		request = requestQuantity.MilliValue()
		limit = limitQuantity.MilliValue()
		enforced = enforcedQuantity.MilliValue()
	}
	return
}

func minConstraint(limitType, resourceName string, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[corev1.ResourceName(resourceName)]
	lim, limExists := limit[corev1.ResourceName(resourceName)]
	observedReqValue, observedLimValue, enforcedValue := requestLimitEnforcedValues(req, lim, enforced)
	if !reqExists {
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", resourceName, limitType, enforced.String())
	}
	if observedReqValue < enforcedValue {
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", resourceName, limitType, enforced.String(), req.String())
	}
	if limExists && (observedLimValue < enforcedValue) {
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", resourceName, limitType, enforced.String(), lim.String())
	}
	return nil
}

func maxConstraint(limitType, resourceName string, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[corev1.ResourceName(resourceName)]
	lim, limExists := limit[corev1.ResourceName(resourceName)]
	observedReqValue, observedLimValue, enforcedValue := requestLimitEnforcedValues(req, lim, enforced)
	if !limExists {
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", resourceName, limitType, enforced.String())
	}
	if observedLimValue > enforcedValue {
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", resourceName, limitType, enforced.String(), lim.String())
	}
	if reqExists && (observedReqValue > enforcedValue) {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", resourceName, limitType, enforced.String(), req.String())
	}
	return nil
}

func limitRequestRatioConstraint(limitType, resourceName string, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[corev1.ResourceName(resourceName)]
	lim, limExists := limit[corev1.ResourceName(resourceName)]
	observedReqValue, observedLimValue, _ := requestLimitEnforcedValues(req, lim, enforced)
	if !reqExists || (observedReqValue == int64(0)) {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", resourceName, limitType, enforced.String())
	}
	if !limExists || (observedLimValue == int64(0)) {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", resourceName, limitType, enforced.String())
	}
	observedRatio := float64(observedLimValue) / float64(observedReqValue)
	displayObservedRatio := observedRatio
	maxLimitRequestRatio := float64(enforced.Value())
	if enforced.Value() <= resource.MaxMilliValue {
		observedRatio = observedRatio * 1000
		maxLimitRequestRatio = float64(enforced.MilliValue())
	}
	if observedRatio > maxLimitRequestRatio {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", resourceName, limitType, enforced.String(), displayObservedRatio)
	}
	return nil
}

// limitRangerPodRequests: admission.go podRequests (spec only; pod-level
// cpu and memory requests override the containers').
func limitRangerPodRequests(pod *corev1.Pod) corev1.ResourceList {
	return limitRangerAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests },
		func() corev1.ResourceList {
			if pod.Spec.Resources == nil {
				return nil
			}
			return pod.Spec.Resources.Requests
		}())
}

// limitRangerPodLimits: admission.go podLimits.
func limitRangerPodLimits(pod *corev1.Pod) corev1.ResourceList {
	return limitRangerAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits },
		func() corev1.ResourceList {
			if pod.Spec.Resources == nil {
				return nil
			}
			return pod.Spec.Resources.Limits
		}())
}

func limitRangerAggregate(pod *corev1.Pod, of func(corev1.ResourceRequirements) corev1.ResourceList, podLevel corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		addResourceList(total, of(c.Resources))
	}
	restartable := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		r := of(c.Resources)
		if isRestartable(&c) {
			addResourceList(total, r)
			addResourceList(restartable, r)
			r = restartable
		} else {
			tmp := corev1.ResourceList{}
			addResourceList(tmp, r)
			addResourceList(tmp, restartable)
			r = tmp
		}
		maxResourceList(initMax, r)
	}
	maxResourceList(total, initMax)
	for name, q := range podLevel {
		// The LimitRanger's own isSupportedPodLevelResource: cpu and memory.
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			total[name] = q
		}
	}
	return total
}

func addResourceList(list, newList corev1.ResourceList) {
	for name, quantity := range newList {
		if value, ok := list[name]; !ok {
			list[name] = quantity.DeepCopy()
		} else {
			value.Add(quantity)
			list[name] = value
		}
	}
}

func maxResourceList(list, newList corev1.ResourceList) {
	for name, quantity := range newList {
		if value, ok := list[name]; !ok || quantity.Cmp(value) > 0 {
			list[name] = quantity.DeepCopy()
		}
	}
}
