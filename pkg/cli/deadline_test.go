package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/inflight"
)

// bounded builds a plugin-like command whose run is fn under RunBounded,
// executes it with args and returns what a user sees.
func bounded(t *testing.T, fn func(*Common, context.Context) error, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	c := NewCommon(streams)
	cmd := NewRoot("kubectl fake-plugin", "Fake", "Fake plugin.", "")
	c.AddFlags(cmd, Features{Namespaced: true})
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := c.Validate(); err != nil {
			return err
		}
		return c.RunBounded(cmd.Context(), func(ctx context.Context) error { return fn(c, ctx) })
	}
	cmd.SetArgs(args)
	start := time.Now()
	code = Execute(cmd, streams)
	return code, errOut.String(), time.Since(start)
}

func TestRunBoundedNamesWhatWasPending(t *testing.T) {
	code, stderr, took := bounded(t, func(_ *Common, ctx context.Context) error {
		defer inflight.Begin(ctx, "list pods in namespace x")()
		<-ctx.Done()
		return ctx.Err()
	}, "--deadline", "200ms")
	want := "error: no result within --deadline 200ms; still waiting for: list pods in namespace x; check that the cluster is healthy, or raise --deadline\n"
	if code != ExitFailure || stderr != want {
		t.Errorf("got exit %d, stderr %q; want exit 2, %q", code, stderr, want)
	}
	if took > 2*time.Second {
		t.Errorf("took %s for a 200ms deadline", took)
	}
}

func TestRunBoundedGivesUpOnACallThatIgnoresItsContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	code, stderr, took := bounded(t, func(_ *Common, ctx context.Context) error {
		defer inflight.Begin(ctx, "credentials from the exec plugin")()
		<-block
		return nil
	}, "--deadline", "100ms")
	if code != ExitFailure || !strings.Contains(stderr, "still waiting for: credentials from the exec plugin") {
		t.Errorf("got exit %d, stderr %q; want exit 2 naming the blocked call", code, stderr)
	}
	if took > 100*time.Millisecond+abandonGrace+time.Second {
		t.Errorf("took %s: the blocked run held the command past the deadline and its grace", took)
	}
}

func TestRunBoundedKeepsAPrintedPartialResult(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ret      error
		wantCode int
	}{
		{"a report printed after the deadline exits 0", nil, ExitOK},
		{"a report with findings printed after the deadline exits 1", Found(), ExitFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr, _ := bounded(t, func(_ *Common, ctx context.Context) error {
				<-ctx.Done()
				return tc.ret
			}, "--deadline", "50ms")
			if code != tc.wantCode || stderr != "" {
				t.Errorf("got exit %d, stderr %q; want exit %d and nothing on stderr", code, stderr, tc.wantCode)
			}
		})
	}
}

func TestRunBoundedReportsAnInterrupt(t *testing.T) {
	c := NewCommon(genericiooptions.IOStreams{})
	parent, cancel := context.WithCancelCause(context.Background())
	err := c.RunBounded(parent, func(ctx context.Context) error {
		defer inflight.Begin(ctx, "the probe container p1 in pod x/src")()
		cancel(interrupted{os.Interrupt})
		<-ctx.Done()
		return ctx.Err()
	})
	want := "interrupted by SIGINT; still waiting for: the probe container p1 in pod x/src"
	if err == nil || err.Error() != want || ExitCode(err) != ExitFailure {
		t.Errorf("got %v (exit %d), want %q (exit 2)", err, ExitCode(err), want)
	}
}

// TestRunBoundedAgainstAServerThatNeverAnswers runs a real list against an
// HTTP server that accepts requests and never answers: the deadline, shorter
// than the request timeout, ends it and names the list.
func TestRunBoundedAgainstAServerThatNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	code, stderr, took := bounded(t, func(c *Common, ctx context.Context) error {
		cs, _, err := c.Clientset()
		if err != nil {
			return err
		}
		_, err = cluster.LoadLive(ctx, cs, cluster.Query{Kind: cluster.KindPod, Namespace: "x"})
		return err
	}, "--server", srv.URL, "--deadline", "500ms", "--request-timeout", "20s")
	want := "error: no result within --deadline 500ms; still waiting for: list pods in namespace x; check that the cluster is healthy, or raise --deadline\n"
	if code != ExitFailure || stderr != want {
		t.Errorf("got exit %d, stderr %q; want exit 2, %q", code, stderr, want)
	}
	if took > 5*time.Second {
		t.Errorf("took %s for a 500ms deadline", took)
	}
}

func TestEffectiveDeadline(t *testing.T) {
	cases := []struct {
		name string
		args []string
		need time.Duration
		want time.Duration
	}{
		{"the default", nil, 0, DefaultDeadline},
		{"an explicit --deadline", []string{"--deadline", "10s"}, 0, 10 * time.Second},
		{"a longer --request-timeout raises the default", []string{"--request-timeout", "5m"}, 0, 5 * time.Minute},
		{"a bare-number --request-timeout is seconds", []string{"--request-timeout", "300"}, 0, 5 * time.Minute},
		{"a plugin that needs longer raises the default", nil, 3 * time.Minute, 3 * time.Minute},
		{"an explicit --deadline wins over the plugin's need", []string{"--deadline", "10s"}, 3 * time.Minute, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCommon(genericiooptions.IOStreams{})
			cmd := &cobra.Command{Use: "x"}
			c.AddFlags(cmd, Features{})
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			c.NeedAtLeast(tc.need)
			if got := c.EffectiveDeadline(); got != tc.want {
				t.Errorf("EffectiveDeadline() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDeadlineMustBePositive(t *testing.T) {
	code, stderr, _ := bounded(t, func(*Common, context.Context) error { return nil }, "--deadline", "0s")
	if code != ExitFailure || !strings.HasPrefix(stderr, "error: --deadline must be positive") {
		t.Errorf("got exit %d, stderr %q; want a usage error", code, stderr)
	}
}
