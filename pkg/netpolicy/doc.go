// Package netpolicy decides whether networking.k8s.io/v1 NetworkPolicies allow
// one connection: the source pod's egress and the destination pod's ingress,
// each judged the way the API reference defines it, naming the policy and rule
// that allows the traffic or every policy that isolates the pod with no rule
// allowing it.
//
// Host-network pods: the API leaves their behaviour undefined, and the common
// CNIs (Calico, Cilium, the reference plugins) treat their traffic as node
// traffic. So a host-network pod is never isolated by a policy, and as a peer
// it matches only ipBlocks (by its IP, which is its node's IP), never pod or
// namespace selectors. Traffic between a pod and its own node is always
// allowed, as the NetworkPolicy documentation states, and so is traffic from
// a pod to itself: the documentation says pods cannot block access to
// themselves (loopback), and the upstream conformance tests expect it.
//
// In the data flow it is part of netcheck's analysis: pkg/netcheck asks it about the
// NetworkPolicies of a Snapshot.
package netpolicy
