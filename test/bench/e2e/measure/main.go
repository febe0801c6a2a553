// Command measure runs one command and reports its wall time, peak RSS and
// exit code on file descriptor 3, as "WALL_NS MAXRSS_KB EXIT_CODE".
//
// The benchmark starts every contender through it because a child's
// ru_maxrss starts at its parent's peak RSS: Go starts children with
// vfork semantics, so until exec the child runs in the parent's memory, and
// exec records that memory's high-water mark as the child's. Measured from
// the benchmark itself (which holds the generated cluster, hundreds of MiB),
// every contender would look that big; measured from this small program,
// only the contender's own peak shows (this program's few MiB are below any
// contender's).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	report := os.NewFile(3, "report")
	if len(os.Args) < 2 || report == nil {
		fmt.Fprintln(os.Stderr, "usage: measure COMMAND [ARG...] 3>REPORT")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(2)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	fmt.Fprintf(report, "%d %d %d\n", wall.Nanoseconds(), rss, code)
}
