package result

import (
	"strings"
	"testing"
)

func TestMarshalStaysUnderTheTerminationMessageLimit(t *testing.T) {
	r := Result{Result: Timeout, Protocol: "tcp", Target: "10.0.0.1:80", ResolvConf: strings.Repeat("search a.example\n", 400), Detail: strings.Repeat("x", 6000)}
	b := Marshal(r)
	if len(b) > MaxMessageBytes {
		t.Fatalf("message is %d bytes, the kubelet keeps %d", len(b), MaxMessageBytes)
	}
	got, err := Parse(string(b))
	if err != nil || got.Result != Timeout || got.Target != "10.0.0.1:80" {
		t.Errorf("round trip: %+v %v", got, err)
	}
}

func TestParseRejectsForeignMessages(t *testing.T) {
	if _, err := Parse("Error: exec format error"); err == nil {
		t.Error("a non-JSON message must be an error")
	}
	if _, err := Parse(`{"result":"maybe"}`); err == nil {
		t.Error("an unknown result must be an error")
	}
}

func TestExitCodesAreDistinctAndReversible(t *testing.T) {
	seen := map[int32]bool{}
	for outcome, code := range ExitCodes {
		if seen[code] {
			t.Errorf("exit code %d used twice", code)
		}
		seen[code] = true
		if back, ok := OutcomeForExitCode(code); !ok || back != outcome {
			t.Errorf("exit code %d maps back to %q, want %q", code, back, outcome)
		}
	}
	if ExitCodes[Reachable] != 0 {
		t.Error("reachable must exit 0")
	}
}
