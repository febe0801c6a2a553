package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// RunE is a plugin command's RunE, given the three steps of its Options as
// kubectl's own commands have them: complete fills the options from the
// arguments and what the flags left unsaid, validate refuses bad input (a
// usage error, exit 2), run loads a Snapshot, calls the plugin's analysis
// and prints. They run in that order, run within the run's deadline
// (RunBounded).
//
// The steps are method values, not an interface holding the Options: an
// Options converted to an interface keeps every method it promotes from
// the embedded client flags in the binary (about 30 MB), because a
// dependency looks methods up by name.
func (c *Common) RunE(complete func(*cobra.Command, []string) error, validate func() error, run func(context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := complete(cmd, args); err != nil {
			return err
		}
		if err := validate(); err != nil {
			return err
		}
		return c.RunBounded(cmd.Context(), run)
	}
}
