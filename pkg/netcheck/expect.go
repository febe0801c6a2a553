package netcheck

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/ktriage/ktriage/pkg/report"
)

// Expectation is one entry of an --expect file.
type Expectation struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Namespace string `json:"namespace,omitempty"`
	Port      string `json:"port,omitempty"`
	Protocol  string `json:"protocol"`
	Expect    string `json:"expect"`
	// Source is the file and line of the entry.
	Source report.Source `json:"source"`
}

// Expect values besides the verdicts.
const (
	ExpectReachable = VerdictReachable
	// ExpectBlocked is any verdict saying the traffic does not get through:
	// every verdict but reachable and unknown.
	ExpectBlocked = "blocked"
)

// expectValues are the values expect accepts, in the order help lists them.
var expectValues = []string{ExpectReachable, ExpectBlocked, VerdictBlockedByPolicy, VerdictNoEndpoints, VerdictPortMismatch,
	VerdictDNSFailure, VerdictRefused, VerdictTimeout, VerdictUnknown}

// Met says whether a verdict fulfils the expectation.
func (e Expectation) Met(verdict string) bool {
	if e.Expect == ExpectBlocked {
		return verdict != VerdictReachable && verdict != VerdictUnknown
	}
	return verdict == e.Expect
}

// fields are the keys an expectation may have.
var expectFields = []string{"from", "to", "port", "protocol", "expect", "namespace"}

// ReadExpectations reads an --expect file: a YAML list of {from, to, port,
// protocol, expect, namespace}. Errors are one line, "FILE:LINE: what is
// wrong".
func ReadExpectations(path string) ([]Expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--expect: cannot read %s: %w", path, err)
	}
	return ParseExpectations(path, data)
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// ParseExpectations parses the content of an --expect file named file.
func ParseExpectations(file string, data []byte) ([]Expectation, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 1
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			if m[1] != "" {
				line, _ = strconv.Atoi(m[1])
			}
			msg = msg[len(m[0]):]
		}
		return nil, fmt.Errorf("%s:%d: invalid YAML: %s", file, line, msg)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1: no expectations: write a YAML list of {from, to, port, protocol, expect}", file)
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: expected a YAML list of {from, to, port, protocol, expect}, found %s", file, list.Line, nodeKind(list))
	}
	if len(list.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: no expectations: the list is empty", file, list.Line)
	}
	var out []Expectation
	for _, item := range list.Content {
		e, err := parseExpectation(file, item)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func parseExpectation(file string, item *yaml.Node) (Expectation, error) {
	e := Expectation{Source: report.Source{File: file, Line: item.Line}}
	at := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, n.Line, fmt.Sprintf(format, args...))
	}
	if item.Kind != yaml.MappingNode {
		return e, at(item, "each expectation is a mapping {from, to, port, protocol, expect}, found %s", nodeKind(item))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		key := k.Value
		known := false
		for _, f := range expectFields {
			known = known || f == key
		}
		switch {
		case !known:
			return e, at(k, "unknown field %q: use %s", key, strings.Join(expectFields, ", "))
		case seen[key] != nil:
			return e, at(k, "%s is given twice (also on line %d)", key, seen[key].Line)
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			return e, at(v, "%s must be a single value, found %s", key, nodeKind(v))
		}
		seen[key] = v
		val := strings.TrimSpace(v.Value)
		switch key {
		case "from":
			if _, _, _, err := parseSource(val); err != nil {
				return e, at(v, "from %q: use POD, NS/POD or TYPE/NAME (deploy/web)", val)
			}
			e.From = val
		case "to":
			if _, err := ParseDestination(val); err != nil {
				return e, at(v, "to: %v", err)
			}
			e.To = val
		case "port":
			if _, _, err := ParsePort(val); err != nil || val == "" {
				return e, at(v, "port %q is neither a port number (1-65535) nor a port name", val)
			}
			e.Port = val
		case "protocol":
			p := strings.ToLower(val)
			if !knownProtocol(p) {
				return e, at(v, "protocol %q: use %s", val, strings.Join(Protocols, ", "))
			}
			e.Protocol = p
		case "expect":
			x := strings.ToLower(val)
			ok := false
			for _, known := range expectValues {
				ok = ok || x == known
			}
			if !ok {
				return e, at(v, "expect %q: use %s", val, strings.Join(expectValues, ", "))
			}
			e.Expect = x
		case "namespace":
			e.Namespace = val
		}
	}
	for _, req := range []string{"from", "to", "expect"} {
		if seen[req] == nil {
			return e, at(item, "the expectation has no %s", req)
		}
	}
	if e.Protocol == "" {
		e.Protocol = "tcp"
	}
	return e, nil
}

func knownProtocol(p string) bool {
	for _, k := range Protocols {
		if k == p {
			return true
		}
	}
	return false
}
