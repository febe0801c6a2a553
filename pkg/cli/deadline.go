package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ktriage/ktriage/pkg/inflight"
)

// DefaultDeadline bounds a whole run when --deadline is not given (unless
// --request-timeout or the plugin's own waits need longer): each request
// has --request-timeout, but a run makes many, and retries some.
const DefaultDeadline = 2 * time.Minute

// abandonGrace is how long a run may take to return once its deadline has
// passed or it was interrupted, before it is given up on: a call that does
// not honour its context (a credential plugin that never exits) must not
// hold the process.
const abandonGrace = time.Second

// NeedAtLeast raises the default deadline to d: a plugin whose own waits
// (netcheck's probe) may take longer says so. An explicit --deadline wins.
func (c *Common) NeedAtLeast(d time.Duration) {
	c.minDeadline = max(c.minDeadline, d)
}

// EffectiveDeadline is the bound on the whole run: --deadline when given,
// else the longest of DefaultDeadline, --request-timeout and what the plugin
// said it needs.
func (c *Common) EffectiveDeadline() time.Duration {
	if c.deadlineSet() {
		return c.Deadline
	}
	d := max(DefaultDeadline, c.minDeadline)
	if c.ConfigFlags.Timeout != nil {
		if rt, err := time.ParseDuration(normalizeTimeout(*c.ConfigFlags.Timeout)); err == nil {
			d = max(d, rt)
		}
	}
	return d
}

// normalizeTimeout accepts --request-timeout as kubectl does: a bare number
// is seconds.
func normalizeTimeout(s string) string {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return s + "s"
	}
	return s
}

func (c *Common) deadlineSet() bool {
	if c.cmd == nil {
		return false
	}
	f := c.cmd.Flags().Lookup("deadline")
	return f != nil && f.Changed
}

// RunBounded runs run under the overall deadline (EffectiveDeadline), with a
// record of what it waits on. When the deadline passes or the run is
// interrupted before run returns an error, the error becomes one line
// naming what was still pending (exit 2). A run that printed its report
// anyway (a partial result) keeps its own outcome.
func (c *Common) RunBounded(ctx context.Context, run func(context.Context) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	d := c.EffectiveDeadline()
	ctx, cancel := context.WithTimeoutCause(ctx, d, deadlineExceeded{d})
	defer cancel()
	ctx, tracker := inflight.NewContext(ctx)
	c.run = ctx

	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(abandonGrace):
			err = ctx.Err()
		}
	}
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return c.explainRejection(err)
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return err // the report was printed; keep its exit code
	}
	return &ExitError{Code: ExitFailure, Err: stopped(context.Cause(ctx), tracker.Pending())}
}

// stopped is the one line for a run cut short by cause.
func stopped(cause error, pending []string) error {
	waiting := ""
	if len(pending) > 0 {
		waiting = "; still waiting for: " + strings.Join(pending, ", ")
	}
	var de deadlineExceeded
	if errors.As(cause, &de) {
		return fmt.Errorf("no result within --deadline %s%s; check that the cluster is healthy, or raise --deadline", de.d, waiting)
	}
	var in interrupted
	if errors.As(cause, &in) {
		return fmt.Errorf("interrupted by %s%s", in, waiting)
	}
	return fmt.Errorf("stopped: %v%s", cause, waiting)
}

// deadlineExceeded is the cause of a run's context ending at --deadline.
type deadlineExceeded struct{ d time.Duration }

func (e deadlineExceeded) Error() string { return "deadline of " + e.d.String() + " exceeded" }

func (e deadlineExceeded) Is(target error) bool { return target == context.DeadlineExceeded }

// interrupted is the cause of a run's context ending at a signal.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string {
	switch i.sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return i.sig.String()
}

func (i interrupted) Is(target error) bool { return target == context.Canceled }

// signalContext is cancelled, with an interrupted cause, at the first
// SIGINT or SIGTERM; a second one kills the process as usual.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(interrupted{s})
		case <-finished:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(finished)
		cancel(nil)
	}
}
