package main

import (
	"net"
	"testing"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// The API server refuses an ipBlock exception outside its CIDR; every
// generated policy must be created.
func TestValidExcepts(t *testing.T) {
	checked := 0
	for _, np := range bigcluster.Policies(1, 1000, 100) {
		validExcepts(np)
		for _, r := range np.Spec.Egress {
			for _, p := range r.To {
				if p.IPBlock == nil {
					continue
				}
				_, block, err := net.ParseCIDR(p.IPBlock.CIDR)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range p.IPBlock.Except {
					ip, sub, err := net.ParseCIDR(e)
					if err != nil || !block.Contains(ip) || !sub.IP.Equal(ip) {
						t.Errorf("%s/%s: except %s is not a network inside %s", np.Namespace, np.Name, e, p.IPBlock.CIDR)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no ipBlock exceptions generated: the test checks nothing")
	}
}
