package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/ktriage/ktriage/test/bench/e2e/results"
)

// contender is one command measured as a whole process.
type contender struct {
	id, label string
	argv      []string
	// okCodes are the exit codes of a successful run (plugins exit 1 when
	// they found something at --fail-on).
	okCodes []int
	// json: the output must be one valid JSON document containing every
	// string in mustContain (the run answered the question).
	json        bool
	mustContain []string
	// floor is the ID of the floor this contender is compared to.
	floor string
}

// display is the command as a user would type it (binary base names).
func (c contender) display() string {
	parts := make([]string, len(c.argv))
	for i, a := range c.argv {
		if i == 0 {
			a = a[strings.LastIndexByte(a, '/')+1:]
		}
		if len(a) > 60 {
			a = a[:28] + "…" + a[len(a)-28:]
		}
		parts[i] = a
	}
	s := strings.Join(parts, " ")
	if len(s) > 160 {
		s = s[:150] + " … (" + fmt.Sprint(len(c.argv)-1) + " arguments)"
	}
	return s
}

// runner runs contenders through the counting proxy.
type runner struct {
	measure string // the measure program
	proxy   *countingProxy
	env     []string // the contenders' environment: KUBECONFIG is the proxy's
	timeout time.Duration
}

// countingBuffer counts everything written and keeps the first limit bytes.
type countingBuffer struct {
	n     int64
	limit int
	buf   bytes.Buffer
}

func (c *countingBuffer) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// run measures one run of c through the measure program (see
// test/bench/e2e/measure: why the RSS cannot be read here). extraEnv is
// added to the environment (profiles).
func (r *runner) run(ctx context.Context, c contender, extraEnv ...string) results.Sample {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rep, w, err := os.Pipe()
	if err != nil {
		return results.Sample{Err: err.Error()}
	}
	defer rep.Close()
	cmd := exec.CommandContext(ctx, r.measure, c.argv...)
	cmd.Env = append(append([]string{}, r.env...), extraEnv...)
	cmd.ExtraFiles = []*os.File{w}
	// A timeout kills the contender too, not only measure.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	keep := 0
	if c.json {
		keep = 256 << 20
	}
	out := &countingBuffer{limit: keep}
	errOut := &countingBuffer{limit: 4096}
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = 5 * time.Second
	r.proxy.reset()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return results.Sample{Err: err.Error()}
	}
	report, _ := io.ReadAll(rep)
	err = cmd.Wait()
	reqs, bytesIn := r.proxy.take()
	s := results.Sample{BytesIn: bytesIn, Requests: reqs, Stdout: out.n}
	if ctx.Err() != nil {
		s.Err = fmt.Sprintf("timed out after %s", r.timeout)
		return s
	}
	var wallNS, rssKB int64
	var code int
	if _, perr := fmt.Sscan(string(report), &wallNS, &rssKB, &code); perr != nil {
		s.Err = fmt.Sprintf("measure failed (%v): %s", err, firstLine(errOut.buf.String()))
		return s
	}
	s.Wall, s.RSS = time.Duration(wallNS), rssKB*1024 // ru_maxrss is in kilobytes on Linux
	okCode := false
	for _, k := range c.okCodes {
		okCode = okCode || k == code
	}
	if !okCode {
		s.Err = fmt.Sprintf("exit code %d: %s", code, firstLine(errOut.buf.String()))
		return s
	}
	if c.json {
		b := out.buf.Bytes()
		if out.n > int64(len(b)) || !json.Valid(b) {
			s.Err = "output is not one JSON document"
			return s
		}
		for _, want := range c.mustContain {
			if !bytes.Contains(b, []byte(want)) {
				s.Err = fmt.Sprintf("output does not mention %q", want)
				return s
			}
		}
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "(no message)"
	}
	return s
}

// contenderEnv is the environment every contender runs in: this process's,
// with the proxy's kubeconfig, kubectl's cache in the work dir, and no
// colour or profile settings from the caller.
func contenderEnv(kubeconfig, workDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "KUBECACHEDIR", "KTRIAGE_CPUPROFILE", "KTRIAGE_MEMPROFILE", "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "KUBECONFIG="+kubeconfig, "KUBECACHEDIR="+workDir+"/kube-cache")
}
