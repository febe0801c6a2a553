package bigcluster_test

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// validIPBlock is the API server's ipBlock validation
// (k8s.io/kubernetes/pkg/apis/networking/validation.ValidateIPBlock, with
// strict CIDR validation as v1.37 has it on): a valid CIDR, and each
// exception a valid CIDR strictly inside it.
func validIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(path.Child("cidr"), b.CIDR, true, nil)
	_, block, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	for i, e := range b.Except {
		p := path.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(p, e, true, nil)...)
		_, except, err := netutils.ParseCIDRSloppy(e)
		if err != nil {
			continue
		}
		blockLen, _ := block.Mask.Size()
		exceptLen, _ := except.Mask.Size()
		if !block.Contains(except.IP) || blockLen >= exceptLen {
			errs = append(errs, field.Invalid(p, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// Every generated ipBlock is one the API server accepts (bench-e2e creates
// the policies through it).
func TestPoliciesHaveValidIPBlocks(t *testing.T) {
	blocks, excepts := 0, 0
	for _, np := range bigcluster.Policies(1, 3000, 100) {
		check := func(path *field.Path, b *networkingv1.IPBlock) {
			if b == nil {
				return
			}
			blocks++
			excepts += len(b.Except)
			for _, err := range validIPBlock(b, path) {
				t.Errorf("%s/%s: %v", np.Namespace, np.Name, err)
			}
		}
		for i, r := range np.Spec.Egress {
			for j, p := range r.To {
				check(field.NewPath("spec", "egress").Index(i).Child("to").Index(j).Child("ipBlock"), p.IPBlock)
			}
		}
		for i, r := range np.Spec.Ingress {
			for j, p := range r.From {
				check(field.NewPath("spec", "ingress").Index(i).Child("from").Index(j).Child("ipBlock"), p.IPBlock)
			}
		}
	}
	if blocks == 0 || excepts == 0 {
		t.Fatalf("%d ipBlocks with %d exceptions generated: the test checks nothing", blocks, excepts)
	}
}

// The validation above refuses what the API server refuses.
func TestValidIPBlockRefusesExceptionsOutsideTheBlock(t *testing.T) {
	for _, tc := range []struct {
		cidr, except string
		ok           bool
	}{
		{"10.1.0.0/16", "10.1.7.0/24", true},
		{"10.1.0.0/16", "10.2.7.0/24", false}, // outside
		{"10.1.0.0/16", "10.1.0.0/16", false}, // not strictly inside
		{"10.1.0.0/16", "10.0.0.0/8", false},  // wider
		{"10.1.0.0/16", "10.1.7.1/24", false}, // host bits set (strict validation)
		{"10.1.0.0/16", "010.1.7.0/24", false},
	} {
		errs := validIPBlock(&networkingv1.IPBlock{CIDR: tc.cidr, Except: []string{tc.except}}, field.NewPath("ipBlock"))
		if got := len(errs) == 0; got != tc.ok {
			t.Errorf("cidr %s except %s: valid %v, want %v (%v)", tc.cidr, tc.except, got, tc.ok, fmt.Sprint(errs))
		}
	}
}
