package certs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxWindowDays is the longest window in whole days a time.Duration holds.
const maxWindowDays = math.MaxInt64 / int64(24*time.Hour)

// ParseWindow reads a window: a Go duration ("72h", "90m") or whole days ("7d").
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		// ParseFloat takes NaN and Inf, and a float too large for a
		// Duration converts to garbage: refuse them here.
		if err != nil || math.IsNaN(n) || n < 0 || n*float64(24*time.Hour) >= math.MaxInt64 {
			return 0, fmt.Errorf("invalid window %q: use a number of days (7d, at most %dd) or a Go duration (168h)", s, maxWindowDays)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid window %q: use a number of days (7d) or a Go duration (168h)", s)
	}
	return d, nil
}

// ParseWindows reads --fail and --warn: errors name the flag, and the warning
// window must contain the failure window.
func ParseWindows(fail, warn string) (failWindow, warnWindow time.Duration, err error) {
	if failWindow, err = ParseWindow(fail); err != nil {
		return 0, 0, fmt.Errorf("--fail: %w", err)
	}
	if warnWindow, err = ParseWindow(warn); err != nil {
		return 0, 0, fmt.Errorf("--warn: %w", err)
	}
	if warnWindow < failWindow {
		return 0, 0, fmt.Errorf("--warn (%s) is shorter than --fail (%s): the warning window must contain the failure window", warn, fail)
	}
	return failWindow, warnWindow, nil
}
