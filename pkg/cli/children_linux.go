package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// killChildren kills every process this one started, and theirs. A plugin
// starts processes only to run an exec credential plugin: one that never
// exits would otherwise outlive the plugin, holding its stderr open (a
// caller reading it until EOF would wait for ever).
func killChildren() {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 > len(stat) {
			continue
		}
		fields := strings.Fields(string(stat[i+2:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			parent[pid] = ppid
		}
	}
	self := os.Getpid()
	for pid := range parent {
		for p, hops := parent[pid], 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == self {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
}
