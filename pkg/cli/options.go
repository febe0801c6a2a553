package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/inflight"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// DefaultRequestTimeout bounds every API call when --request-timeout is not set:
// nothing a plugin does may wait forever.
const DefaultRequestTimeout = 30 * time.Second

// Features says which of the common flags a plugin offers.
type Features struct {
	Namespaced bool // -n (from the kubeconfig flags), -A
	Selector   bool // -l
	Files      bool // -f, -R
}

// Common holds the flags and streams every plugin shares.
type Common struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	Output        string
	FailOn        string
	Color         string
	Ignore        []string
	AllNamespaces bool
	Selector      string
	Filenames     []string
	Recursive     bool
	// Deadline bounds the whole run (--deadline); see EffectiveDeadline.
	Deadline time.Duration

	features    Features
	failOn      report.Severity
	cmd         *cobra.Command
	minDeadline time.Duration
	// run is the context of the run under way (RunBounded), for the
	// credential plugin RESTConfig runs.
	run context.Context
	// expiredCert, when the kubeconfig's client certificate has expired,
	// says so (it explains the API server's 401).
	expiredCert string
}

// NewCommon returns the common options with their defaults.
func NewCommon(streams genericiooptions.IOStreams) *Common {
	return &Common{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
		Output:      "table",
		FailOn:      "error",
		Color:       "auto",
		Deadline:    DefaultDeadline,
	}
}

// AddFlags registers the common flags on cmd.
func (c *Common) AddFlags(cmd *cobra.Command, f Features) {
	c.features = f
	c.cmd = cmd
	flags := cmd.Flags()
	c.ConfigFlags.AddFlags(flags)
	flags.DurationVar(&c.Deadline, "deadline", c.Deadline, "Give up on the whole run after this long, naming what was still pending; each API request is also bounded by --request-timeout (a longer --request-timeout raises the default)")
	c.registerKubeconfigCompletions(cmd)
	flags.StringVarP(&c.Output, "output", "o", c.Output, "Output format: "+strings.Join(printers.Formats, "|"))
	flags.StringVar(&c.FailOn, "fail-on", c.FailOn, "Exit 1 when a finding reaches this severity: error|warning|info|never")
	flags.StringVar(&c.Color, "color", c.Color, "Color table output: auto (when stdout is a terminal and NO_COLOR is unset)|always|never")
	flags.StringSliceVar(&c.Ignore, "ignore", nil, "Rule IDs to leave out of the report (repeat or comma-separate); objects can also carry the annotation "+report.IgnoreAnnotation)
	if f.Namespaced {
		flags.BoolVarP(&c.AllNamespaces, "all-namespaces", "A", false, "Look at every namespace")
	}
	if f.Selector {
		flags.StringVarP(&c.Selector, "selector", "l", "", "Label selector (e.g. app=web,tier!=db)")
	}
	if f.Files {
		flags.StringSliceVarP(&c.Filenames, "filename", "f", nil, "Manifest file or directory to analyse instead of (or with) the live cluster; - reads stdin")
		flags.BoolVarP(&c.Recursive, "recursive", "R", false, "Read directories given with -f recursively")
	}
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(printers.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"error", "warning", "info", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// Validate checks the common flags; errors are usage errors (exit 2).
func (c *Common) Validate() error {
	if err := printers.ValidateFormat(c.Output); err != nil {
		return UsageErrorf("%w", err)
	}
	sev, err := report.ParseSeverity(c.FailOn)
	if err != nil {
		return UsageErrorf("--fail-on: %w", err)
	}
	c.failOn = sev
	if c.Deadline <= 0 {
		return UsageErrorf("--deadline must be positive (e.g. 2m)")
	}
	switch c.Color {
	case "auto", "always", "never":
	default:
		return UsageErrorf("--color: unknown value %q: use auto, always or never", c.Color)
	}
	if c.Selector != "" {
		if _, err := labels.Parse(c.Selector); err != nil {
			return UsageErrorf("--selector: invalid label selector %q: %v", c.Selector, err)
		}
	}
	if c.AllNamespaces && c.ConfigFlags.Namespace != nil && *c.ConfigFlags.Namespace != "" {
		return UsageErrorf("-A and -n cannot be used together: drop one of them")
	}
	return nil
}

// FailOnSeverity is the parsed --fail-on threshold (valid after Validate).
func (c *Common) FailOnSeverity() report.Severity { return c.failOn }

// UseColor says whether table output is colored: --color=always, or auto with
// stdout a terminal, NO_COLOR unset or empty (https://no-color.org) and a
// terminal that is not "dumb". The flag wins over the environment.
func (c *Common) UseColor() bool {
	switch c.Color {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(c.Out)
}

// StderrIsTerminal says whether progress may be shown.
func (c *Common) StderrIsTerminal() bool { return isTerminal(c.ErrOut) }

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Namespace returns the namespace to work in ("" with -A) and whether the user
// named it explicitly with -n.
func (c *Common) Namespace() (string, bool, error) {
	if c.AllNamespaces {
		return "", false, nil
	}
	ns, explicit, err := c.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", false, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, explicit, nil
}

// RESTConfig returns a client configuration tuned for reading a cluster fast:
// protobuf, high client-side rate limits, and a timeout on every request.
func (c *Common) RESTConfig() (*rest.Config, error) {
	cfg, err := c.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w; set KUBECONFIG or pass --kubeconfig/--context", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = 200
	cfg.Burst = 400
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRequestTimeout
	}
	// Every request is recorded while under way, so a run cut short by
	// --deadline or a signal can name what it was waiting for.
	cfg.Wrap(inflight.WrapTransport)
	c.expiredCert = expiredClientCert(cfg, time.Now())
	ctx := c.run
	if ctx == nil {
		ctx = context.Background()
	}
	if err := fetchExecCredentials(ctx, cfg, cfg.Timeout); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Clientset builds a typed client from RESTConfig.
func (c *Common) Clientset() (kubernetes.Interface, *rest.Config, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the API client: %w", err)
	}
	return cs, cfg, nil
}

// CurrentContext names the kubeconfig context in use, for report metadata.
func (c *Common) CurrentContext() string {
	if c.ConfigFlags.Context != nil && *c.ConfigFlags.Context != "" {
		return *c.ConfigFlags.Context
	}
	raw, err := c.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	return raw.CurrentContext
}

// ClusterConfigured says a cluster is named: by --server or --context, a
// kubeconfig with a cluster or context, or the in-cluster service account.
// Without one, client-go would fall back to localhost:8080, so a plugin that
// can work from files alone stays offline instead.
func (c *Common) ClusterConfigured() bool {
	f := c.ConfigFlags
	if f.APIServer != nil && *f.APIServer != "" || f.Context != nil && *f.Context != "" {
		return true
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) > 0 || len(raw.Contexts) > 0 {
		return true // a broken kubeconfig is reported by the client
	}
	_, err = rest.InClusterConfig()
	return err == nil
}

// PrintReport finalizes the report (suppression, sorting, summary), prints it
// and returns the exit error: nil, or Found() when a finding reaches --fail-on.
func (c *Common) PrintReport(p printers.Printable) error {
	base := p.Base()
	base.Finalize(c.Ignore)
	for _, w := range base.Metadata.Warnings {
		fmt.Fprintf(c.ErrOut, "Warning: %s\n", w)
	}
	if err := printers.Print(c.Out, c.Output, p, printers.Options{Color: c.UseColor()}); err != nil {
		return err
	}
	if base.Fails(c.failOn) {
		return Found()
	}
	return nil
}
