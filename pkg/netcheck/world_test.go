package netcheck

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// load reads manifests the way -f does, into namespace shop by default.
func load(t *testing.T, manifests string) *cluster.Snapshot {
	t.Helper()
	s, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{"-"}, Stdin: strings.NewReader(manifests)})
	if err != nil {
		t.Fatal(err)
	}
	s.DefaultNamespace("shop")
	return s
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers: [{name: c, image: web, ports: [{name: http, containerPort: 8080}]}]
`

const webService = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: admin, port: 9000, targetPort: admin}]
`

// livePod is a running, ready pod of the cluster.
func livePod(name string, lbls map[string]string, ip string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: lbls},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

func liveSlice(svc string, ip, pod string, port int32) *discoveryv1.EndpointSlice {
	ready, name, tcp := true, "http", corev1.ProtocolTCP
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: svc + "-live", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Ports:     []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &tcp}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod}}}}
}

func TestAWorkloadOfTheFilesIsOnePodBuiltFromItsTemplate(t *testing.T) {
	cases := []struct {
		name      string
		manifest  string
		kind      string
		wantLabel map[string]string
	}{
		{"a Deployment's pod has the template's labels", webDeployment, WorkloadDeployment, map[string]string{"app": "web", "tier": "front"}},
		{"a Job's pod has the labels the Job controller adds", `apiVersion: batch/v1
kind: Job
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {restartPolicy: Never, containers: [{name: c, image: web}]}
`, WorkloadJob, map[string]string{"app": "web", "batch.kubernetes.io/job-name": "web", "job-name": "web"}},
		{"a StatefulSet's pod is its first replica", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: web}]}
`, WorkloadStatefulSet, map[string]string{"app": "web", "statefulset.kubernetes.io/pod-name": "web-0"}},
		{"a CronJob's pod comes from its job template", `apiVersion: batch/v1
kind: CronJob
metadata: {name: web}
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: web}}
        spec: {restartPolicy: Never, containers: [{name: c, image: web}]}
`, WorkloadCronJob, map[string]string{"app": "web"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(nil, load(t, c.manifest), true)
			wl := w.Workload(c.kind, "shop", "web")
			if wl == nil || wl.Pod == nil || !wl.Predicted || !wl.FromFiles {
				t.Fatalf("workload %+v: want a built pod from the files", wl)
			}
			p := wl.Pod
			if p.Name != "web" || p.Namespace != "shop" || p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "" || !isRunningReady(p) {
				t.Errorf("pod %s/%s phase %s ip %q: want shop/web Running and Ready without an IP", p.Namespace, p.Name, p.Status.Phase, p.Status.PodIP)
			}
			for k, v := range c.wantLabel {
				if p.Labels[k] != v {
					t.Errorf("label %s = %q, want %q (labels %v)", k, p.Labels[k], v, p.Labels)
				}
			}
			if wl.Source == nil || wl.Source.File != cluster.StdinName || wl.Source.Line != 1 {
				t.Errorf("source %+v: want the manifest's line", wl.Source)
			}
			if got := w.Snapshot.Pod("shop", "web"); got != p || !w.Predicted(got) || w.WorkloadOf(got) != wl {
				t.Errorf("the snapshot's pod shop/web is %v, want the built pod", got)
			}
		})
	}
}

func TestTheClustersPodsOfAReplacedWorkloadAreDropped(t *testing.T) {
	state := &cluster.Snapshot{
		Deployments: load(t, strings.ReplaceAll(webDeployment, "{app: web}}", "{app: web-old}}")).Deployments,
		Pods:        []*corev1.Pod{livePod("web-6f8-abc", map[string]string{"app": "web-old"}, "10.0.0.5"), livePod("other", map[string]string{"app": "other"}, "10.0.0.6")},
	}
	w := NewWorld(state, load(t, webDeployment), false)
	var names []string
	for _, p := range w.Snapshot.Pods {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "web,other" {
		t.Errorf("pods %v: want the built web pod and the unrelated pod, not the old version's pod", names)
	}
}

func TestAServiceGetsTheEndpointSlicesTheControllerWouldWrite(t *testing.T) {
	cases := []struct {
		name     string
		state    *cluster.Snapshot
		files    string
		complete bool
		// want: the slices' endpoints as pod@port for the http port.
		want string
	}{
		{"a Service of the files selects the built pod on its named port", nil, webDeployment + "---\n" + webService, true, "web@8080"},
		{"a Service of the cluster selecting a built pod is predicted again",
			&cluster.Snapshot{Services: load(t, webService).Services, EndpointSlices: []*discoveryv1.EndpointSlice{liveSlice("web", "10.0.0.9", "web-old", 8080)}},
			webDeployment, false, "web@8080"},
		{"a Service of the cluster whose backends did not change keeps its slices",
			&cluster.Snapshot{Services: load(t, webService).Services, Pods: []*corev1.Pod{livePod("web-1", map[string]string{"app": "web"}, "10.0.0.9")},
				EndpointSlices: []*discoveryv1.EndpointSlice{liveSlice("web", "10.0.0.9", "web-1", 8080)}},
			`apiVersion: v1
kind: Namespace
metadata: {name: shop}
`, false, "web-1@8080"},
		{"in a dump a Service without slices gets them predicted from its pods",
			&cluster.Snapshot{Services: load(t, webService).Services, Pods: []*corev1.Pod{livePod("web-1", map[string]string{"app": "web"}, "10.0.0.9")}},
			`apiVersion: v1
kind: Namespace
metadata: {name: shop}
`, true, "web-1@8080"},
		{"the files' own EndpointSlices win over a prediction", nil, webDeployment + "---\n" + webService + `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-given, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 9999, protocol: TCP}]
endpoints: [{addresses: [10.1.1.1], conditions: {ready: true}, targetRef: {kind: Pod, name: given}}]
`, true, "given@9999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(c.state, load(t, c.files), c.complete)
			var got []string
			for _, s := range w.Snapshot.EndpointSlices {
				if s.Labels[discoveryv1.LabelServiceName] != "web" {
					continue
				}
				for _, p := range s.Ports {
					if p.Name != nil && *p.Name == "http" {
						for _, e := range s.Endpoints {
							got = append(got, e.TargetRef.Name+"@"+itoa(*p.Port))
						}
					}
				}
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("endpoints %v, want %s", got, c.want)
			}
		})
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestAPredictedSliceLeavesOutAPortThePodCannotResolve(t *testing.T) {
	w := NewWorld(nil, load(t, webDeployment+"---\n"+webService), true)
	svc := w.Snapshot.Service("shop", "web")
	a := AnalyzeService(svc, w.Snapshot.EndpointSlices, w.Snapshot.Pods, 9000, "", corev1.ProtocolTCP)
	if !a.Has(ProblemNamedPortMissing) || !a.Has(ProblemNoEndpoints) {
		t.Errorf("problems %+v: the admin port names a port the pod lacks, as the live controller would leave it without endpoints", a.Problems)
	}
	a = AnalyzeService(svc, w.Snapshot.EndpointSlices, w.Snapshot.Pods, 80, "", corev1.ProtocolTCP)
	if len(a.Problems) != 0 || a.Ready != 1 || a.Endpoints[0].Pod != "web" || a.Endpoints[0].Port != 8080 {
		t.Errorf("analysis %+v: want one ready endpoint web:8080 and no problem", a)
	}
}

func TestADumpedWorkloadWithoutPodsIsBuiltUnlessScaledToZero(t *testing.T) {
	dump := load(t, webDeployment+`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: idle}
spec:
  replicas: 0
  selector: {matchLabels: {app: idle}}
  template:
    metadata: {labels: {app: idle}}
    spec: {containers: [{name: c, image: idle}]}
`)
	w := NewWorld(dump, nil, true)
	if wl := w.Workload(WorkloadDeployment, "shop", "web"); wl == nil || !wl.Predicted || wl.FromFiles {
		t.Errorf("web: %+v, want a built pod for a dumped Deployment without pods", wl)
	}
	if wl := w.Workload(WorkloadDeployment, "shop", "idle"); wl == nil || wl.Pod != nil {
		t.Errorf("idle: %+v, want no pod for a Deployment scaled to zero", wl)
	}
	// Live state is not all there is: a workload without pods there has none.
	if wl := NewWorld(dump, nil, false).Workload(WorkloadDeployment, "shop", "web"); wl == nil || wl.Pod != nil {
		t.Errorf("live web: %+v, want no pod", wl)
	}
}

func TestAClusterWorkloadStandsForItsFirstReadyPod(t *testing.T) {
	state := &cluster.Snapshot{Deployments: load(t, webDeployment).Deployments,
		Pods: []*corev1.Pod{livePod("web-b", map[string]string{"app": "web"}, "10.0.0.7"), livePod("web-a", map[string]string{"app": "web"}, "10.0.0.8")}}
	state.Pods[1].Status.Conditions[0].Status = corev1.ConditionFalse
	wl := NewWorld(state, nil, false).Workload(WorkloadDeployment, "shop", "web")
	if wl == nil || wl.Predicted || len(wl.Pods) != 2 || wl.Pod == nil || wl.Pod.Name != "web-b" {
		t.Errorf("workload %+v: want both pods and web-b, the ready one", wl)
	}
}

func TestABarePodOfTheFilesRuns(t *testing.T) {
	w := NewWorld(nil, load(t, `apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {containers: [{name: c, image: client}]}
`), true)
	wl := w.Workload(WorkloadPod, "shop", "client")
	if wl == nil || !wl.Predicted || !isRunningReady(wl.Pod) || w.Snapshot.Pod("shop", "client") != wl.Pod {
		t.Errorf("workload %+v: want the manifest pod Running and Ready in the snapshot", wl)
	}
}
