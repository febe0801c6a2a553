package main

// plugin is what a krew manifest says about one plugin beyond the release's
// files: who it is for and the access it needs.
type plugin struct {
	Name             string // krew name and archive id: why-pending
	ShortDescription string
	Description      string
	RBAC             string // the caveat naming the access the plugin needs
}

// Binary is the plugin's executable: kubectl-why_pending.
func (p plugin) Binary() string { return "kubectl-" + underscored(p.Name) }

// Helper is the completion helper kubectl runs: kubectl_complete-why_pending.
func (p plugin) Helper() string { return "kubectl_complete-" + underscored(p.Name) }

func underscored(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

const homepage = "https://github.com/ktriage/ktriage"

// plugins lists every plugin the release archives, in the order the
// manifests are written.
var plugins = []plugin{
	{
		Name:             "why-pending",
		ShortDescription: "Explain why pods are Pending and what to change",
		Description: `Explains every Pending pod stage by stage: scheduling gates, a missing
scheduler, kube-scheduler's filters per node with the scheduler's exact message
(taints, affinity, topology spread, resources, volumes, DRA), unbound claims,
quota and LimitRange failures that keep pods from being created, image pulls,
init containers and lost nodes, each with a concrete fix. With -f it answers
"would these manifests schedule?" in CI. Output as table, wide, JSON, YAML,
SARIF or JUnit; exit code 1 when a pod is (or would be) Pending.`,
		RBAC: `It only reads the cluster: get and list on pods, nodes and events; for
volumes persistentvolumeclaims, persistentvolumes, storageclasses, csinodes and
csidrivers; resourcequotas and limitranges; the workloads named as TYPE/NAME
(deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs); and for DRA
resourceclaims, deviceclasses and resourceslices. Without the optional ones it
explains what it can and warns.`,
	},
	{
		Name:             "netcheck",
		ShortDescription: "Test and explain connectivity between two pods",
		Description: `Runs a TCP, UDP, HTTP(S) or DNS check from a pod's own network namespace
(a restricted-compliant ephemeral probe container, no exec) and explains the
result: Service endpoints and port mapping, the NetworkPolicy rule that allows or
blocks the traffic, and how a DNS name expands with the pod's search list.
Verdicts: reachable, blocked-by-policy, no-endpoints, port-mismatch,
dns-failure, refused, timeout, unknown.`,
		RBAC: `It needs get and list on pods, services, endpointslices, networkpolicies,
namespaces and nodes, and for the live probe patch on pods/ephemeralcontainers
(--no-probe changes nothing and needs no patch). The probe image is
ghcr.io/ktriage/netcheck-probe at the plugin's version (--image to override).`,
	},
	{
		Name:             "cert-expiry",
		ShortDescription: "Find every certificate that can take a cluster down, before it expires",
		Description: `Finds certificates in kubeconfigs, the API server's served chain, kubeadm
PKI directories, kubelet certificates, TLS Secrets, webhook, APIService and CRD
caBundles and CertificateSigningRequests, and checks expiry, chains, host names
and key strength. Works on files too (-f) for CI.`,
		RBAC: `It reads the kubeconfig and local PKI directories it can access; from the
cluster it needs get and list on secrets and configmaps, certificatesigningrequests,
validatingwebhookconfigurations, mutatingwebhookconfigurations, apiservices,
customresourcedefinitions and nodes. Sources it cannot read are skipped with a
warning.`,
	},
	{
		Name:             "qos-audit",
		ShortDescription: "Show QoS classes exactly as Kubernetes computes them, eviction order and OOM scores",
		Description: `Computes each pod's QoS class as the API server does (including LimitRange
defaults applied at admission), its OOM score adjustment and its place in the
kubelet's eviction order, and flags pods that are not the class they need to be
(--require). Works on manifests (-f) for CI.`,
		RBAC: `It only reads the cluster: get and list on pods; optionally limitranges,
nodes, namespaces, replicasets and jobs (without them it explains what it can
and warns).`,
	},
	{
		Name:             "drain-preflight",
		ShortDescription: "Say whether draining a node will succeed and where every pod will land",
		Description: `Says whether "kubectl drain" with the same flags will finish, fail or wait
for ever, without cordoning, evicting or deleting anything: each pod's action
by kubectl's own drain filters and messages, every eviction as the Eviction API
answers it (PodDisruptionBudgets spent and recovering as replacements become
ready), where each replacement is scheduled or why it stays Pending, and the
load on the other nodes. Verdict safe, unschedulable or blocked, with the
smallest change that unblocks it; for several nodes, the order to drain them
in. Works offline on a dump (--cluster-state). Exit code 1 unless safe.`,
		RBAC: `It only reads the cluster: get and list on nodes, pods,
poddisruptionbudgets, daemonsets, priorityclasses and namespaces; for drained
pods with volumes persistentvolumeclaims, persistentvolumes, storageclasses,
csinodes and csidrivers; for pods with resource claims resourceclaims,
deviceclasses and resourceslices. deploy/rbac/drain-preflight.yaml in the
repository is this ClusterRole.`,
	},
}
