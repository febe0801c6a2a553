// Package drainpreflight implements "kubectl drain-preflight": Say whether draining a node will succeed and where every pod will land.
package drainpreflight

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
)

// NewCommand builds the "kubectl drain-preflight" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	common := cli.NewCommon(streams)
	cmd := cli.NewRoot("kubectl drain-preflight", "Say whether draining a node will succeed and where every pod will land", "Say whether draining a node will succeed and where every pod will land.", "")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("kubectl drain-preflight is not implemented yet")}
	}
	common.AddFlags(cmd, cli.Features{Namespaced: true, Selector: true})
	common.CompleteNodes(cmd, 0)
	return cmd
}
