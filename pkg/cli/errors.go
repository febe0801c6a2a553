package cli

import (
	"github.com/ktriage/ktriage/pkg/apierror"

	"errors"
	"fmt"
)

// Exit codes shared by every plugin.
const (
	ExitOK      = 0 // ran, nothing at or above --fail-on
	ExitFound   = 1 // ran, found something at or above --fail-on (netcheck: not reachable)
	ExitFailure = 2 // could not run: usage, bad input, cluster unreachable, RBAC
)

// ExitError carries an exit code through cobra's error return. With Err nil it
// only sets the code (e.g. exit 1 after a report was printed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Found is the silent "exit 1" after a report with findings was printed.
func Found() error { return &ExitError{Code: ExitFound} }

// UsageErrorf reports bad flags or arguments (exit 2); the message is followed
// by a pointer to --help.
func UsageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitFailure, Err: usageError{fmt.Errorf(format, args...)}}
}

// usageError marks an error as the user's misuse of flags or arguments, as
// opposed to a failure while running.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// IsUsageError reports whether err is a flag or argument error.
func IsUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}

// APIError turns an error from an API call into one line saying what failed
// and what to do (see apierror.Explain).
func APIError(err error, verb, resource, namespace string) error {
	return apierror.Explain(err, verb, resource, namespace)
}
