package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// Steps are a plugin's Options as kubectl's own commands have them:
// Complete fills the options from the arguments and what the flags left
// unsaid, Validate refuses bad input (a usage error, exit 2), Run loads a
// Snapshot, calls the plugin's analysis and prints.
type Steps interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunE is the command's RunE for o: Complete, Validate, then Run within the
// run's deadline (RunBounded).
func (c *Common) RunE(o Steps) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return c.RunBounded(cmd.Context(), o.Run)
	}
}
