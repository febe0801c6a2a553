//go:build !linux

package cli

import (
	"os"
	"testing"
)

func openTTY(*testing.T) *os.File { return nil }
