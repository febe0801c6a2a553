package autoscaler

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// cluster-autoscaler's status ConfigMap: kube-system/cluster-autoscaler-status
// (--status-config-map-name), key "status". Up to 1.29 it holds a text
// report ("Cluster-autoscaler status at ...:" then "Cluster-wide:" and
// "NodeGroups:" sections of conditions); since 1.30 a YAML document
// (api.ClusterAutoscalerStatus: time, autoscalerStatus, clusterWide,
// nodeGroups).
const (
	StatusNamespace = "kube-system"
	StatusName      = "cluster-autoscaler-status"
	// StatusUpdatedAnnotation is set on every write of the ConfigMap.
	StatusUpdatedAnnotation = "cluster-autoscaler.kubernetes.io/last-updated"
	// statusTimeLayout is ConfigMapLastUpdateFormat, used for the
	// annotation, the YAML "time" and the text header.
	statusTimeLayout = "2006-01-02 15:04:05.999999999 -0700 MST"
)

// Status layouts.
const (
	LayoutYAML = "yaml"
	LayoutText = "text"
)

// Status is cluster-autoscaler's status ConfigMap, parsed.
type Status struct {
	Layout string
	// Time is when it was written (zero when absent).
	Time time.Time
	// AutoscalerStatus is "Running" or "Initializing" (YAML layout only).
	AutoscalerStatus string
	Message          string
	// ClusterHealth and ClusterScaleUp are the cluster-wide condition
	// statuses: Healthy/Unhealthy; NoActivity/InProgress/...
	ClusterHealth  string
	ClusterScaleUp string
	NodeGroups     []GroupStatus
}

// GroupStatus is one node group in the status. Counts that the status does
// not carry are nil.
type GroupStatus struct {
	Name string
	// Health is Healthy or Unhealthy.
	Health     string
	Ready      *int
	Registered *int
	// Target is the size the cloud provider was asked for
	// (cloudProviderTarget).
	Target  *int
	MinSize *int
	MaxSize *int
	// ScaleUp is NoActivity, InProgress, Backoff, Unhealthy, ...
	ScaleUp      string
	ScaleUpSince time.Time
	// BackoffCode and BackoffMessage explain a Backoff (YAML layout only).
	BackoffCode    string
	BackoffMessage string
}

// ParseStatus reads the "status" value of the ConfigMap in either layout.
func ParseStatus(data string) (Status, error) {
	trimmed := strings.TrimSpace(data)
	if trimmed == "" {
		return Status{}, fmt.Errorf("empty status")
	}
	if strings.HasPrefix(trimmed, "Cluster-autoscaler status at ") || strings.HasPrefix(trimmed, "Cluster-wide:") {
		return parseTextStatus(trimmed)
	}
	return parseYAMLStatus(trimmed)
}

// yamlStatus mirrors the fields of api.ClusterAutoscalerStatus read here.
type yamlStatus struct {
	Time             string `json:"time"`
	AutoscalerStatus string `json:"autoscalerStatus"`
	Message          string `json:"message"`
	ClusterWide      struct {
		Health  yamlCondition `json:"health"`
		ScaleUp yamlCondition `json:"scaleUp"`
	} `json:"clusterWide"`
	NodeGroups []struct {
		Name   string `json:"name"`
		Health struct {
			yamlCondition
			NodeCounts struct {
				Registered struct {
					Total *int `json:"total"`
					Ready *int `json:"ready"`
				} `json:"registered"`
			} `json:"nodeCounts"`
			CloudProviderTarget *int `json:"cloudProviderTarget"`
			MinSize             *int `json:"minSize"`
			MaxSize             *int `json:"maxSize"`
		} `json:"health"`
		ScaleUp struct {
			yamlCondition
			BackoffInfo struct {
				ErrorCode    string `json:"errorCode"`
				ErrorMessage string `json:"errorMessage"`
			} `json:"backoffInfo"`
		} `json:"scaleUp"`
	} `json:"nodeGroups"`
}

type yamlCondition struct {
	Status             string `json:"status"`
	LastTransitionTime string `json:"lastTransitionTime"`
}

func parseYAMLStatus(data string) (Status, error) {
	var y yamlStatus
	if err := yaml.Unmarshal([]byte(data), &y); err != nil {
		return Status{}, fmt.Errorf("neither the text nor the YAML layout: %w", err)
	}
	if y.AutoscalerStatus == "" && y.Time == "" && len(y.NodeGroups) == 0 && y.ClusterWide.Health.Status == "" {
		return Status{}, fmt.Errorf("neither the text nor the YAML layout of cluster-autoscaler's status")
	}
	st := Status{Layout: LayoutYAML, AutoscalerStatus: y.AutoscalerStatus, Message: y.Message,
		ClusterHealth: y.ClusterWide.Health.Status, ClusterScaleUp: y.ClusterWide.ScaleUp.Status}
	st.Time, _ = parseStatusTime(y.Time)
	for _, g := range y.NodeGroups {
		gs := GroupStatus{
			Name: g.Name, Health: g.Health.Status,
			Ready: g.Health.NodeCounts.Registered.Ready, Registered: g.Health.NodeCounts.Registered.Total,
			Target: g.Health.CloudProviderTarget, MinSize: g.Health.MinSize, MaxSize: g.Health.MaxSize,
			ScaleUp: g.ScaleUp.Status, BackoffCode: g.ScaleUp.BackoffInfo.ErrorCode, BackoffMessage: g.ScaleUp.BackoffInfo.ErrorMessage,
		}
		gs.ScaleUpSince, _ = parseStatusTime(g.ScaleUp.LastTransitionTime)
		st.NodeGroups = append(st.NodeGroups, gs)
	}
	return st, nil
}

// parseStatusTime reads the time formats the status uses: RFC 3339 (YAML
// conditions), ConfigMapLastUpdateFormat (YAML "time", the annotation, the
// text header) and time.Time's String (text conditions, which may end in a
// monotonic clock reading "m=+12.3").
func parseStatusTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if f := strings.Fields(s); len(f) >= 4 {
		if t, err := time.Parse(statusTimeLayout, strings.Join(f[:4], " ")); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var (
	textConditionRe = regexp.MustCompile(`^\s*(Health|ScaleUp|ScaleDown):\s+(\S+)(?:\s+\((.*)\))?\s*$`)
	textNameRe      = regexp.MustCompile(`^\s*Name:\s+(.+?)\s*$`)
	textTransition  = regexp.MustCompile(`^\s*LastTransitionTime:\s+(.+?)\s*$`)
	countRe         = regexp.MustCompile(`\b([A-Za-z]+)=(\d+)`)
)

// parseTextStatus reads the layout of cluster-autoscaler up to 1.29:
//
//	Cluster-autoscaler status at 2023-05-02 10:01:02.5 +0000 UTC:
//	Cluster-wide:
//	  Health:      Healthy (ready=3 unready=0 ... registered=3 longUnregistered=0)
//	               LastProbeTime:      2023-05-02 10:01:02.4 +0000 UTC m=+99.1
//	               LastTransitionTime: 2023-05-02 09:00:00.1 +0000 UTC m=+1.2
//	  ScaleUp:     NoActivity (ready=3 registered=3)
//	  ...
//	NodeGroups:
//	  Name:        workers
//	  Health:      Healthy (ready=3 ... cloudProviderTarget=3 (minSize=1, maxSize=3))
//	  ScaleUp:     Backoff (ready=3 cloudProviderTarget=3)
//	  ...
func parseTextStatus(data string) (Status, error) {
	st := Status{Layout: LayoutText}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	section := ""
	var group *GroupStatus
	lastCondition := ""
	flush := func() {
		if group != nil {
			if group.Name == "" {
				// Releases that printed no Name line: number the groups.
				group.Name = fmt.Sprintf("node group %d", len(st.NodeGroups)+1)
			}
			st.NodeGroups = append(st.NodeGroups, *group)
			group = nil
		}
	}
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "Cluster-autoscaler status at "):
			st.Time, _ = parseStatusTime(strings.TrimSuffix(strings.TrimPrefix(trimmed, "Cluster-autoscaler status at "), ":"))
			continue
		case trimmed == "Cluster-wide:":
			section = "cluster"
			continue
		case trimmed == "NodeGroups:":
			section = "groups"
			continue
		}
		if section == "groups" {
			if m := textNameRe.FindStringSubmatch(line); m != nil {
				flush()
				group = &GroupStatus{Name: m[1]}
				continue
			}
		}
		if m := textTransition.FindStringSubmatch(line); m != nil {
			if group != nil && lastCondition == "ScaleUp" {
				group.ScaleUpSince, _ = parseStatusTime(m[1])
			}
			continue
		}
		m := textConditionRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lastCondition = m[1]
		switch section {
		case "cluster":
			switch m[1] {
			case "Health":
				st.ClusterHealth = m[2]
			case "ScaleUp":
				st.ClusterScaleUp = m[2]
			}
		case "groups":
			if group == nil {
				// Releases before the Name line: groups start at Health.
				if m[1] != "Health" {
					continue
				}
				group = &GroupStatus{}
			} else if m[1] == "Health" && group.Health != "" {
				flush()
				group = &GroupStatus{}
			}
			counts := parseCounts(m[3])
			switch m[1] {
			case "Health":
				group.Health = m[2]
				group.Ready = counts["ready"]
				group.Registered = counts["registered"]
				group.Target = counts["cloudProviderTarget"]
				group.MinSize = counts["minSize"]
				group.MaxSize = counts["maxSize"]
			case "ScaleUp":
				group.ScaleUp = m[2]
				if group.Target == nil {
					group.Target = counts["cloudProviderTarget"]
				}
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return Status{}, err
	}
	if section == "" {
		return Status{}, fmt.Errorf("no Cluster-wide section in the text layout")
	}
	return st, nil
}

func parseCounts(s string) map[string]*int {
	out := map[string]*int{}
	for _, m := range countRe.FindAllStringSubmatch(s, -1) {
		if n, err := strconv.Atoi(m[2]); err == nil {
			out[m[1]] = ptr(n)
		}
	}
	return out
}
