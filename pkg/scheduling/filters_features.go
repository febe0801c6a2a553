package scheduling

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	ndf "k8s.io/component-helpers/nodedeclaredfeatures"
	ndftypes "k8s.io/component-helpers/nodedeclaredfeatures/types"
)

const msgDeclaredFeatures = "node(s) didn't match Pod's required features"

// schedulerVersion is the kube-scheduler version whose feature registry the
// NodeDeclaredFeatures plugin applies.
var schedulerVersion = version.MustParse("1.37.2")

// nodeDeclaredFeaturesPlugin is NodeDeclaredFeatures: features the pod's
// spec needs (inferred by the shared component-helpers registry) must be in
// the node's status.declaredFeatures. The default profile appends it after
// every other plugin.
var nodeDeclaredFeaturesPlugin = plugin{
	name: "NodeDeclaredFeatures",
	preFilter: func(c *cycle) preResult {
		reqs, err := ndf.DefaultFramework.InferForPodScheduling(&ndftypes.PodInfo{Spec: &c.pod.Spec}, schedulerVersion)
		if err != nil || reqs.IsEmpty() {
			return preResult{skip: true}
		}
		c.features = &reqs
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if c.features == nil {
			return nil
		}
		m, err := ndf.DefaultFramework.MatchNode(*c.features, ni.node)
		if err != nil || m.IsMatch {
			return nil
		}
		return []Reason{{Message: msgDeclaredFeatures, Unresolvable: true, Detail: fmt.Sprintf(
			"the pod needs node feature(s) %s, which the node does not declare in status.declaredFeatures", strings.Join(m.UnsatisfiedRequirements, ", "))}}
	},
}
