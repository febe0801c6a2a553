package certs

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "72h": 72 * time.Hour, "0d": 0, "106751d": 106751 * 24 * time.Hour} {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "soon", "7 days", "NaNd", "nand", "Infd", "+Infd", "infinityd", "1e400d", "1e10d", "106752d", "-NaNd", "9999999999h"} {
		if _, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) accepted", in)
		}
	}
}

func TestParseWindowsNamesTheFlagAndKeepsFailInsideWarn(t *testing.T) {
	if f, w, err := ParseWindows("7d", "30d"); err != nil || f != 7*24*time.Hour || w != 30*24*time.Hour {
		t.Errorf("ParseWindows(7d, 30d) = %s, %s, %v", f, w, err)
	}
	for _, c := range []struct{ fail, warn, want string }{
		{"soon", "30d", "--fail: invalid window"},
		{"7d", "later", "--warn: invalid window"},
		{"30d", "7d", "--warn (7d) is shorter than --fail (30d)"},
	} {
		if _, _, err := ParseWindows(c.fail, c.warn); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ParseWindows(%q, %q) = %v, want an error starting %q", c.fail, c.warn, err, c.want)
		}
	}
}
