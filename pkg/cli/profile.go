package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Profiling a whole plugin run, for the end-to-end benchmark
// (test/bench/e2e) and for anyone chasing a slow run:
// KTRIAGE_CPUPROFILE=FILE writes a CPU profile of the run and
// KTRIAGE_MEMPROFILE=FILE a heap profile (in-use and allocated) at its end.
// Unset, they cost nothing.
const (
	cpuProfileEnv = "KTRIAGE_CPUPROFILE"
	memProfileEnv = "KTRIAGE_MEMPROFILE"
)

// startProfiles starts what the environment asks for and returns the
// function that finishes it. A profile that cannot be written is a warning
// on stderr, never a failed run.
func startProfiles() (stop func()) {
	var cpu *os.File
	if path := os.Getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: %s: %v\n", cpuProfileEnv, err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if path := os.Getenv(memProfileEnv); path != "" {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "warning: %s: %v\n", memProfileEnv, err)
			}
		}
	}
}
