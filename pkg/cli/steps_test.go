package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// stepper records the steps run and can fail one of them.
type stepper struct {
	*Common
	ran   []string
	fail  string
	args  []string
	hasCx bool
}

func (s *stepper) Complete(_ *cobra.Command, args []string) error {
	s.ran, s.args = append(s.ran, "complete"), args
	return s.err("complete")
}

func (s *stepper) Validate() error {
	s.ran = append(s.ran, "validate")
	return s.err("validate")
}

func (s *stepper) Run(ctx context.Context) error {
	s.ran = append(s.ran, "run")
	_, s.hasCx = ctx.Deadline()
	return s.err("run")
}

func (s *stepper) err(step string) error {
	if s.fail == step {
		return errors.New(step + " failed")
	}
	return nil
}

func TestRunERunsTheStepsInOrderAndStopsAtTheFirstError(t *testing.T) {
	for _, tc := range []struct {
		fail string
		want []string
	}{
		{"", []string{"complete", "validate", "run"}},
		{"complete", []string{"complete"}},
		{"validate", []string{"complete", "validate"}},
		{"run", []string{"complete", "validate", "run"}},
	} {
		s := &stepper{Common: NewCommon(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}), fail: tc.fail}
		cmd := NewRoot("kubectl fake-plugin", "Fake", "Fake plugin.", "")
		s.AddFlags(cmd, Features{})
		cmd.RunE = s.RunE(s.Complete, s.Validate, s.Run)
		cmd.SetArgs([]string{"a", "b"})
		cmd.SetContext(context.Background())
		err := cmd.Execute()
		if !slices.Equal(s.ran, tc.want) {
			t.Errorf("failing %q: ran %v, want %v", tc.fail, s.ran, tc.want)
		}
		if (err != nil) != (tc.fail != "") {
			t.Errorf("failing %q: error %v", tc.fail, err)
		}
		if !slices.Equal(s.args, []string{"a", "b"}) {
			t.Errorf("Complete got args %v, want [a b]", s.args)
		}
		if tc.fail == "" && !s.hasCx {
			t.Error("Run must run under the run's deadline")
		}
	}
}
