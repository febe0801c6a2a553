package whypending

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/version"
)

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	code := cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestBadFlagCombinationsAreUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"--cluster-state without -f": {"--cluster-state", "x.yaml"},
		"names with -f":              {"-f", "testdata/ci", "web"},
		"names with -A":              {"-A", "web"},
		"names with -l":              {"-l", "app=web", "web"},
		"an unsupported TYPE/NAME":   {"svc/web"},
		"an unknown output format":   {"-o", "xml"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCmd(t, args...)
			if code != 2 || out != "" || !strings.HasPrefix(errOut, "error: ") || strings.Count(errOut, "\n") > 2 {
				t.Errorf("want exit 2 and a one-line error, got %d\nstdout: %q\nstderr: %q", code, out, errOut)
			}
		})
	}
}

// CI mode against a dump needs no cluster at all.
func TestManifestsAgainstAClusterStateFile(t *testing.T) {
	out, errOut, code := runCmd(t, "-f", "testdata/ci", "--cluster-state", "testdata/state.yaml", "-n", "shop", "-o", "wide")
	if code != 1 {
		t.Fatalf("a 2-cpu pod fits neither node: want exit 1, got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s).",
		"testdata/ci/api.yaml:1",
		"lower resources.requests.cpu from 2 to at most 1 (fits on node-a)",
		`- key: "dedicated"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAMissingClusterStateFileIsAnError(t *testing.T) {
	_, errOut, code := runCmd(t, "-f", "testdata/ci", "--cluster-state", "testdata/nope.yaml")
	if code != 2 || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("got %d %q", code, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	base := []string{"-f", "testdata/ci", "--cluster-state", "testdata/state.yaml", "-n", "shop"}
	cases := []struct {
		name  string
		extra []string
		want  int
	}{
		{"a pod that would be Pending exits 1", nil, 1},
		{"--fail-on never exits 0", []string{"--fail-on", "never"}, 0},
		{"suppressing its findings still reports the Pending pod", []string{"--ignore", "WP110,WP111,WP113"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, append(append([]string{}, base...), tc.extra...)...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tc.want, out, errOut)
			}
		})
	}
	out, _, code := runCmd(t, "-f", "testdata/ci", "--cluster-state", "testdata/state.yaml", "-n", "shop", "--set-nothing")
	if code != 2 || out != "" {
		t.Errorf("unknown flag: exit %d", code)
	}
}

// A dump of a cluster without claims holds none, which means none: a pod
// whose claim is not in it is refused, as the scheduler refuses it.
func TestAClaimMissingFromTheClusterStateIsMissing(t *testing.T) {
	dir := t.TempDir()
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop}
spec:
  containers: [{name: c, image: postgres, resources: {requests: {cpu: 100m}}}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: nope}}]
`
	if err := os.WriteFile(filepath.Join(dir, "db.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "-f", dir, "--cluster-state", "testdata/state.yaml", "-n", "shop")
	if code != 1 || !strings.Contains(out, `VolumeBinding   PersistentVolumeClaim "nope" not found`) {
		t.Fatalf("want exit 1 and the scheduler's missing-claim reason, got %d\n%s\n%s", code, out, errOut)
	}
}

// CI mode renders every output format from the manifests and the dump;
// the SARIF and JUnit results point at the manifest's file and line.
func TestCIGoldenOutput(t *testing.T) {
	version.Version = "dev"
	for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := runCmd(t, "-f", "testdata/ci", "--cluster-state", "testdata/state.yaml", "-n", "shop", "-o", format, "--color", "never")
			if code != cli.ExitFound || errOut != "" {
				t.Fatalf("exit %d, stderr %q: want exit 1 (the pod would be Pending) and no warning", code, errOut)
			}
			golden.Assert(t, filepath.Join("testdata", "ci."+format+".golden"), []byte(out))
			if format == "sarif" {
				golden.SARIF(t, []byte(out))
			}
		})
	}
}
