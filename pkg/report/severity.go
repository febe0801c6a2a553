package report

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is SeverityNone, which is also the
// "--fail-on never" threshold: nothing reaches it.
type Severity int

const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "none"
}

// ParseSeverity reads a severity name as used by --fail-on ("never" means no
// severity fails the run).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return SeverityInfo, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "error":
		return SeverityError, nil
	case "never", "none":
		return SeverityNone, nil
	}
	return SeverityNone, fmt.Errorf("unknown severity %q: use error, warning, info or never", s)
}

// Reaches reports whether a finding of severity s trips a --fail-on threshold.
func (s Severity) Reaches(threshold Severity) bool {
	return threshold != SeverityNone && s >= threshold
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	v, err := ParseSeverity(str)
	*s = v
	return err
}
