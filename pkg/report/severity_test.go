package report

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestParseSeverity(t *testing.T) {
	cases := []struct {
		in      string
		want    Severity
		wantErr bool
	}{
		{"error", SeverityError, false},
		{"ERROR", SeverityError, false},
		{"warning", SeverityWarning, false},
		{"warn", SeverityWarning, false},
		{"info", SeverityInfo, false},
		{"never", SeverityNone, false},
		{"none", SeverityNone, false},
		{"critical", SeverityNone, true},
		{"", SeverityNone, true},
	}
	for _, tc := range cases {
		t.Run("parsing "+tc.in, func(t *testing.T) {
			got, err := ParseSeverity(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseSeverity(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && err.Error() != `unknown severity "`+tc.in+`": use error, warning, info or never` {
				t.Errorf("error text: %v", err)
			}
		})
	}
}

// The severity names are a contract: scripts read them from JSON and YAML.
func TestSeverityRoundTrip(t *testing.T) {
	for s, name := range map[Severity]string{SeverityError: "error", SeverityWarning: "warning", SeverityInfo: "info", SeverityNone: "none"} {
		b, err := json.Marshal(Finding{RuleID: "R1", Severity: s})
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["severity"] != name {
			t.Errorf("%v marshals as %v, want %q", s, raw["severity"], name)
		}
		var back Finding
		if err := json.Unmarshal(b, &back); err != nil || back.Severity != s {
			t.Errorf("round trip of %s gave %v, %v", name, back.Severity, err)
		}
		y, err := yaml.Marshal(Finding{RuleID: "R1", Severity: s})
		if err != nil {
			t.Fatal(err)
		}
		var fromYAML Finding
		if err := yaml.Unmarshal(y, &fromYAML); err != nil || fromYAML.Severity != s {
			t.Errorf("YAML round trip of %s gave %v, %v (%s)", name, fromYAML.Severity, err, y)
		}
	}
	var s Severity
	if err := json.Unmarshal([]byte(`"fatal"`), &s); err == nil {
		t.Error("an unknown severity name must not unmarshal")
	}
	if err := json.Unmarshal([]byte(`3`), &s); err == nil {
		t.Error("a number must not unmarshal as a severity")
	}
}

func TestSeverityOrder(t *testing.T) {
	if !(SeverityError > SeverityWarning && SeverityWarning > SeverityInfo && SeverityInfo > SeverityNone) {
		t.Error("severities must order error > warning > info > none")
	}
}
