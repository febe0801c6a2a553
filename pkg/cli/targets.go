package cli

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// versionRE is a Kubernetes API version (v1, v1beta2).
var versionRE = regexp.MustCompile(`^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$`)

// ParseTarget reads POD or TYPE/NAME (TYPE may carry its group, and a
// version: deployments.apps, deployments.v1.apps) and returns the kind
// ("Pod", "Deployment", ...) and name. A bad argument, a group that is not
// the kind's or a name no object can have, is a usage error (exit 2).
func ParseTarget(arg string) (kind, name string, err error) {
	typ, name, ok := strings.Cut(arg, "/")
	if !ok {
		if arg == "" {
			return "", "", UsageErrorf("empty pod name")
		}
		return "Pod", arg, checkName("Pod", arg)
	}
	k, group, known := cluster.ParseType(typ)
	if !known || k == cluster.KindService || name == "" || strings.Contains(name, "/") {
		return "", "", UsageErrorf("%q: use POD or TYPE/NAME with TYPE one of pod, deployment, replicaset, statefulset, daemonset, job, cronjob, replicationcontroller", arg)
	}
	kind = string(k)
	want := cluster.Group(k)
	if v, g, _ := strings.Cut(group, "."); group != "" && group != want && (!versionRE.MatchString(v) || g != want) {
		return "", "", UsageErrorf("%q: %s is in the API group %q, not %q", arg, kind, want, group)
	}
	return kind, name, checkName(kind, name)
}

// checkName refuses a name no object of kind can have (the API server
// requires a DNS subdomain: lower case, digits, '-' and '.').
func checkName(kind, name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return UsageErrorf("%q is not a valid %s name: %s", name, strings.ToLower(kind), errs[0])
	}
	return nil
}

// ValidateTargets checks POD and TYPE/NAME arguments against the scope
// flags: names exclude -f, -l and -A, and each must parse.
func (c *Common) ValidateTargets(args []string) error {
	if len(args) == 0 {
		return nil
	}
	switch {
	case len(c.Filenames) > 0:
		return UsageErrorf("pass either -f manifests or pod/workload names, not both")
	case c.Selector != "":
		return UsageErrorf("pass either -l or names, not both")
	case c.AllNamespaces:
		return UsageErrorf("names need one namespace: use -n instead of -A")
	}
	for _, a := range args {
		if _, _, err := ParseTarget(a); err != nil {
			return err
		}
	}
	return nil
}

// Targets are the POD and TYPE/NAME arguments, checked by ValidateTargets,
// as targets in namespace ns.
func Targets(args []string, ns string) []cluster.Target {
	out := make([]cluster.Target, 0, len(args))
	for _, a := range args {
		kind, name, _ := ParseTarget(a)
		out = append(out, cluster.Target{Kind: cluster.Kind(kind), Namespace: ns, Name: name})
	}
	return out
}
