// Command testsummary reads `go test -json` on stdin and prints what a plain
// `go test` prints (package results, and the output of failing tests only),
// then one closing line: "N passed, N failed, N skipped". It exits 1 when any
// test or package failed, so `go test -json ./... | testsummary` can gate CI.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	buffered := map[string][]string{} // test output held until we know whether it failed
	var passed, failed, skipped, brokenPackages int
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// Build errors and other non-JSON lines pass through.
			fmt.Fprintln(out, string(line))
			continue
		}
		key := ev.Package + "\x00" + ev.Test
		switch {
		case ev.Action == "build-output":
			fmt.Fprint(out, ev.Output)
		case ev.Action == "build-fail":
			brokenPackages++
		case ev.Test == "" && ev.Action == "output":
			fmt.Fprint(out, ev.Output)
		case ev.Test == "" && ev.Action == "fail":
			brokenPackages++
		case ev.Action == "output":
			buffered[key] = append(buffered[key], ev.Output)
		case ev.Action == "pass":
			passed++
			delete(buffered, key)
		case ev.Action == "skip":
			skipped++
			delete(buffered, key)
		case ev.Action == "fail":
			failed++
			fmt.Fprint(out, strings.Join(buffered[key], ""))
			delete(buffered, key)
		}
		out.Flush()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary: reading go test output:", err)
		brokenPackages++
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || brokenPackages > 0 {
		out.Flush()
		os.Exit(1)
	}
}
