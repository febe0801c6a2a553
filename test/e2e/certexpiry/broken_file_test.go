package certexpiry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// A file named with -f that cannot be read or parsed stops the run: one
// line FILE:LINE: what is wrong on stderr, nothing on stdout, exit 2. The
// same files found inside a directory stay warnings beside the report.
func TestABrokenFileNamedWithFIsAnError(t *testing.T) {
	c := cluster(t)
	dir := t.TempDir()
	files := map[string]string{
		// The broken block starts on line 3, after a comment a tool left.
		"broken.crt": "# issued by the old CA\n\n-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n",
		// A manifest whose YAML breaks on line 4.
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [tls\ntype: kubernetes.io/tls\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := framework.RunOptions{Env: []string{"KUBECONFIG=/nonexistent"}}
	for name, line := range map[string]string{"broken.crt": ":3: ", "secret.yaml": ":4: "} {
		path := filepath.Join(dir, name)
		res := c.RunWith(t, env, binary, "-f", path)
		lines := strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n")
		if res.Code != 2 || res.Stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: "+path+line) {
			t.Errorf("-f %s: want exit 2 and one line \"error: %s%s...\"\n%s", name, path, line, res)
		}
		if n := strings.Count(res.Stderr, path); n != 1 {
			t.Errorf("-f %s: the path is printed %d times\n%s", name, n, res)
		}
	}

	// Inside a directory they are skipped with a warning, and the run
	// reports what it could read.
	d, res := run(t, c, []string{"KUBECONFIG=/nonexistent"}, "-f", dir, "--fail-on", "never")
	if res.Code != 0 || !d.has("CE113", filepath.Join(dir, "broken.crt")) {
		t.Errorf("in a directory a broken file is a CE113 warning, exit 0: %v\n%s", d.rules(), res)
	}
}
