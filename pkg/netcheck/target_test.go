package netcheck

import "testing"

func TestParseDestination(t *testing.T) {
	cases := []struct {
		in   string
		want Destination
	}{
		{"web", Destination{Kind: KindPod, Name: "web"}},
		{"shop/web", Destination{Kind: KindPod, Namespace: "shop", Name: "web"}},
		{"pod/web:8080", Destination{Kind: KindPod, Name: "web", Port: 8080}},
		{"svc/web", Destination{Kind: KindService, Name: "web"}},
		{"svc/web:80", Destination{Kind: KindService, Name: "web", Port: 80}},
		{"service/web:http", Destination{Kind: KindService, Name: "web", PortName: "http"}},
		{"web:80", Destination{Kind: KindDNS, Host: "web", Port: 80}},
		{"web.shop.svc.cluster.local:8080", Destination{Kind: KindDNS, Host: "web.shop.svc.cluster.local", Port: 8080}},
		{"example.com", Destination{Kind: KindDNS, Host: "example.com"}},
		{"10.0.0.5:8080", Destination{Kind: KindIP, Host: "10.0.0.5", Port: 8080}},
		{"10.0.0.5", Destination{Kind: KindIP, Host: "10.0.0.5"}},
		{"[2001:db8::1]:443", Destination{Kind: KindIP, Host: "2001:db8::1", Port: 443}},
		{"2001:db8::1", Destination{Kind: KindIP, Host: "2001:db8::1"}},
		{"deploy/web", Destination{Kind: KindPod, Name: "web", Workload: "deployment"}},
		{"statefulsets.apps/db:5432", Destination{Kind: KindPod, Name: "db", Port: 5432, Workload: "statefulset"}},
		{"cj/report:metrics", Destination{Kind: KindPod, Name: "report", PortName: "metrics", Workload: "cronjob"}},
	}
	for _, c := range cases {
		got, err := ParseDestination(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "svc/", "a/b/c", "svc/web:", "bad_host!:80", "web:99999", "deploy/", "deploy/a/b"} {
		if d, err := ParseDestination(bad); err == nil {
			t.Errorf("%q: want an error, got %+v", bad, d)
		}
	}
}

func TestParsePort(t *testing.T) {
	if n, name, err := ParsePort("8080"); n != 8080 || name != "" || err != nil {
		t.Errorf("8080: %d %q %v", n, name, err)
	}
	if n, name, err := ParsePort("http"); n != 0 || name != "http" || err != nil {
		t.Errorf("http: %d %q %v", n, name, err)
	}
	if _, _, err := ParsePort("0"); err == nil {
		t.Error("0: want an error")
	}
}
