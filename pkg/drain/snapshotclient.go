package drain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// snapshotClient is a clientset whose requests never leave the process:
// it answers the two reads kubectl's drain Helper makes while it filters
// pods (the node's pods, and a pod's DaemonSet) from the given objects, so
// that kubectl's own code decides. Any other request fails.
func snapshotClient(pods []*corev1.Pod, daemonSets []*appsv1.DaemonSet) (kubernetes.Interface, error) {
	rt := &snapshotTransport{pods: pods, daemonSets: map[string]*appsv1.DaemonSet{}}
	for _, ds := range daemonSets {
		rt.daemonSets[ds.Namespace+"/"+ds.Name] = ds
	}
	cfg := &rest.Config{Host: "http://snapshot.invalid"}
	cfg.ContentType = "application/json"
	return kubernetes.NewForConfigAndClient(cfg, &http.Client{Transport: rt})
}

type snapshotTransport struct {
	pods       []*corev1.Pod
	daemonSets map[string]*appsv1.DaemonSet
}

func (t *snapshotTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	switch {
	case req.Method == http.MethodGet && path == "/api/v1/pods":
		sel, err := labels.Parse(req.URL.Query().Get("labelSelector"))
		if err != nil {
			return status(apierrors.NewBadRequest(err.Error()))
		}
		list := &corev1.PodList{}
		list.APIVersion, list.Kind = "v1", "PodList"
		for _, p := range t.pods {
			if sel.Matches(labels.Set(p.Labels)) {
				list.Items = append(list.Items, *p)
			}
		}
		return ok(list)
	case req.Method == http.MethodGet && strings.HasPrefix(path, "/apis/apps/v1/namespaces/"):
		// /apis/apps/v1/namespaces/{ns}/daemonsets/{name}
		parts := strings.Split(strings.TrimPrefix(path, "/apis/apps/v1/namespaces/"), "/")
		if len(parts) == 3 && parts[1] == "daemonsets" {
			if ds := t.daemonSets[parts[0]+"/"+parts[2]]; ds != nil {
				cp := ds.DeepCopy()
				cp.APIVersion, cp.Kind = "apps/v1", "DaemonSet"
				return ok(cp)
			}
			return status(apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "daemonsets"}, parts[2]))
		}
	}
	return status(apierrors.NewMethodNotSupported(schema.GroupResource{Resource: path}, req.Method))
}

func ok(obj any) (*http.Response, error) { return respond(http.StatusOK, obj) }

func status(err *apierrors.StatusError) (*http.Response, error) {
	st := err.Status()
	st.APIVersion, st.Kind = "v1", "Status"
	return respond(int(st.Code), &st)
}

func respond(code int, obj any) (*http.Response, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": []string{"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b))}, nil
}
