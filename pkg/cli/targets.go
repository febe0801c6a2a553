package cli

import "strings"

// targetKinds are the pod-creating kinds a POD or TYPE/NAME argument may
// name, by every name kubectl accepts for them.
var targetKinds = map[string]string{
	"pod": "Pod", "pods": "Pod", "po": "Pod",
	"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
	"replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
	"statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
	"daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
	"job": "Job", "jobs": "Job",
	"cronjob": "CronJob", "cronjobs": "CronJob", "cj": "CronJob",
}

// ParseTarget reads POD or TYPE/NAME (TYPE may carry a group:
// deployments.apps) and returns the kind ("Pod", "Deployment", ...) and name.
// A bad argument is a usage error (exit 2).
func ParseTarget(arg string) (kind, name string, err error) {
	typ, name, ok := strings.Cut(arg, "/")
	if !ok {
		if arg == "" {
			return "", "", UsageErrorf("empty pod name")
		}
		return "Pod", arg, nil
	}
	typ = strings.ToLower(typ)
	if i := strings.Index(typ, "."); i >= 0 {
		typ = typ[:i]
	}
	kind, known := targetKinds[typ]
	if !known || name == "" || strings.Contains(name, "/") {
		return "", "", UsageErrorf("%q: use POD or TYPE/NAME with TYPE one of pod, deployment, replicaset, statefulset, daemonset, job, cronjob", arg)
	}
	return kind, name, nil
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
