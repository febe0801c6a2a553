package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/version"
)

// Main runs a plugin's root command and exits with its code. Every cmd/ main
// is one call to it.
func Main(newCmd func(genericiooptions.IOStreams) *cobra.Command) {
	// client-go logs some failures through klog as well as returning them
	// (a response body cut short when a failed list cancels its siblings):
	// the command's error already says what failed, in one line.
	klog.SetSlogLogger(slog.New(slog.DiscardHandler))
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	stop := startProfiles()
	code := Execute(newCmd(streams), streams)
	stop()
	os.Exit(code)
}

// Execute runs cmd and turns its error into one line on stderr and an exit
// code. Cobra's own error and usage printing are silenced so a runtime error
// never dumps usage; a flag or argument error adds one line pointing at --help.
func Execute(cmd *cobra.Command, streams genericiooptions.IOStreams) int {
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	if cmd.Version == "" {
		cmd.Version = version.Get()
	}
	version := takeVersionFlag(cmd)
	// Help, --version and completion go to the given streams, so tests (and
	// callers embedding a plugin) see them.
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	markArgErrors(cmd)
	version.handleBeforeArgs(cmd)
	ctx, stop := signalContext()
	defer stop()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errVersionRequested) {
		name := cmd.Annotations["displayName"]
		if name == "" {
			name = cmd.DisplayName()
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", name, cmd.Version)
		return ExitOK
	}
	code := ExitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code // the report was printed; only the exit code is left to give
	}
	fmt.Fprintf(streams.ErrOut, "error: %s\n", OneLine(err))
	if isUsage(err) {
		name := cmd.Annotations[cobra.CommandDisplayNameAnnotation]
		if name == "" {
			name = cmd.Name()
		}
		fmt.Fprintf(streams.ErrOut, "See '%s --help' for usage.\n", name)
	}
	return code
}

// errVersionRequested stops a run at --version, before the arguments are
// checked, so Execute prints the version.
var errVersionRequested = errors.New("version requested")

// versionFlag is the value of --version. Cobra would print the version
// through a text/template, and a binary that executes any template keeps
// every exported method of every type it links, since the linker cannot tell
// which one a template calls: about 19 MB of each plugin. So cobra always
// reads the flag as false, and the argument check, the first step after
// parsing (and after --help), stops the run when it was given.
type versionFlag struct{ set bool }

func (v *versionFlag) String() string { return "false" }
func (v *versionFlag) Type() string   { return "bool" }
func (v *versionFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	v.set = b
	return nil
}

// takeVersionFlag gives cmd's --version flag (cobra's own if the command
// did not define one) a versionFlag value; nil if the flag is not a bool.
func takeVersionFlag(cmd *cobra.Command) *versionFlag {
	cmd.InitDefaultVersionFlag()
	f := cmd.Flags().Lookup("version")
	if f == nil || f.Value.Type() != "bool" {
		return nil
	}
	v := &versionFlag{}
	f.Value = v
	return v
}

// handleBeforeArgs makes cmd's argument check return errVersionRequested
// when --version was given, whatever the arguments.
func (v *versionFlag) handleBeforeArgs(cmd *cobra.Command) {
	if v == nil {
		return
	}
	args := cmd.Args
	cmd.Args = func(c *cobra.Command, a []string) error {
		if v.set {
			return errVersionRequested
		}
		if args == nil {
			return cobra.ArbitraryArgs(c, a)
		}
		return args(c, a)
	}
}

// OneLine renders an error as a single line: multi-line messages (some API
// errors carry several) are joined with "; ".
func OneLine(err error) string { return apierror.OneLine(err) }

// markArgErrors makes cobra's argument-count errors ("accepts 1 arg(s),
// received 2") usage errors with exit code 2, in the command and every
// subcommand.
func markArgErrors(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &ExitError{Code: ExitFailure, Err: usageError{err}}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markArgErrors(sub)
	}
}

// isUsage recognises usage errors: ours, flag errors (NewRoot routes them
// through UsageErrorf), and the few cobra reports that bypass both.
func isUsage(err error) bool {
	if IsUsageError(err) {
		return true
	}
	s := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "required flag(s) ", "if any flags in the group "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// NewRoot builds a plugin's root command with the conventions every plugin
// follows: help shows "kubectl <name>", --version works, errors are ours.
func NewRoot(displayName, short, long, example string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     strings.TrimPrefix(displayName, "kubectl "),
		Short:   short,
		Long:    long,
		Example: example,
		Version: version.Get(),
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: displayName,
			"displayName":                      displayName,
		},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	// No -v shorthand: plugins use -v for verbose output.
	cmd.Flags().Bool("version", false, "Print the version and exit")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitFailure, Err: usageError{err}}
	})
	// "completion bash|zsh|fish|powershell" writes a script for the command
	// the shell sees: the executable (kubectl-why_pending), not the name help
	// shows. Through kubectl, kubectl_complete-<plugin> helpers do the work.
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if p := c.Parent(); p != nil && p.Name() == "completion" && p.Parent() == cmd {
			cmd.Use = executableName()
		}
		return nil
	}
	return cmd
}

// executableName is the name this program was run as, without .exe.
func executableName() string {
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
}
