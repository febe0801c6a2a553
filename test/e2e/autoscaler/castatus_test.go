package autoscaler_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// cluster-autoscaler's status ConfigMap, as clusterstate/utils.WriteStatusConfigMap
// writes it.
const (
	statusNamespace  = "kube-system"
	statusName       = "cluster-autoscaler-status"
	lastUpdatedKey   = "cluster-autoscaler.kubernetes.io/last-updated"
	lastUpdateFormat = "2006-01-02 15:04:05.999999999 -0700 MST"
)

// group is one node group of the status.
type group struct {
	name                    string
	ready, target           int
	min, max                int
	scaleUp                 string // NoActivity, InProgress, Backoff
	backoffCode, backoffMsg string
	scaleUpSince            time.Time
}

// The YAML layout (1.30 and later) is sigs.k8s.io/yaml of
// api.ClusterAutoscalerStatus; these types carry its field names.
type caStatus struct {
	Time             string          `json:"time,omitempty"`
	AutoscalerStatus string          `json:"autoscalerStatus,omitempty"`
	Message          string          `json:"message,omitempty"`
	ClusterWide      caClusterWide   `json:"clusterWide,omitempty"`
	NodeGroups       []caNodeGroupSt `json:"nodeGroups,omitempty"`
}

type caClusterWide struct {
	Health    caHealth    `json:"health,omitempty"`
	ScaleUp   caScaleUp   `json:"scaleUp,omitempty"`
	ScaleDown caScaleDown `json:"scaleDown,omitempty"`
}

type caNodeCount struct {
	Registered struct {
		Total      int `json:"total"`
		Ready      int `json:"ready"`
		NotStarted int `json:"notStarted"`
		Unready    struct {
			Total           int `json:"total"`
			ResourceUnready int `json:"resourceUnready"`
		} `json:"unready,omitempty"`
	} `json:"registered,omitempty"`
	LongUnregistered int `json:"longUnregistered"`
	Unregistered     int `json:"unregistered"`
}

type caHealth struct {
	Status              string      `json:"status,omitempty"`
	NodeCounts          caNodeCount `json:"nodeCounts,omitempty"`
	CloudProviderTarget *int        `json:"cloudProviderTarget,omitempty"`
	MinSize             *int        `json:"minSize,omitempty"`
	MaxSize             *int        `json:"maxSize,omitempty"`
	LastProbeTime       metav1.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime  metav1.Time `json:"lastTransitionTime,omitempty"`
}

type caScaleUp struct {
	Status      string `json:"status,omitempty"`
	BackoffInfo *struct {
		ErrorCode    string `json:"errorCode,omitempty"`
		ErrorMessage string `json:"errorMessage,omitempty"`
	} `json:"backoffInfo,omitempty"`
	LastProbeTime      metav1.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

type caScaleDown struct {
	Status             string      `json:"status,omitempty"`
	Candidates         int         `json:"candidates,omitempty"`
	LastProbeTime      metav1.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

type caNodeGroupSt struct {
	Name      string      `json:"name,omitempty"`
	Health    caHealth    `json:"health,omitempty"`
	ScaleUp   caScaleUp   `json:"scaleUp,omitempty"`
	ScaleDown caScaleDown `json:"scaleDown,omitempty"`
}

// yamlStatus renders the status of 1.30 and later.
func yamlStatus(t *testing.T, written time.Time, groups []group) string {
	t.Helper()
	probe := metav1.NewTime(written.Truncate(time.Second))
	since := metav1.NewTime(written.Add(-time.Hour).Truncate(time.Second))
	st := caStatus{Time: written.Format(lastUpdateFormat), AutoscalerStatus: "Running"}
	total := 0
	for _, g := range groups {
		total += g.ready
	}
	st.ClusterWide.Health = caHealth{Status: "Healthy", LastProbeTime: probe, LastTransitionTime: since}
	st.ClusterWide.Health.NodeCounts.Registered.Total = total
	st.ClusterWide.Health.NodeCounts.Registered.Ready = total
	st.ClusterWide.ScaleUp = caScaleUp{Status: "NoActivity", LastProbeTime: probe, LastTransitionTime: since}
	st.ClusterWide.ScaleDown = caScaleDown{Status: "NoCandidates", LastProbeTime: probe, LastTransitionTime: since}
	for _, g := range groups {
		ng := caNodeGroupSt{Name: g.name}
		ng.Health = caHealth{Status: "Healthy", CloudProviderTarget: &g.target, MinSize: &g.min, MaxSize: &g.max, LastProbeTime: probe, LastTransitionTime: since}
		ng.Health.NodeCounts.Registered.Total = g.ready
		ng.Health.NodeCounts.Registered.Ready = g.ready
		ng.ScaleUp = caScaleUp{Status: g.scaleUp, LastProbeTime: probe, LastTransitionTime: metav1.NewTime(g.scaleUpSince.Truncate(time.Second))}
		if g.scaleUp == "Backoff" {
			ng.ScaleUp.BackoffInfo = &struct {
				ErrorCode    string `json:"errorCode,omitempty"`
				ErrorMessage string `json:"errorMessage,omitempty"`
			}{g.backoffCode, g.backoffMsg}
		}
		ng.ScaleDown = caScaleDown{Status: "NoCandidates", LastProbeTime: probe, LastTransitionTime: since}
		st.NodeGroups = append(st.NodeGroups, ng)
	}
	b, err := yaml.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// textStatus renders the layout up to 1.29 (ClusterAutoscalerStatus's
// GetReadableString under the "Cluster-autoscaler status at" header;
// conditions print their times with time.Time's String).
func textStatus(written time.Time, groups []group) string {
	var b bytes.Buffer
	since := written.Add(-time.Hour)
	cond := func(typ, status, msg string, transition time.Time) {
		fmt.Fprintf(&b, "  %-12v %v (%s)\n", typ+":", status, msg)
		fmt.Fprintf(&b, "  %13sLastProbeTime:      %v\n", "", written)
		fmt.Fprintf(&b, "  %13sLastTransitionTime: %v\n", "", transition)
	}
	total := 0
	for _, g := range groups {
		total += g.ready
	}
	fmt.Fprintf(&b, "Cluster-autoscaler status at %s:\n", written.Format(lastUpdateFormat))
	b.WriteString("Cluster-wide:\n")
	cond("Health", "Healthy", fmt.Sprintf("ready=%d unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=%d longUnregistered=0", total, total), since)
	cond("ScaleUp", "NoActivity", fmt.Sprintf("ready=%d registered=%d", total, total), since)
	cond("ScaleDown", "NoCandidates", "candidates=0", since)
	b.WriteString("\nNodeGroups:\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "  Name:        %v\n", g.name)
		cond("Health", "Healthy", fmt.Sprintf("ready=%d unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=%d longUnregistered=0 cloudProviderTarget=%d (minSize=%d, maxSize=%d)", g.ready, g.ready, g.target, g.min, g.max), since)
		cond("ScaleUp", g.scaleUp, fmt.Sprintf("ready=%d cloudProviderTarget=%d", g.ready, g.target), g.scaleUpSince)
		cond("ScaleDown", "NoCandidates", "candidates=0", since)
		b.WriteString("\n")
	}
	return b.String()
}

// writeStatus creates or updates the status ConfigMap, written at the
// time given, and removes it when the test ends.
func writeStatus(t *testing.T, c *framework.Cluster, status string, written time.Time) {
	t.Helper()
	cms := c.Client.CoreV1().ConfigMaps(statusNamespace)
	stamp := written.Format(lastUpdateFormat)
	cm, err := cms.Get(ctx(t), statusName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: statusNamespace, Name: statusName, Annotations: map[string]string{lastUpdatedKey: stamp}},
			Data:       map[string]string{"status": status},
		}
		if _, err := cms.Create(ctx(t), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteConfigMap(t, c, statusNamespace, statusName) })
	case err != nil:
		t.Fatal(err)
	default:
		cm.Data["status"] = status
		cm.Annotations[lastUpdatedKey] = stamp
		if _, err := cms.Update(ctx(t), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// statusRef is the ConfigMap cluster-autoscaler records its own events on.
func statusRef(t *testing.T, c *framework.Cluster) corev1.ObjectReference {
	cm, err := c.Client.CoreV1().ConfigMaps(statusNamespace).Get(ctx(t), statusName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return corev1.ObjectReference{Kind: "ConfigMap", Namespace: statusNamespace, Name: statusName, UID: cm.UID, APIVersion: "v1", ResourceVersion: cm.ResourceVersion}
}
