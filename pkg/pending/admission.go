package pending

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ktriage/ktriage/pkg/report"
)

var (
	// quota admission: "exceeded quota: %s, requested: %s, used: %s, limited: %s"
	quotaExceeded = regexp.MustCompile(`exceeded quota: ([^,]+), requested: (.*), used: (.*), limited: ([^\s]*)`)
	// quota admission: "failed quota: %s: must specify %s"
	quotaMustSpecify = regexp.MustCompile(`failed quota: ([^:]+): must specify (.*)`)
	// limitranger: "maximum cpu usage per Container is 1, but limit is 2"
	limitRangeViolation = regexp.MustCompile(`(maximum|minimum) \S+ usage per (Container|Pod|PersistentVolumeClaim) is `)
	limitRangeRatio     = regexp.MustCompile(`\S+ max limit to request ratio per (Container|Pod) is `)
	podSecurity         = regexp.MustCompile(`violates PodSecurity "([^"]+)": (.*)`)
	webhookDenied       = regexp.MustCompile(`admission webhook "([^"]+)" denied the request: (.*)`)
	saMissing           = regexp.MustCompile(`error looking up service account ([^/]+)/([^:]+): serviceaccount "[^"]+" not found`)
)

// parseList reads "requests.cpu=2,requests.memory=1Gi".
func parseList(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(s), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// classifyCreateFailure turns a controller's FailedCreate message into a
// finding with a fix.
func (a *analyzer) classifyCreateFailure(ex *Explanation, w WorkloadTarget, f controllerFailure) {
	msg := strings.TrimPrefix(f.message, "(combined from similar events): ")
	details := map[string]any{"controller": f.kind + "/" + f.name, "message": msg, "source": f.from}
	if f.count > 0 {
		details["count"] = f.count
	}
	what := fmt.Sprintf("%s %s/%s cannot create pods", w.Kind, w.Namespace, w.Name)
	switch {
	case quotaExceeded.MatchString(msg):
		m := quotaExceeded.FindStringSubmatch(msg)
		name := strings.TrimSpace(m[1])
		requested, used, limited := parseList(m[2]), parseList(m[3]), parseList(strings.TrimSuffix(m[4], "."))
		details["quota"], details["requested"], details["used"], details["hard"] = name, requested, used, limited
		var parts, fixes []string
		patch := map[string]string{}
		for _, r := range slices.Sorted(maps.Keys(requested)) {
			parts = append(parts, fmt.Sprintf("%s: requested %s, used %s, hard %s", r, requested[r], used[r], limited[r]))
			need, err1 := resource.ParseQuantity(used[r])
			req, err2 := resource.ParseQuantity(requested[r])
			if err1 == nil && err2 == nil {
				need.Add(req)
				patch[r] = need.String()
				hard, err := resource.ParseQuantity(limited[r])
				room := "nothing"
				if err == nil {
					u, _ := resource.ParseQuantity(used[r])
					hard.Sub(u)
					if hard.Sign() > 0 {
						room = hard.String()
					}
				}
				fixes = append(fixes, fmt.Sprintf("%s to at least %s", r, need.String()))
				_ = room
			}
		}
		if q := a.quota(w.Namespace, name); q != nil {
			details["quotaStatus"] = map[string]any{"hard": q.Status.Hard, "used": q.Status.Used}
		}
		ex.Reason = fmt.Sprintf("exceeded quota %s (%s)", name, strings.Join(parts, "; "))
		var jp []string
		for _, k := range slices.Sorted(maps.Keys(patch)) {
			jp = append(jp, fmt.Sprintf("%q:%q", k, patch[k]))
		}
		fix := fmt.Sprintf("raise ResourceQuota %s: %s (kubectl patch resourcequota %s -n %s --type=merge -p '{\"spec\":{\"hard\":{%s}}}'), or lower the pods' requests/replicas, or delete what uses the quota",
			name, strings.Join(fixes, ", "), name, w.Namespace, strings.Join(jp, ","))
		a.add(ex, RuleQuota, report.SeverityError, fmt.Sprintf("%s: exceeded quota %s: %s", what, name, strings.Join(parts, "; ")), fix, details)
	case quotaMustSpecify.MatchString(msg):
		m := quotaMustSpecify.FindStringSubmatch(msg)
		details["quota"] = m[1]
		ex.Reason = fmt.Sprintf("quota %s requires %s", m[1], strings.TrimSpace(m[2]))
		a.add(ex, RuleQuota, report.SeverityError,
			fmt.Sprintf("%s: ResourceQuota %s requires every container to set %s", what, m[1], strings.TrimSpace(m[2])),
			fmt.Sprintf("set resources.requests/limits for the containers named, or add a LimitRange with defaults in namespace %s", w.Namespace), details)
	case limitRangeViolation.MatchString(msg) || limitRangeRatio.MatchString(msg):
		lr := a.limitRangeNames(w.Namespace)
		details["limitRanges"] = lr
		v := strings.TrimSuffix(strings.Trim(extractAfterForbidden(msg), "[]"), ".")
		ex.Reason = "LimitRange: " + v
		where := "the LimitRange"
		if len(lr) > 0 {
			where = "LimitRange " + strings.Join(lr, ", ")
		}
		a.add(ex, RuleLimitRange, report.SeverityError, fmt.Sprintf("%s: %s", what, v),
			fmt.Sprintf("bring the containers' requests/limits within %s of namespace %s (%s), or change %s (kubectl get limitrange -n %s -o yaml)", where, w.Namespace, v, where, w.Namespace), details)
	case podSecurity.MatchString(msg):
		m := podSecurity.FindStringSubmatch(msg)
		details["level"] = m[1]
		ex.Reason = "PodSecurity " + m[1] + ": " + m[2]
		a.add(ex, RuleAdmission, report.SeverityError, fmt.Sprintf("%s: violates PodSecurity %q: %s", what, m[1], m[2]),
			fmt.Sprintf("change the pod template's securityContext as listed (%s), or relabel namespace %s (pod-security.kubernetes.io/enforce)", m[2], w.Namespace), details)
	case webhookDenied.MatchString(msg):
		m := webhookDenied.FindStringSubmatch(msg)
		details["webhook"] = m[1]
		ex.Reason = "webhook " + m[1] + " denied: " + m[2]
		a.add(ex, RuleAdmission, report.SeverityError, fmt.Sprintf("%s: admission webhook %s denied them: %s", what, m[1], m[2]),
			"change the pod template as the webhook says, or ask the owner of webhook "+m[1]+" for an exception", details)
	case saMissing.MatchString(msg):
		m := saMissing.FindStringSubmatch(msg)
		ex.Reason = fmt.Sprintf("ServiceAccount %s not found", m[2])
		a.add(ex, RuleNotCreated, report.SeverityError, fmt.Sprintf("%s: ServiceAccount %s/%s does not exist", what, m[1], m[2]),
			fmt.Sprintf("create it: kubectl create serviceaccount %s -n %s, or fix serviceAccountName", m[2], m[1]), details)
	default:
		v := extractAfterForbidden(msg)
		ex.Reason = v
		rule := RuleNotCreated
		if strings.Contains(msg, "is forbidden") {
			rule = RuleAdmission
		}
		fix := "fix the cause the controller reports: kubectl describe " + strings.ToLower(f.kind) + " " + f.name + " -n " + w.Namespace
		if lr := a.limitRangeNames(w.Namespace); len(lr) > 0 && strings.Contains(msg, "must be less than or equal to") && strings.Contains(msg, "limit") {
			// A request above a limit the LimitRange defaulted in.
			rule = RuleLimitRange
			details["limitRanges"] = lr
			fix = fmt.Sprintf("LimitRange %s gives containers without limits a default limit below their request: set resources.limits explicitly (≥ the request) or raise the LimitRange's default", strings.Join(lr, ", "))
		}
		a.add(ex, rule, report.SeverityError, fmt.Sprintf("%s: %s", what, v), fix, details)
	}
}

// extractAfterForbidden keeps the admission reason of
// `Error creating: pods "x" is forbidden: <reason>`.
func extractAfterForbidden(msg string) string {
	if i := strings.Index(msg, "is forbidden: "); i >= 0 {
		return strings.TrimSpace(msg[i+len("is forbidden: "):])
	}
	return strings.TrimSpace(strings.TrimPrefix(msg, "Error creating: "))
}

func (a *analyzer) quota(ns, name string) *corev1.ResourceQuota {
	for _, q := range a.snap.ResourceQuotas {
		if q.Namespace == ns && q.Name == name {
			return q
		}
	}
	return nil
}

func (a *analyzer) limitRangeNames(ns string) []string {
	var out []string
	for _, l := range a.snap.LimitRanges {
		if l.Namespace == ns {
			out = append(out, l.Name)
		}
	}
	return out
}
