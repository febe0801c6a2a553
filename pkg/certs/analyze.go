package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktriage/ktriage/pkg/report"
)

// Result is what Analyze found.
type Result struct {
	// Certificates are sorted by time left, shortest first.
	Certificates []Certificate
	Findings     []report.Finding
	// About holds, for each finding, the SHA-256 of the certificate it is
	// about ("" when none), so that a report can recompute Severity and
	// Rules from the findings that survive suppression.
	About []string
}

// entry is one distinct certificate (by SHA-256) and where it was first seen.
type entry struct {
	cert  *x509.Certificate
	first *Input
	out   Certificate
}

type analyzer struct {
	opts      Options
	entries   []*entry
	byFP      map[string]*entry
	bySubject map[string][]*entry
	findings  []report.Finding
	about     []string
	// parsed and signatures make each distinct PEM block parsed once and
	// each (certificate, issuer) signature checked once: a cluster's TLS
	// Secrets repeat the same CA and intermediate in every Secret, and a
	// signature check costs far more than anything else here.
	parsed     *pemCache
	signatures map[signedBy]error
	checks     int // signatures checked
	// byCert is the entry of each certificate recorded: its SHA-256 once.
	byCert map[*x509.Certificate]*entry
	// names are the rendered distinguished names by their DER: every leaf
	// of a CA names the same issuer, and every Secret beside it repeats it.
	names map[string]string
}

// name is dn(n), once per distinct DER encoding (raw) of a name.
func (a *analyzer) name(raw []byte, n pkix.Name) string {
	if s, ok := a.names[string(raw)]; ok {
		return s
	}
	s := dn(n)
	a.names[string(raw)] = s
	return s
}

// entryOf is the entry of c (nil when c was not recorded).
func (a *analyzer) entryOf(c *x509.Certificate) *entry {
	if e, ok := a.byCert[c]; ok {
		return e
	}
	return a.byFP[fingerprint(c)]
}

// signedBy is a signature check: child against parent's key. Identical
// certificates share one *x509.Certificate (see pemCache), so the pointers
// name the bytes.
type signedBy struct{ child, parent *x509.Certificate }

// checkSignature is checkSignature, once per pair.
func (a *analyzer) checkSignature(child, parent *x509.Certificate) error {
	k := signedBy{child, parent}
	if err, ok := a.signatures[k]; ok {
		return err
	}
	err := checkSignature(child, parent)
	a.signatures[k] = err
	a.checks++
	return err
}

// checkSignatures checks the pairs not checked yet, in parallel, into the
// cache: the checks are independent, and most of cert-expiry's CPU.
func (a *analyzer) checkSignatures(pairs []signedBy) {
	var todo []signedBy
	for _, k := range pairs {
		if _, ok := a.signatures[k]; !ok {
			a.signatures[k] = nil // a placeholder: each pair once in todo
			todo = append(todo, k)
		}
	}
	a.checks += len(todo)
	errs := make([]error, len(todo))
	onEveryCore(len(todo), func(i int) { errs[i] = checkSignature(todo[i].child, todo[i].parent) })
	for i, k := range todo {
		a.signatures[k] = errs[i]
	}
}

// onEveryCore calls f(0) ... f(n-1), spread over GOMAXPROCS goroutines, and
// returns when all have returned.
func onEveryCore(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// checkSelfSigned settles which certificates are self-signed (their
// self-signatures checked on every core), and so which are roots: what the
// checks of issuers and strength then rely on.
func (a *analyzer) checkSelfSigned() {
	var pairs []signedBy
	for _, e := range a.entries {
		if bytes.Equal(e.cert.RawSubject, e.cert.RawIssuer) {
			pairs = append(pairs, signedBy{e.cert, e.cert})
		}
	}
	a.checkSignatures(pairs)
	for _, e := range a.entries {
		e.out.SelfSigned = bytes.Equal(e.cert.RawSubject, e.cert.RawIssuer) && a.checkSignature(e.cert, e.cert) == nil
		e.out.ChainRole = chainRole(e.cert, e.out.SelfSigned)
	}
}

// Analyze reads every input's certificates and reports on them: expiry
// windows, validity, key and signature strength, CAs expiring before what
// they signed, chains that do not verify, served chains that do not verify
// against their trust anchors or do not match the host. A certificate found
// in several places is reported once, with the other places in AlsoIn.
func Analyze(inputs []Input, opts Options) Result {
	res, _ := analyze(inputs, opts)
	return res
}

// analyze is Analyze; the analyzer tells tests and benchmarks what it did.
func analyze(inputs []Input, opts Options) (Result, *analyzer) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	a := &analyzer{opts: opts, byFP: map[string]*entry{}, bySubject: map[string][]*entry{},
		parsed: newPEMCache(), signatures: map[signedBy]error{}, byCert: map[*x509.Certificate]*entry{},
		names: map[string]string{}}
	if opts.Warm != nil {
		// The same PEM cache: the inputs' certificates are the very ones
		// whose signatures were checked.
		a.parsed, a.signatures = opts.Warm.done()
	}
	// Parsing is the costliest step after the signatures: every input is
	// parsed on every core first, then recorded in order.
	parsed := make([][]*x509.Certificate, len(inputs))
	parseErrs := make([]error, len(inputs))
	onEveryCore(len(inputs), func(i int) {
		if inputs[i].Err == nil {
			parsed[i], parseErrs[i] = a.parsed.parse(inputs[i].Data)
		}
	})
	for i := range inputs {
		in := &inputs[i]
		if in.Ref.Kind == "" && in.Ref.Path == "" {
			in.Ref.Path = in.Origin.String()
		}
		if in.Err != nil {
			a.add(in.Ref, RuleUnreadable, report.SeverityWarning, nil,
				fmt.Sprintf("%s: %v", in.Origin, oneLine(in.Err)),
				"Check the path and its permissions (certificates under /etc/kubernetes/pki are readable by root only).",
				map[string]any{"source": in.Origin.String()})
			continue
		}
		if err := parseErrs[i]; err != nil {
			a.add(in.Ref, RuleUnreadable, report.SeverityWarning, nil,
				fmt.Sprintf("%s: cannot read certificates: %v", in.Origin, oneLine(err)),
				"Fix or remove the data; check it with openssl x509 -noout -text.",
				map[string]any{"source": in.Origin.String()})
		}
		certs := parsed[i]
		for j, c := range certs {
			a.record(in, j, len(certs), c)
		}
	}
	a.checkSelfSigned()
	for _, e := range a.entries {
		a.checkValidity(e)
		a.checkStrength(e)
	}
	// Every signature the issuer and group checks need, checked on every
	// core at once; the checks then read the answers.
	groups := groupInputs(inputs, parsed)
	a.checkSignatures(append(a.issuerPairs(), a.groupPairs(groups)...))
	a.checkIssuers()
	a.checkGroups(groups)
	for i := range inputs {
		if inputs[i].Served != nil && len(parsed[i]) > 0 {
			a.checkServed(&inputs[i], parsed[i])
		}
	}
	out := make([]Certificate, 0, len(a.entries))
	for _, e := range a.entries {
		sort.Strings(e.out.Rules)
		out = append(out, e.out)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].NotAfter.Equal(out[j].NotAfter) {
			return out[i].NotAfter.Before(out[j].NotAfter)
		}
		return out[i].Source < out[j].Source
	})
	return Result{Certificates: out, Findings: a.findings, About: a.about}, a
}

func (a *analyzer) record(in *Input, index, count int, c *x509.Certificate) {
	// The same bytes parsed once share one *x509.Certificate: only a new
	// pointer needs hashing.
	e, ok := a.byCert[c]
	var fp string
	if !ok {
		sum := sha256.Sum256(c.Raw)
		fp = hex.EncodeToString(sum[:])
		e, ok = a.byFP[fp]
	}
	if ok {
		a.byCert[c] = e
		if src := in.Origin.String(); src != e.out.Source && !slices.Contains(e.out.AlsoIn, src) {
			e.out.AlsoIn = append(e.out.AlsoIn, src)
		}
		return
	}
	left := c.NotAfter.Sub(a.opts.Now)
	// SelfSigned and ChainRole are settled by checkSelfSigned.
	e = &entry{cert: c, first: in, out: Certificate{
		Source:       in.Origin.String(),
		Origin:       in.Origin,
		Subject:      a.name(c.RawSubject, c.Subject),
		Issuer:       a.name(c.RawIssuer, c.Issuer),
		SANs:         sans(c),
		Serial:       serialHex(c),
		NotBefore:    c.NotBefore.UTC(),
		NotAfter:     c.NotAfter.UTC(),
		DaysLeft:     int(left / (24 * time.Hour)),
		SecondsLeft:  int64(left / time.Second),
		IsCA:         c.IsCA,
		ChainIndex:   index,
		KeyAlgorithm: keyAlgorithm(c),
		Signature:    c.SignatureAlgorithm.String(),
		SHA256:       fp,
	}}
	a.entries = append(a.entries, e)
	a.byFP[fp] = e
	a.byCert[c] = e
	a.bySubject[string(c.RawSubject)] = append(a.bySubject[string(c.RawSubject)], e)
}

// add records a finding; e (when set) is the certificate it is about.
func (a *analyzer) add(ref report.ObjectRef, rule string, sev report.Severity, e *entry, msg, fix string, details map[string]any) {
	a.findings = append(a.findings, report.Finding{RuleID: rule, Severity: sev, Object: ref, Message: msg, Fix: fix, Details: details})
	fp := ""
	if e != nil {
		fp = e.out.SHA256
	}
	a.about = append(a.about, fp)
	if e != nil {
		e.out.Severity = max(e.out.Severity, sev)
		if !slices.Contains(e.out.Rules, rule) {
			e.out.Rules = append(e.out.Rules, rule)
		}
	}
}

func (a *analyzer) certFinding(e *entry, rule string, sev report.Severity, msg, fix string) {
	details := map[string]any{
		"source":   e.out.Source,
		"subject":  e.out.Subject,
		"notAfter": e.out.NotAfter.Format(time.RFC3339),
		"daysLeft": e.out.DaysLeft,
	}
	if len(e.out.AlsoIn) > 0 {
		details["alsoIn"] = e.out.AlsoIn
	}
	a.add(e.first.Ref, rule, sev, e, msg, fix, details)
}

func (a *analyzer) checkValidity(e *entry) {
	c, now := e.cert, a.opts.Now
	what := describe(e)
	left := c.NotAfter.Sub(now)
	switch {
	case now.Before(c.NotBefore):
		a.certFinding(e, RuleNotYetValid, report.SeverityError,
			fmt.Sprintf("%s is not valid until %s (in %s)", what, stamp(c.NotBefore), Human(c.NotBefore.Sub(now))),
			"Check the clocks (NTP) of the issuer and of this machine, or re-issue the certificate with a start date in the past.")
	case left <= 0:
		a.certFinding(e, RuleExpired, report.SeverityError,
			fmt.Sprintf("%s expired %s ago (%s)", what, Human(-left), stamp(c.NotAfter)),
			renewFix(e))
		return
	}
	switch {
	case left <= 0:
	case left <= a.opts.Fail:
		a.certFinding(e, RuleExpiresSoon, report.SeverityError,
			fmt.Sprintf("%s expires in %s (%s)", what, Human(left), stamp(c.NotAfter)), renewFix(e))
	case left <= a.opts.Warn:
		a.certFinding(e, RuleExpiresWithin, report.SeverityWarning,
			fmt.Sprintf("%s expires in %s (%s)", what, Human(left), stamp(c.NotAfter)), renewFix(e))
	}
}

func renewFix(e *entry) string {
	switch e.out.Origin.Type {
	case OriginPKI:
		return "Renew it: kubeadm certs renew (or re-issue from its CA) and restart the control-plane components that use it."
	case OriginKubeconfig:
		return "Get a new client certificate for this context (kubeadm kubeconfig user, or your identity provider) or switch to token/exec authentication."
	case OriginServed, OriginKubelet, OriginWebhook:
		return "Renew the serving certificate and restart the server presenting it."
	}
	if e.out.Origin.Kind == "Secret" {
		return "Renew the certificate in this Secret (cert-manager: cmctl renew) and restart the workloads that mount it."
	}
	return "Renew the certificate and replace it everywhere it is published."
}

func (a *analyzer) checkStrength(e *entry) {
	c := e.cert
	if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.N.BitLen() < 2048 {
		a.certFinding(e, RuleWeakKey, report.SeverityWarning,
			fmt.Sprintf("%s has a %d-bit RSA key", describe(e), pub.N.BitLen()),
			"Re-issue it with an RSA 2048+ or ECDSA P-256 key.")
	}
	// A root's self-signature is never checked by clients: only flag the
	// signatures clients verify.
	if weakSignature(c.SignatureAlgorithm) && !e.out.SelfSigned {
		a.certFinding(e, RuleWeakSignature, report.SeverityWarning,
			fmt.Sprintf("%s is signed with %s", describe(e), c.SignatureAlgorithm),
			"Re-issue it with a SHA-256 signature.")
	}
}

// issuerCandidates calls f for every (child, CA) pair whose signature
// decides whether checkIssuers reports the CA as expiring before the child.
func (a *analyzer) issuerCandidates(f func(child, ca *entry)) {
	for _, child := range a.entries {
		if child.out.SelfSigned {
			continue
		}
		for _, ca := range a.bySubject[string(child.cert.RawIssuer)] {
			// The signature last: it is the costly part, and most CAs
			// outlive what they signed.
			if ca == child || !ca.cert.NotAfter.Before(child.cert.NotAfter) || a.renewedFor(ca, child) {
				continue
			}
			f(child, ca)
		}
	}
}

// issuerPairs are the signatures checkIssuers reads.
func (a *analyzer) issuerPairs() []signedBy {
	var pairs []signedBy
	a.issuerCandidates(func(child, ca *entry) { pairs = append(pairs, signedBy{child.cert, ca.cert}) })
	return pairs
}

// checkIssuers finds, for every certificate, its issuer among all the
// certificates seen, and reports CAs that expire before what they signed.
func (a *analyzer) checkIssuers() {
	a.issuerCandidates(func(child, ca *entry) {
		if a.checkSignature(child.cert, ca.cert) == nil {
			a.certFinding(ca, RuleCAExpiresFirst, report.SeverityWarning,
				fmt.Sprintf("CA %q expires %s, %s before %s it signed (%s, %s)",
					ca.out.Subject, stamp(ca.cert.NotAfter), Human(child.cert.NotAfter.Sub(ca.cert.NotAfter)),
					describe(child), child.out.Source, stamp(child.cert.NotAfter)),
				"Renew the CA before it expires (keeping its key keeps the certificates it signed valid), or re-issue them within its lifetime.")
		}
	})
}

// renewedFor says whether a CA with the same subject and key as ca, seen
// anywhere, outlives child: renewing a CA with its key (kubeadm certs renew
// does) keeps what it signed valid, so the old copy expiring is harmless.
func (a *analyzer) renewedFor(ca, child *entry) bool {
	for _, o := range a.bySubject[string(ca.cert.RawSubject)] {
		if o != ca && o.cert.IsCA && bytes.Equal(o.cert.RawSubjectPublicKeyInfo, ca.cert.RawSubjectPublicKeyInfo) &&
			!o.cert.NotAfter.Before(child.cert.NotAfter) {
			return true
		}
	}
	return false
}

// member is a certificate of a group and the input it came from.
type member struct {
	in   *Input
	cert *x509.Certificate
}

// groups are the certificates of each group (a Secret, a kubeconfig
// context...), in the order the groups first appear.
type groups struct {
	members map[string][]member
	order   []string
}

// groupInputs gathers the parsed certificates of every input that belongs
// to a group (served chains are verified on their own).
func groupInputs(inputs []Input, parsed [][]*x509.Certificate) groups {
	gs := groups{members: map[string][]member{}}
	for i := range inputs {
		g := inputs[i].Group
		if g == "" || inputs[i].Served != nil {
			continue
		}
		if _, ok := gs.members[g]; !ok {
			gs.order = append(gs.order, g)
		}
		for _, c := range parsed[i] {
			gs.members[g] = append(gs.members[g], member{&inputs[i], c})
		}
	}
	return gs
}

// namedIssuers are the certificates of members that m names as its issuer.
func namedIssuers(members []member, m member) []*x509.Certificate {
	var out []*x509.Certificate
	for _, o := range members {
		if o.cert != m.cert && !bytes.Equal(o.cert.Raw, m.cert.Raw) && bytes.Equal(o.cert.RawSubject, m.cert.RawIssuer) {
			out = append(out, o.cert)
		}
	}
	return out
}

// groupPairs are the signatures checkGroups reads: each certificate that is
// not self-signed against the issuers it names within its group.
func (a *analyzer) groupPairs(gs groups) []signedBy {
	var pairs []signedBy
	for _, g := range gs.order {
		for _, m := range gs.members[g] {
			if e := a.entryOf(m.cert); e != nil && !e.out.SelfSigned {
				for _, iss := range namedIssuers(gs.members[g], m) {
					pairs = append(pairs, signedBy{m.cert, iss})
				}
			}
		}
	}
	return pairs
}

// checkGroups verifies issuers within a group: a certificate whose issuer is
// in the same group must carry that issuer's signature, and a certificate
// published next to anchors (tls.crt beside ca.crt) must chain to them.
func (a *analyzer) checkGroups(gs groups) {
	reported := map[string]bool{}
	for _, g := range gs.order {
		members := gs.members[g]
		var anchors []string
		for _, m := range members {
			if m.in.Role == RoleAnchor {
				anchors = append(anchors, a.name(m.cert.RawSubject, m.cert.Subject))
			}
		}
		for _, m := range members {
			e := a.entryOf(m.cert)
			if e == nil || e.out.SelfSigned || reported[e.out.SHA256] {
				continue
			}
			named := namedIssuers(members, m)
			switch {
			case len(named) > 0:
				var errs []error
				for _, iss := range named {
					err := a.checkSignature(m.cert, iss)
					if err == nil {
						errs = nil
						break
					}
					errs = append(errs, err)
				}
				if len(errs) > 0 {
					reported[e.out.SHA256] = true
					a.add(m.in.Ref, RuleChainInvalid, report.SeverityError, e,
						fmt.Sprintf("%s (%s) does not verify against its issuer %q published with it: %v", describe(e), m.in.Origin, dn(m.cert.Issuer), errs[0]),
						"Publish the CA that really issued the certificate, or re-issue the certificate from the published CA.",
						map[string]any{"source": m.in.Origin.String(), "issuer": dn(m.cert.Issuer)})
				}
			case m.in.Role == RoleIssued && len(anchors) > 0:
				reported[e.out.SHA256] = true
				a.add(m.in.Ref, RuleChainInvalid, report.SeverityWarning, e,
					fmt.Sprintf("%s (%s) was issued by %q, which is not the CA published with it (%s)", describe(e), m.in.Origin, dn(m.cert.Issuer), strings.Join(anchors, "; ")),
					"Publish the CA that issued the certificate next to it (ca.crt), or re-issue the certificate from the published CA.",
					map[string]any{"source": m.in.Origin.String(), "issuer": dn(m.cert.Issuer), "anchors": anchors})
			}
		}
	}
}

// checkServed verifies a chain received in a handshake the way a client
// does: against the trust anchors, then the host name.
func (a *analyzer) checkServed(in *Input, chain []*x509.Certificate) {
	s, leaf := in.Served, chain[0]
	e := a.entryOf(leaf)
	if s.Insecure {
		return
	}
	// A TLS client checks the server usage; dates are left to the expiry
	// rules (see verifyServed).
	opts := x509.VerifyOptions{
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	rootsName := s.RootsName
	var roots []*x509.Certificate
	if len(s.Roots) > 0 {
		var err error
		roots, err = a.parsed.parse(s.Roots)
		opts.Roots = x509.NewCertPool()
		for _, r := range roots {
			opts.Roots.AddCert(r)
		}
		if len(roots) == 0 {
			a.add(in.Ref, RuleUnreadable, report.SeverityWarning, nil,
				fmt.Sprintf("%s: %s holds no readable certificate: %v", in.Origin, rootsName, oneLine(err)),
				"Fix the CA data.", map[string]any{"source": in.Origin.String()})
			return
		}
	} else if rootsName == "" {
		rootsName = "the system roots"
	}
	rule := s.MismatchRule
	if rule == "" {
		rule = RuleChainInvalid
	}
	// Anchors that could not be read are reported on their own input: any
	// verdict on the chain would be against the wrong anchors.
	var err error
	if !s.SkipChain {
		err = a.verifyServed(chain, roots, opts)
	}
	if err != nil {
		fix := "Serve the leaf followed by its intermediates, issued by the CA clients trust, or publish that CA in " + rootsName + "."
		if rule == RuleCABundleMismatch {
			fix = "Put the CA that issued the serving certificate in the caBundle, or re-issue the serving certificate from the caBundle's CA."
		}
		a.add(in.Ref, rule, report.SeverityError, e,
			fmt.Sprintf("%s serves a chain that does not verify against %s: %v", in.Origin, rootsName, err), fix,
			map[string]any{"source": in.Origin.String(), "subject": dn(leaf.Subject), "trust": rootsName})
	}
	if s.Host != "" {
		if err := leaf.VerifyHostname(s.Host); err != nil {
			a.add(in.Ref, RuleHostnameMismatch, report.SeverityError, e,
				fmt.Sprintf("%s serves a certificate that does not match host %q: SANs are [%s]", in.Origin, s.Host, strings.Join(sans(leaf), ", ")),
				fmt.Sprintf("Re-issue the serving certificate with %q in its SANs, or dial a name it lists.", s.Host),
				map[string]any{"source": in.Origin.String(), "host": s.Host, "sans": sans(leaf)})
		}
	}
}

// verifyServed verifies a served chain at a time when its certificates are
// all within their dates, so that an expired or not yet valid certificate
// does not hide a wrong CA, a missing intermediate or a wrong usage: Go
// checks the dates first and stops there, and the expiry rules report the
// dates anyway. It tries the analysis time clamped into the validity of
// the served chain with its anchors, of the served chain, then of the leaf,
// and returns nil when one of them verifies or only dates get in the way.
func (a *analyzer) verifyServed(chain, roots []*x509.Certificate, opts x509.VerifyOptions) error {
	leaf := chain[0]
	var times []time.Time
	for _, set := range [][]*x509.Certificate{append(append([]*x509.Certificate(nil), chain...), roots...), chain, chain[:1]} {
		if t, ok := clampInto(a.opts.Now, set); ok && !containsTime(times, t) {
			times = append(times, t)
		}
	}
	var first error
	for _, t := range times {
		opts.CurrentTime = t
		_, err := leaf.Verify(opts)
		if err == nil {
			return nil
		}
		if first == nil && !onlyExpired(err) {
			first = err
		}
	}
	return first
}

// clampInto moves t into the period in which every certificate is valid;
// ok is false when there is no such period.
func clampInto(t time.Time, certs []*x509.Certificate) (time.Time, bool) {
	lo, hi := certs[0].NotBefore, certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotBefore.After(lo) {
			lo = c.NotBefore
		}
		if c.NotAfter.Before(hi) {
			hi = c.NotAfter
		}
	}
	switch {
	case lo.After(hi):
		return t, false
	case t.Before(lo):
		return lo, true
	case t.After(hi):
		return hi, true
	}
	return t, true
}

func containsTime(list []time.Time, t time.Time) bool {
	for _, x := range list {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

// onlyExpired recognises a verification failure due to validity dates alone:
// the expiry rules already report it.
func onlyExpired(err error) bool {
	var inv x509.CertificateInvalidError
	return errors.As(err, &inv) && inv.Reason == x509.Expired
}

// checkSignature checks that parent signed child. SHA-1 and MD5 signatures,
// which crypto/x509 refuses to check, are verified here directly so that an
// old chain is reported as weak rather than broken.
func checkSignature(child, parent *x509.Certificate) error {
	var h crypto.Hash
	switch child.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		return child.CheckSignatureFrom(parent)
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum(child.RawTBSCertificate)
		digest = d[:]
	} else {
		d := md5.Sum(child.RawTBSCertificate)
		digest = d[:]
	}
	switch pub := parent.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, h, digest, child.Signature)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, child.Signature) {
			return errors.New("ECDSA verification failure")
		}
		return nil
	}
	return fmt.Errorf("unsupported public key type %T", parent.PublicKey)
}

func weakSignature(s x509.SignatureAlgorithm) bool {
	switch s {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
		return true
	}
	return false
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func chainRole(c *x509.Certificate, selfSigned bool) string {
	switch {
	case !c.IsCA:
		return ChainLeaf
	case selfSigned:
		return ChainRoot
	}
	return ChainIntermediate
}

func describe(e *entry) string {
	kind := "certificate"
	switch {
	case e.out.IsCA && e.out.SelfSigned:
		kind = "CA certificate"
	case e.out.IsCA:
		kind = "intermediate CA certificate"
	}
	return fmt.Sprintf("%s %q", kind, e.out.Subject)
}

// dn renders a distinguished name as openssl does in one line
// (CN=..., O=...), falling back to the full RFC 2253 string.
func dn(n pkix.Name) string {
	if s := n.String(); s != "" {
		return s
	}
	return "(empty)"
}

func sans(c *x509.Certificate) []string {
	var out []string
	out = append(out, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

func serialHex(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(c.SerialNumber.Text(16))
}

func keyAlgorithm(c *x509.Certificate) string {
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", pub.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + pub.Curve.Params().Name
	}
	return c.PublicKeyAlgorithm.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Human renders a duration in days and hours ("3d4h", "5h12m", "40s").
func Human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days := int64(d / (24 * time.Hour))
	hours := int64(d%(24*time.Hour)) / int64(time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", hours, int64(d%time.Hour)/int64(time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
