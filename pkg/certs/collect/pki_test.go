package collect

import (
	"path/filepath"
	"testing"
)

func TestPKIDirectoryMissingByDefaultIsSkippedQuietly(t *testing.T) {
	dir := t.TempDir()
	c := &collector{}
	if c.readableDir(filepath.Join(dir, "nope"), false, "--pki-dir") || len(c.out.Inputs) != 0 {
		t.Errorf("a missing default directory must be skipped without a finding")
	}
	if c.readableDir(filepath.Join(dir, "nope"), true, "--pki-dir") || len(c.out.Inputs) != 1 || c.out.Inputs[0].Err.Error() != "--pki-dir: no such file or directory" {
		t.Errorf("a missing explicit directory is reported: %+v", c.out.Inputs)
	}
}
