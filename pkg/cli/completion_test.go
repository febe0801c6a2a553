package cli

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// completionServer answers LISTs of pods, nodes and namespaces with
// metadata-only lists, and counts the requests.
func completionServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	names := map[string][]string{
		"/api/v1/namespaces/shop/pods":    {"web-1", "web-2", "db-0"},
		"/api/v1/namespaces/default/pods": {"other"},
		"/api/v1/nodes":                   {"node-b", "node-a"},
		"/api/v1/namespaces":              {"default", "shop"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		list, ok := names[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		var items []string
		for _, n := range list {
			items = append(items, fmt.Sprintf(`{"metadata":{"name":%q}}`, n))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{},"items":[%s]}`, strings.Join(items, ","))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: %s}
- name: prod-eu
  cluster: {server: https://prod-eu.example:6443}
users:
- name: admin
  user: {token: t}
contexts:
- name: local
  context: {cluster: local, user: admin}
- name: prod-eu
  context: {cluster: prod-eu, user: admin}
- name: prod-us
  context: {cluster: prod-eu, user: admin, namespace: web}
current-context: local
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// complete runs "<plugin> __complete args..." as the shell (through
// kubectl_complete-<plugin>) does and returns the choices and the directive.
func complete(t *testing.T, configure func(*Common, *cobra.Command), args ...string) (choices []string, directive string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	common := NewCommon(streams)
	cmd := NewRoot("kubectl fake-plugin", "Fake", "Fake plugin.", "")
	cmd.RunE = func(*cobra.Command, []string) error { return nil }
	common.AddFlags(cmd, Features{Namespaced: true, Selector: true})
	if configure != nil {
		configure(common, cmd)
	}
	cmd.SetArgs(append([]string{cobra.ShellCompNoDescRequestCmd}, args...))
	if code := Execute(cmd, streams); code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	srv, _ := completionServer(t)
	kubeconfig := writeKubeconfig(t, srv.URL)
	pods := func(c *Common, cmd *cobra.Command) { c.CompletePods(cmd, 0) }
	twoPods := func(c *Common, cmd *cobra.Command) { c.CompletePods(cmd, 2) }
	nodes := func(c *Common, cmd *cobra.Command) { c.CompleteNodes(cmd, 0) }
	cases := []struct {
		name      string
		configure func(*Common, *cobra.Command)
		args      []string
		want      []string
	}{
		{"pods complete from the namespace given with -n", pods, []string{"-n", "shop", ""}, []string{"db-0", "web-1", "web-2"}},
		{"pods complete from the kubeconfig's namespace without -n", pods, []string{""}, []string{"other"}},
		{"only pods starting with what was typed are offered", pods, []string{"-n", "shop", "we"}, []string{"web-1", "web-2"}},
		{"pods already named are not offered again", pods, []string{"-n", "shop", "web-1", "web"}, []string{"web-2"}},
		{"no pod is offered past the number of arguments a command takes", twoPods, []string{"-n", "shop", "web-1", "db-0", ""}, nil},
		{"TYPE/NAME is left to the user", pods, []string{"-n", "shop", "deploy/"}, nil},
		{"nodes complete cluster-wide", nodes, []string{""}, []string{"node-a", "node-b"}},
		{"--context completes from the kubeconfig's contexts", nil, []string{"--context", "prod"}, []string{"prod-eu", "prod-us"}},
		{"--cluster completes from the kubeconfig's clusters", nil, []string{"--cluster", ""}, []string{"local", "prod-eu"}},
		{"--user completes from the kubeconfig's users", nil, []string{"--user", ""}, []string{"admin"}},
		{"-n completes from the cluster's namespaces", nil, []string{"-n", "s"}, []string{"shop"}},
		{"a command without argument completion offers nothing for arguments", nil, []string{""}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--kubeconfig", kubeconfig}, tc.args...)
			got, directive := complete(t, tc.configure, args...)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("choices %q, want %q", got, tc.want)
			}
			if tc.configure != nil || tc.args[0] != "" {
				if want := fmt.Sprintf(":%d", cobra.ShellCompDirectiveNoFileComp); directive != want {
					t.Errorf("directive %s, want %s (no file names)", directive, want)
				}
			}
		})
	}
}

func TestCompletionAsksTheClusterOnlyWhenItCanOfferSomething(t *testing.T) {
	srv, requests := completionServer(t)
	kubeconfig := writeKubeconfig(t, srv.URL)
	complete(t, func(c *Common, cmd *cobra.Command) { c.CompletePods(cmd, 2) }, "--kubeconfig", kubeconfig, "a", "b", "")
	complete(t, nil, "--kubeconfig", kubeconfig, "--context", "")
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestCompletionAgainstAHungClusterGivesUpWithinTheRequestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn // accepted, never answered
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	kubeconfig := writeKubeconfig(t, "http://"+ln.Addr().String())
	start := time.Now()
	got, directive := complete(t, func(c *Common, cmd *cobra.Command) { c.CompletePods(cmd, 0) },
		"--kubeconfig", kubeconfig, "--request-timeout", "300ms", "")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("completion took %s against a hung server with --request-timeout 300ms", elapsed)
	}
	if len(got) != 0 || directive != fmt.Sprintf(":%d", cobra.ShellCompDirectiveNoFileComp) {
		t.Errorf("choices %q directive %s, want none and no file names", got, directive)
	}
}

func TestCompletionScriptsDoNotTakeOverPositionalArguments(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell+" script is generated", func(t *testing.T) {
			code, stdout, stderr := run(t, nil, nil, "completion", shell)
			if code != 0 || !strings.Contains(stdout, executableName()) || strings.Contains(stdout, "fake-plugin") || stderr != "" {
				t.Errorf("completion %s: exit %d, stderr %q, stdout starts %.80q", shell, code, stderr, stdout)
			}
		})
	}
	t.Run("a positional argument reaches the command", func(t *testing.T) {
		var got []string
		code, _, stderr := run(t, nil, func(c *cobra.Command) {
			c.RunE = func(_ *cobra.Command, args []string) error { got = args; return nil }
		}, "web-1", "web-2")
		if code != 0 || strings.Join(got, ",") != "web-1,web-2" {
			t.Errorf("exit %d, args %q, stderr %q", code, got, stderr)
		}
	})
}
