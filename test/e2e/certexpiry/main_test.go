// Package certexpiry runs kubectl cert-expiry against a local control plane
// whose API server serves a chain generated here with known dates (root CA →
// intermediate → serving certificate), and against Secrets, ConfigMaps,
// webhook caBundles, kubeconfigs and a kubeadm-layout PKI generated at test
// time. Every reported notAfter is compared with the generated one.
package certexpiry

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ktriage-e2e-certexpiry-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	pki, err := certtest.NewServingPKI(time.Now())
	if err == nil {
		err = pki.Write(filepath.Join(dir, "serving"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: generating the serving certificates:", err)
		os.Exit(2)
	}
	servingDir = dir
	framework.Main(m, framework.Options{Name: "certexpiry", Nodes: 1, Zones: 1,
		Env: []string{"KTRIAGE_APISERVER_TLS_DIR=" + filepath.Join(dir, "serving")}})
}

// servingDir holds the generated chain until the cluster has copied it.
var servingDir string
