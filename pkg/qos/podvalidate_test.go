package qos

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func messages(errs []ResourceError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Message)
	}
	return out
}

func TestValidatePodResources(t *testing.T) {
	cases := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"requests at or below limits are valid",
			pod(c("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "1Gi"))), nil},
		{"a request above its limit",
			pod(c("a", rl("cpu", "1"), nil), c("b", rl("memory", "2Gi"), rl("memory", "1Gi"))),
			[]string{`spec.containers[1].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`}},
		{"init containers too",
			pod(initC("i", rl("cpu", "2"), rl("cpu", "1")), c("a", nil, nil)),
			[]string{`spec.initContainers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{"hugepages request must equal the limit",
			pod(c("a", rl("memory", "1Gi", "hugepages-2Mi", "2Mi"), rl("memory", "1Gi", "hugepages-2Mi", "4Mi"))),
			[]string{`spec.containers[0].resources.requests: Invalid value: "2Mi": must be equal to hugepages-2Mi limit of 4Mi`}},
		{"an extended resource needs a limit",
			pod(c("a", rl("example.com/gpu", "1"), nil)),
			[]string{`spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources`}},
		{"pod-level requests below the containers' aggregate",
			withPodLevel(pod(c("a", rl("memory", "1Gi"), nil), c("b", rl("memory", "1Gi"), nil)), rl("memory", "1Gi"), nil),
			[]string{`spec.resources.requests[memory]: Invalid value: "1Gi": must be greater than or equal to aggregate container requests of 2Gi`}},
		{"a container limit above the pod-level limit",
			withPodLevel(pod(c("a", rl("cpu", "1"), rl("cpu", "2"))), rl("cpu", "1"), rl("cpu", "1")),
			[]string{`spec.resources.containers[0][cpu].limits: Invalid value: "2": must be less than or equal to pod limits of 1`}},
		{"a pod-level request above the pod-level limit",
			withPodLevel(pod(c("a", nil, nil)), rl("memory", "2Gi"), rl("memory", "1Gi")),
			[]string{`spec.resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := messages(ValidatePodResources(tc.pod)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAdmitRefusesWhatLimitRangeDefaultsMakeInvalid(t *testing.T) {
	t.Run("a default limit below the manifest's request", func(t *testing.T) {
		lr := limitRange("defaults", containerItem(rl("memory", "512Mi"), nil, nil, nil))
		a := Admit(pod(c("app", rl("memory", "1Gi"), nil)), []*corev1.LimitRange{lr})
		if len(a.Invalid) != 1 || !a.Refused() {
			t.Fatalf("invalid %+v", a.Invalid)
		}
		e := a.Invalid[0]
		if want := `spec.containers[0].resources.requests: Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi`; e.Message != want {
			t.Errorf("message %q\nwant %q", e.Message, want)
		}
		if want := []string{"memory limit 512Mi set by the default of LimitRange defaults"}; !reflect.DeepEqual(e.Defaulted, want) {
			t.Errorf("defaulted %q", e.Defaulted)
		}
		if s := e.String(); !strings.Contains(s, "container app") || !strings.Contains(s, "LimitRange defaults") {
			t.Errorf("string %q", s)
		}
	})
	t.Run("a default container limit above the pod-level limit names the container", func(t *testing.T) {
		lr := limitRange("lr", containerItem(rl("cpu", "2"), rl("cpu", "100m"), nil, nil))
		p := withPodLevel(pod(c("app", nil, nil), c("side", rl("cpu", "100m"), rl("cpu", "500m"))), nil, rl("cpu", "1"))
		a := Admit(p, []*corev1.LimitRange{lr})
		if got := messages(a.Invalid); !reflect.DeepEqual(got, []string{`spec.resources.containers[0][cpu].limits: Invalid value: "2": must be less than or equal to pod limits of 1`}) {
			t.Fatalf("got %q", got)
		}
		if want := []string{"cpu limit 2 set by the default of LimitRange lr"}; !reflect.DeepEqual(a.Invalid[0].Defaulted, want) {
			t.Errorf("defaulted %q", a.Invalid[0].Defaulted)
		}
	})
	t.Run("without LimitRanges a valid manifest stays valid", func(t *testing.T) {
		if a := Admit(pod(c("app", rl("memory", "1Gi"), nil)), nil); a.Refused() {
			t.Errorf("refused: %+v", a.Invalid)
		}
	})
}
