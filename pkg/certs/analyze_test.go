package certs

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/pkg/report"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func opts() Options { return Options{Now: now, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour} }

func days(n float64) time.Time { return now.Add(certtest.Days(n)) }

func rootCA(t *testing.T) *certtest.Pair {
	t.Helper()
	return certtest.Must(certtest.Spec{CommonName: "root", IsCA: true, NotBefore: days(-10), NotAfter: days(3650)})
}

func leafFrom(parent *certtest.Pair, notBefore, notAfter float64) *certtest.Pair {
	return certtest.Must(certtest.Spec{CommonName: "leaf", Server: true, DNSNames: []string{"web.example"}, NotBefore: days(notBefore), NotAfter: days(notAfter), Parent: parent})
}

func input(name string, data []byte) Input {
	return Input{Origin: Origin{Type: OriginFile, Path: name}, Data: data, Group: "g/" + name}
}

func rulesOf(fs []report.Finding) map[string]report.Severity {
	out := map[string]report.Severity{}
	for _, f := range fs {
		out[f.RuleID] = max(out[f.RuleID], f.Severity)
	}
	return out
}

func TestExpiryWindows(t *testing.T) {
	root := rootCA(t)
	cases := []struct {
		name     string
		before   float64
		after    float64
		severity report.Severity
		rule     string
		daysLeft int
	}{
		{"an expired certificate is an error", -90, -2, report.SeverityError, RuleExpired, -2},
		{"a certificate expiring in 3 days is an error", -90, 3, report.SeverityError, RuleExpiresSoon, 3},
		{"a certificate expiring in 20 days is a warning", -90, 20, report.SeverityWarning, RuleExpiresWithin, 20},
		{"a certificate expiring in 400 days is fine", -1, 400, report.SeverityNone, "", 400},
		{"a certificate not yet valid is an error", 2, 90, report.SeverityError, RuleNotYetValid, 90},
		{"a certificate expiring exactly at the fail window is an error", -1, 7, report.SeverityError, RuleExpiresSoon, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaf := leafFrom(root, tc.before, tc.after)
			res := Analyze([]Input{input("leaf.pem", leaf.CertPEM)}, opts())
			if len(res.Certificates) != 1 {
				t.Fatalf("got %d certificates", len(res.Certificates))
			}
			c := res.Certificates[0]
			if c.Severity != tc.severity || c.DaysLeft != tc.daysLeft || !c.NotAfter.Equal(leaf.Cert.NotAfter) {
				t.Errorf("severity %s daysLeft %d notAfter %s; want %s %d %s", c.Severity, c.DaysLeft, c.NotAfter, tc.severity, tc.daysLeft, leaf.Cert.NotAfter)
			}
			got := rulesOf(res.Findings)
			if tc.rule == "" && len(got) > 0 || tc.rule != "" && got[tc.rule] != tc.severity {
				t.Errorf("findings %v, want %s", got, tc.rule)
			}
		})
	}
}

func TestCertificatesAreSortedByTimeLeftAndDeduplicated(t *testing.T) {
	root := rootCA(t)
	a, b := leafFrom(root, -1, 100), leafFrom(root, -1, 5)
	res := Analyze([]Input{input("a.pem", a.CertPEM), input("b.pem", b.CertPEM), input("again.pem", a.CertPEM)}, opts())
	if len(res.Certificates) != 2 {
		t.Fatalf("want 2 distinct certificates, got %d", len(res.Certificates))
	}
	if res.Certificates[0].Source != "b.pem" || res.Certificates[1].Source != "a.pem" {
		t.Errorf("order %s, %s", res.Certificates[0].Source, res.Certificates[1].Source)
	}
	if got := res.Certificates[1].AlsoIn; len(got) != 1 || got[0] != "again.pem" {
		t.Errorf("alsoIn %v", got)
	}
}

func TestChains(t *testing.T) {
	root := rootCA(t)
	inter := certtest.Must(certtest.Spec{CommonName: "inter", IsCA: true, NotBefore: days(-1), NotAfter: days(25), Parent: root})
	leaf := leafFrom(inter, -1, 60)
	other := certtest.Must(certtest.Spec{CommonName: "root", IsCA: true, NotBefore: days(-1), NotAfter: days(3650)})

	t.Run("a CA expiring before a certificate it signed is reported on the CA", func(t *testing.T) {
		res := Analyze([]Input{input("chain.pem", certtest.Chain(leaf, inter))}, opts())
		var found bool
		for _, f := range res.Findings {
			if f.RuleID == RuleCAExpiresFirst && strings.Contains(f.Message, `"CN=inter"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no CE105 on the intermediate: %v", rulesOf(res.Findings))
		}
		for _, c := range res.Certificates {
			want := map[string]string{"CN=leaf": ChainLeaf, "CN=inter": ChainIntermediate}[c.Subject]
			if c.ChainRole != want {
				t.Errorf("%s: role %s, want %s", c.Subject, c.ChainRole, want)
			}
		}
	})
	t.Run("a served chain verifies against its root and host", func(t *testing.T) {
		in := Input{Origin: Origin{Type: OriginServed, Endpoint: "https://web.example:443"}, Data: certtest.Chain(leaf, inter),
			Served: &Served{Host: "web.example", Roots: root.CertPEM, RootsName: "the CA"}}
		res := Analyze([]Input{in}, opts())
		if r := rulesOf(res.Findings); r[RuleChainInvalid] != 0 || r[RuleHostnameMismatch] != 0 {
			t.Errorf("unexpected %v", r)
		}
	})
	t.Run("a served chain under another root with the same name does not verify", func(t *testing.T) {
		in := Input{Origin: Origin{Type: OriginServed, Endpoint: "https://web.example:443"}, Data: certtest.Chain(leaf, inter),
			Served: &Served{Host: "web.example", Roots: other.CertPEM, RootsName: "the CA", MismatchRule: RuleCABundleMismatch}}
		if r := rulesOf(Analyze([]Input{in}, opts()).Findings); r[RuleCABundleMismatch] != report.SeverityError {
			t.Errorf("want CE110, got %v", r)
		}
	})
	t.Run("a served certificate for another host is a mismatch", func(t *testing.T) {
		in := Input{Origin: Origin{Type: OriginServed, Endpoint: "https://10.0.0.1:443"}, Data: certtest.Chain(leaf, inter),
			Served: &Served{Host: "10.0.0.1", Roots: root.CertPEM}}
		if r := rulesOf(Analyze([]Input{in}, opts()).Findings); r[RuleHostnameMismatch] != report.SeverityError {
			t.Errorf("want CE107, got %v", r)
		}
	})
	t.Run("a served chain missing its intermediate does not verify", func(t *testing.T) {
		in := Input{Origin: Origin{Type: OriginServed, Endpoint: "https://web.example:443"}, Data: leaf.CertPEM,
			Served: &Served{Host: "web.example", Roots: root.CertPEM}}
		if r := rulesOf(Analyze([]Input{in}, opts()).Findings); r[RuleChainInvalid] != report.SeverityError {
			t.Errorf("want CE106, got %v", r)
		}
	})
	t.Run("a tls.crt issued by another CA than its ca.crt is reported", func(t *testing.T) {
		stranger := leafFrom(certtest.Must(certtest.Spec{CommonName: "stranger", IsCA: true, NotBefore: days(-1), NotAfter: days(900)}), -1, 100)
		o := Origin{Type: OriginObject, Kind: "Secret", Namespace: "ns", Name: "s"}
		crt, ca := o, o
		crt.Key, ca.Key = "tls.crt", "ca.crt"
		res := Analyze([]Input{
			{Origin: crt, Data: stranger.CertPEM, Group: "s", Role: RoleIssued},
			{Origin: ca, Data: root.CertPEM, Group: "s", Role: RoleAnchor},
		}, opts())
		if r := rulesOf(res.Findings); r[RuleChainInvalid] != report.SeverityWarning {
			t.Errorf("want CE106 warning, got %v", r)
		}
	})
	t.Run("a certificate whose named issuer did not sign it does not verify", func(t *testing.T) {
		res := Analyze([]Input{input("bundle.pem", certtest.Chain(leafFrom(other, -1, 100), root))}, opts())
		if r := rulesOf(res.Findings); r[RuleChainInvalid] != report.SeverityError {
			t.Errorf("want CE106 error, got %v", r)
		}
	})
}

func TestWeakKeysAndSignatures(t *testing.T) {
	ca := certtest.Must(certtest.Spec{CommonName: "ca", IsCA: true, RSABits: 2048, NotBefore: days(-1), NotAfter: days(900)})
	weak := certtest.Must(certtest.Spec{CommonName: "weak", RSABits: 1024, SignatureAlgorithm: x509.SHA1WithRSA, NotBefore: days(-1), NotAfter: days(400), Parent: ca})
	res := Analyze([]Input{input("weak.pem", certtest.Chain(weak, ca))}, opts())
	r := rulesOf(res.Findings)
	if r[RuleWeakKey] != report.SeverityWarning || r[RuleWeakSignature] != report.SeverityWarning {
		t.Errorf("want CE108 and CE109, got %v", r)
	}
	if r[RuleChainInvalid] != 0 {
		t.Errorf("a SHA-1 signature that checks out is weak, not broken: %v", res.Findings)
	}
}

func TestSHA1DetectedInAnOpenSSLCertificate(t *testing.T) {
	// testdata/sha1.pem was made with openssl req -x509 -sha1 -newkey rsa:1024.
	data, err := os.ReadFile("testdata/sha1.pem")
	if err != nil {
		t.Fatal(err)
	}
	res := Analyze([]Input{input("sha1.pem", data)}, Options{Now: now, Fail: time.Hour, Warn: time.Hour})
	if len(res.Certificates) != 1 || res.Certificates[0].Signature != "SHA1-RSA" || res.Certificates[0].KeyAlgorithm != "RSA 1024" {
		t.Fatalf("got %+v", res.Certificates)
	}
	if r := rulesOf(res.Findings); r[RuleWeakKey] == 0 {
		t.Errorf("want CE108, got %v", r)
	}
}

func TestUnreadableData(t *testing.T) {
	good := leafFrom(rootCA(t), -1, 100)
	cases := []struct {
		name  string
		data  []byte
		certs int
	}{
		{"broken base64 is reported", []byte("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"), 0},
		{"a truncated block is reported", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n"), 0},
		{"a valid block after a broken one is still read", append([]byte("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"), good.CertPEM...), 1},
		{"binary junk is reported", []byte{0x30, 0x82, 0x01, 0x00, 0xff}, 0},
		{"a key-only PEM has no certificate", good.KeyPEM, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze([]Input{input("/x/f.pem", tc.data)}, opts())
			if len(res.Certificates) != tc.certs {
				t.Errorf("got %d certificates", len(res.Certificates))
			}
			if len(res.Findings) == 0 || res.Findings[0].RuleID != RuleUnreadable || res.Findings[0].Object.Path != "/x/f.pem" {
				t.Errorf("want CE113 on /x/f.pem, got %+v", res.Findings)
			}
		})
	}
}

func TestParseReadsDER(t *testing.T) {
	p := leafFrom(rootCA(t), -1, 100)
	got, err := Parse(p.Cert.Raw)
	if err != nil || len(got) != 1 || !got[0].NotAfter.Equal(p.Cert.NotAfter) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestParseWindowAndHuman(t *testing.T) {
	if got := Human(certtest.Days(2) + 3*time.Hour); got != "2d3h" {
		t.Errorf("Human = %q", got)
	}
	if got := Human(-90 * time.Minute); got != "1h30m" {
		t.Errorf("Human = %q", got)
	}
}

// About ties each finding to its certificate, for reports that recompute a
// certificate's severity after suppression.
func TestFindingsNameTheirCertificate(t *testing.T) {
	root := rootCA(t)
	expired := leafFrom(root, -90, -2)
	res := Analyze([]Input{input("expired.pem", expired.CertPEM), {Origin: Origin{Type: OriginFile, Path: "gone.pem"}, Err: os.ErrNotExist}}, opts())
	if len(res.About) != len(res.Findings) {
		t.Fatalf("%d findings, %d About", len(res.Findings), len(res.About))
	}
	for i, f := range res.Findings {
		switch f.RuleID {
		case RuleExpired:
			if res.About[i] != res.Certificates[0].SHA256 {
				t.Errorf("%s is about %q, want %s", f.RuleID, res.About[i], res.Certificates[0].SHA256)
			}
		case RuleUnreadable:
			if res.About[i] != "" {
				t.Errorf("%s is about a certificate: %q", f.RuleID, res.About[i])
			}
		}
	}
}

// An expired or not yet valid served certificate must not hide what else is
// wrong with its chain: the dates are the expiry rules' findings.
func TestServedChainProblemsBehindDates(t *testing.T) {
	root := rootCA(t)
	other := certtest.Must(certtest.Spec{CommonName: "other", IsCA: true, NotBefore: days(-10), NotAfter: days(3650)})
	served := func(chain []byte, roots *certtest.Pair) Input {
		return Input{Origin: Origin{Type: OriginServed, Endpoint: "https://web.example:443"}, Data: chain,
			Served: &Served{Host: "web.example", Roots: roots.CertPEM, RootsName: "the CA"}}
	}
	cases := []struct {
		name  string
		in    Input
		chain bool
	}{
		{"an expired leaf from another CA", served(leafFrom(other, -90, -2).CertPEM, root), true},
		{"a not yet valid leaf from another CA", served(leafFrom(other, 2, 90).CertPEM, root), true},
		{"an expired leaf from the right CA", served(leafFrom(root, -90, -2).CertPEM, root), false},
		{"an expired intermediate", served(func() []byte {
			inter := certtest.Must(certtest.Spec{CommonName: "inter", IsCA: true, NotBefore: days(-400), NotAfter: days(-1), Parent: root})
			return certtest.Chain(leafFrom(inter, -300, -5), inter)
		}(), root), false},
		{"an expired leaf whose intermediate was renewed after it", served(func() []byte {
			inter := certtest.Must(certtest.Spec{CommonName: "inter", IsCA: true, NotBefore: days(-1), NotAfter: days(300), Parent: root})
			return certtest.Chain(leafFrom(inter, -90, -2), inter)
		}(), root), false},
		{"a client certificate served as a server's", served(certtest.Must(certtest.Spec{CommonName: "client", Client: true,
			DNSNames: []string{"web.example"}, NotBefore: days(-1), NotAfter: days(300), Parent: root}).CertPEM, root), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze([]Input{tc.in}, opts())
			if got := rulesOf(res.Findings)[RuleChainInvalid] == report.SeverityError; got != tc.chain {
				t.Errorf("CE106 reported: %v, want %v: %v", got, tc.chain, res.Findings)
			}
		})
	}
}

// A CA renewed with its key keeps what it signed valid: the old copy
// expiring first is no finding as long as the renewed one outlives the leaf.
func TestCARenewedWithItsKey(t *testing.T) {
	old := certtest.Must(certtest.Spec{CommonName: "ca", IsCA: true, NotBefore: days(-300), NotAfter: days(60)})
	leaf := leafFrom(old, -1, 300)
	renewed := certtest.Must(certtest.Spec{CommonName: "ca", IsCA: true, NotBefore: days(-1), NotAfter: days(3650), Key: old.Key})
	short := certtest.Must(certtest.Spec{CommonName: "ca", IsCA: true, NotBefore: days(-1), NotAfter: days(200), Key: old.Key})
	rekeyed := certtest.Must(certtest.Spec{CommonName: "ca", IsCA: true, NotBefore: days(-1), NotAfter: days(3650)})
	cases := []struct {
		name string
		cas  []*certtest.Pair
		want bool
	}{
		{"the old CA alone expires first", []*certtest.Pair{old}, true},
		{"renewed with its key", []*certtest.Pair{old, renewed}, false},
		{"renewed with its key, in another place", nil, false},
		{"renewed with its key but still before the leaf", []*certtest.Pair{old, short}, true},
		{"renewed with a new key", []*certtest.Pair{old, rekeyed}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inputs := []Input{input("leaf.pem", leaf.CertPEM)}
			if tc.cas == nil {
				inputs = append(inputs, input("old/ca.crt", old.CertPEM), input("new/ca.crt", renewed.CertPEM))
			} else {
				inputs = append(inputs, input("ca.crt", certtest.Chain(tc.cas...)))
			}
			res := Analyze(inputs, opts())
			if _, got := rulesOf(res.Findings)[RuleCAExpiresFirst]; got != tc.want {
				t.Errorf("CE105 %v, want %v: %v", got, tc.want, res.Findings)
			}
		})
	}
}
