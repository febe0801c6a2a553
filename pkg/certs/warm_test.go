package certs

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// Signatures checked while the Secrets are read change no answer: the same
// certificates and findings, in the same order, as a run without, among
// them a Secret whose tls.crt carries an intermediate with its issuer's
// name but another key; and the checks done early are not done again.
func TestWarmSameAnswers(t *testing.T) {
	secrets := bigcluster.TLSSecrets(1, 120, 10)
	root := rootCA(t)
	spec := certtest.Spec{CommonName: "issuing", IsCA: true, NotBefore: days(-10), NotAfter: days(365), Parent: root}
	issuing, impostor := certtest.Must(spec), certtest.Must(spec) // same name, other keys
	leaf := leafFrom(issuing, -1, 100)
	secrets = append(secrets, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": certtest.Chain(leaf, impostor), "tls.key": leaf.KeyPEM, "ca.crt": root.CertPEM}})
	snap := &cluster.Snapshot{Secrets: secrets, Loaded: map[cluster.Kind]bool{cluster.KindSecret: true}}
	opts := Options{Now: bigcluster.Now, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour}

	cold, coldA := analyze(FromSnapshot(snap).Inputs, opts)
	w := NewWarm()
	objs := make([]runtime.Object, len(secrets))
	for i, s := range secrets {
		objs[i] = s
	}
	w.Page(objs[:50]) // two pages, as a LIST hands them
	w.Page(objs[50:])
	opts.Warm = w
	warm, warmA := analyze(FromSnapshot(snap).Inputs, opts)

	if !reflect.DeepEqual(cold, warm) {
		t.Fatal("the report differs when signatures are checked while the Secrets are read")
	}
	invalid := 0
	for _, f := range warm.Findings {
		if f.RuleID == RuleChainInvalid && f.Object.Name == "web-tls" {
			invalid++
		}
	}
	if invalid != 1 {
		t.Errorf("%d %s findings on web-tls, want 1 (its intermediate did not sign its leaf)", invalid, RuleChainInvalid)
	}
	// Left for the analysis: the self-signed roots' own signatures, and
	// each CA that expires before a leaf it signed checked again only when
	// no Secret pairs them.
	if warmA.checks >= coldA.checks/4 {
		t.Errorf("%d signatures checked after warming, %d without: the early checks were not used", warmA.checks, coldA.checks)
	}
}
