package apierror

import "strings"

// OneLine renders an error as a single line: multi-line messages (some API
// errors carry several) are joined with "; ", and a leading "error: " is
// dropped so that the caller's own prefix is not doubled.
func OneLine(err error) string {
	msg := strings.TrimSpace(err.Error())
	msg = strings.TrimPrefix(msg, "error: ")
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
