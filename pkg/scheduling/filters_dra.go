package scheduling

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

const (
	msgDRANotAvailable = "resourceclaim not available on the node"
	msgDRACannotAlloc  = "cannot allocate all claims"
)

// draClaim is one of the pod's ResourceClaims with what it needs.
type draClaim struct {
	claim *resourcev1.ResourceClaim
	// drivers the claim's device classes select (from "device.driver ==
	// ..." selectors), by request.
	drivers map[string][]string
}

type draState struct {
	claims []draClaim
}

// dynamicResourcesPlugin is DynamicResources. Allocated claims restrict the
// pod to the nodes of their allocation. For unallocated claims the scheduler
// runs the structured-parameters allocator (CEL selectors, counters); this
// engine checks what it can name: the claim and its DeviceClasses exist, and
// the classes' drivers publish ResourceSlices for the node.
var dynamicResourcesPlugin = plugin{
	name:  dynamicResourcesName,
	needs: dynamicResourcesNeeds,
	preFilter: func(c *cycle) preResult {
		if len(c.pod.Spec.ResourceClaims) == 0 {
			return preResult{skip: true}
		}
		s := &draState{}
		for i := range c.pod.Spec.ResourceClaims {
			pc := &c.pod.Spec.ResourceClaims[i]
			name, checkOwner, err := claimName(c.pod, pc)
			if err != nil {
				return preResult{reasons: []Reason{{Message: err.Error(), Unresolvable: true,
					Detail: fmt.Sprintf("pod resource claim %q: the ResourceClaim for its template has not been created", pc.Name)}}}
			}
			if name == "" {
				continue
			}
			claim := c.e.resourceClaim(c.pod.Namespace, name)
			if claim == nil {
				return preResult{reasons: []Reason{{Unresolvable: true,
					Message: fmt.Sprintf("resourceclaim.resource.k8s.io %q not found", name),
					Detail:  fmt.Sprintf("pod resource claim %q refers to ResourceClaim %s/%s, which does not exist", pc.Name, c.pod.Namespace, name)}}}
			}
			if claim.DeletionTimestamp != nil {
				return preResult{reasons: []Reason{{Unresolvable: true, Message: fmt.Sprintf("resourceclaim %q is being deleted", claim.Name)}}}
			}
			if checkOwner && !metav1.IsControlledBy(claim, c.pod) {
				return preResult{reasons: []Reason{{Unresolvable: true,
					Message: fmt.Sprintf("ResourceClaim %s/%s was not created for Pod %s/%s (pod is not owner)", claim.Namespace, claim.Name, c.pod.Namespace, c.pod.Name)}}}
			}
			s.claims = append(s.claims, draClaim{claim: claim, drivers: map[string][]string{}})
		}
		if len(s.claims) == 0 {
			return preResult{skip: true}
		}
		for i := range s.claims {
			dc := &s.claims[i]
			if dc.claim.Status.Allocation != nil {
				continue
			}
			for _, req := range dc.claim.Spec.Devices.Requests {
				type sub struct{ name, class string }
				var subs []sub
				switch {
				case req.Exactly != nil:
					subs = append(subs, sub{req.Name, req.Exactly.DeviceClassName})
				case len(req.FirstAvailable) > 0:
					for _, sr := range req.FirstAvailable {
						subs = append(subs, sub{req.Name + "/" + sr.Name, sr.DeviceClassName})
					}
				default:
					return preResult{reasons: []Reason{{Unresolvable: true,
						Message: fmt.Sprintf("resource claim %s/%s, request %s: unknown request type", dc.claim.Namespace, dc.claim.Name, req.Name)}}}
				}
				for _, sr := range subs {
					class := c.e.deviceClass(sr.class)
					if class == nil {
						return preResult{reasons: []Reason{{Unresolvable: true,
							Message: fmt.Sprintf("request %s: device class %s does not exist", sr.name, sr.class),
							Detail:  fmt.Sprintf("ResourceClaim %s/%s asks for DeviceClass %s, which does not exist", dc.claim.Namespace, dc.claim.Name, sr.class)}}}
					}
					dc.drivers[sr.name] = classDrivers(class)
				}
			}
		}
		c.dra = s
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if c.dra == nil {
			return nil
		}
		for _, dc := range c.dra.claims {
			if a := dc.claim.Status.Allocation; a != nil {
				if a.NodeSelector != nil {
					ns, err := nodeaffinity.NewNodeSelector(a.NodeSelector)
					if err != nil || !ns.Match(ni.node) {
						return []Reason{{Message: msgDRANotAvailable, Unresolvable: true, Detail: fmt.Sprintf(
							"ResourceClaim %s/%s is already allocated to devices this node cannot reach", dc.claim.Namespace, dc.claim.Name)}}
					}
				}
				continue
			}
			reqs := make([]string, 0, len(dc.drivers))
			for r := range dc.drivers {
				reqs = append(reqs, r)
			}
			sort.Strings(reqs)
			for _, r := range reqs {
				drivers := dc.drivers[r]
				if len(drivers) == 0 {
					continue // selector not understood: leave it to the allocator
				}
				if !c.e.driversPublishFor(drivers, ni.node) {
					return []Reason{{Message: msgDRACannotAlloc, Unresolvable: true, Detail: fmt.Sprintf(
						"ResourceClaim %s/%s request %s needs driver %s, which publishes no ResourceSlice for this node",
						dc.claim.Namespace, dc.claim.Name, r, strings.Join(drivers, " or "))}}
				}
			}
			c.notSimulated(dynamicResourcesName, fmt.Sprintf(
				"allocating devices for ResourceClaim %s/%s (selectors, counts, devices other claims hold) is not simulated",
				dc.claim.Namespace, dc.claim.Name))
		}
		return nil
	},
}

// claimName is resourceclaim.Name: the claim named directly, or the one
// generated from a template as recorded in the pod's status.
func claimName(pod *corev1.Pod, pc *corev1.PodResourceClaim) (string, bool, error) {
	switch {
	case pc.ResourceClaimName != nil:
		return *pc.ResourceClaimName, false, nil
	case pc.ResourceClaimTemplateName != nil:
		for _, st := range pod.Status.ResourceClaimStatuses {
			if st.Name == pc.Name {
				if st.ResourceClaimName == nil {
					return "", true, nil
				}
				return *st.ResourceClaimName, true, nil
			}
		}
		return "", false, fmt.Errorf(`pod "%s/%s": ResourceClaim not created yet`, pod.Namespace, pod.Name)
	}
	return "", false, fmt.Errorf(`pod "%s/%s", spec.resourceClaim %q: none of the supported fields are set`, pod.Namespace, pod.Name, pc.Name)
}

var driverSelector = regexp.MustCompile(`device\.driver\s*==\s*["']([^"']+)["']`)

// classDrivers reads the drivers a DeviceClass selects from its CEL
// selectors of the common form device.driver == "name".
func classDrivers(dc *resourcev1.DeviceClass) []string {
	var out []string
	for _, s := range dc.Spec.Selectors {
		if s.CEL == nil {
			continue
		}
		for _, m := range driverSelector.FindAllStringSubmatch(s.CEL.Expression, -1) {
			out = append(out, m[1])
		}
	}
	return dedupe(out)
}

// driversPublishFor reports whether any of drivers has a ResourceSlice for
// the node: by node name, for all nodes, or by a node selector.
func (e *Engine) driversPublishFor(drivers []string, node *corev1.Node) bool {
	for _, s := range e.snap.ResourceSlices {
		if s == nil {
			continue
		}
		match := false
		for _, d := range drivers {
			match = match || s.Spec.Driver == d
		}
		if !match {
			continue
		}
		switch {
		case s.Spec.NodeName != nil && *s.Spec.NodeName == node.Name:
			return true
		case s.Spec.AllNodes != nil && *s.Spec.AllNodes:
			return true
		case s.Spec.NodeSelector != nil:
			if ns, err := nodeaffinity.NewNodeSelector(s.Spec.NodeSelector); err == nil && ns.Match(node) {
				return true
			}
		}
	}
	return false
}

func (e *Engine) resourceClaim(namespace, name string) *resourcev1.ResourceClaim {
	for _, rc := range e.snap.ResourceClaims {
		if rc != nil && rc.Namespace == namespace && rc.Name == name {
			return rc
		}
	}
	return nil
}

func (e *Engine) deviceClass(name string) *resourcev1.DeviceClass {
	for _, dc := range e.snap.DeviceClasses {
		if dc != nil && dc.Name == name {
			return dc
		}
	}
	return nil
}
