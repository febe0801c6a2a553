package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProfilesFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "heap.pprof")
	t.Setenv(cpuProfileEnv, cpu)
	t.Setenv(memProfileEnv, mem)
	stop := startProfiles()
	stop()
	for _, f := range []string{cpu, mem} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// pprof writes gzip-compressed protocol buffers.
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not a gzipped profile (%d bytes)", f, len(b))
		}
	}
}

func TestNoProfilesByDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(cpuProfileEnv, "")
	t.Setenv(memProfileEnv, "")
	startProfiles()()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("profiles written without being asked for: %v", entries)
	}
}
