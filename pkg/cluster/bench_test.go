package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podManifest writes n realistic pods as one multi-document YAML file.
func podManifest(tb testing.TB, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata:
  name: web-%d
  namespace: ns-%d
  labels:
    app: web
    pod-template-hash: 5d9c7b6f4
  annotations:
    ktriage.io/ignore: "QA101"
spec:
  nodeName: node-%d
  priorityClassName: high
  tolerations:
  - key: node.kubernetes.io/not-ready
    operator: Exists
    effect: NoExecute
    tolerationSeconds: 300
  containers:
  - name: web
    image: registry.example.com/web:1.2.3
    ports:
    - containerPort: 8080
      protocol: TCP
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: 500m, memory: 256Mi}
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 5
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data-web-%d
status:
  phase: Running
  qosClass: Burstable
`, i, i%20, i%100, i)
	}
	p := filepath.Join(tb.TempDir(), "pods.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func BenchmarkLoadFiles(b *testing.B) {
	p := podManifest(b, 5000)
	b.ResetTimer()
	for b.Loop() {
		s, err := LoadFiles(FileOptions{Filenames: []string{p}})
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Pods) != 5000 {
			b.Fatalf("got %d pods", len(s.Pods))
		}
	}
}
