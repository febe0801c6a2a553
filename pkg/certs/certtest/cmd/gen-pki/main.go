package main

import (
	"fmt"
	"os"
	"time"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-pki:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: gen-pki serving|kubeadm DIR, or gen-pki manifests NAMESPACE")
	}
	now := time.Now()
	var gen certtest.Generated
	switch args[0] {
	case "serving":
		pki, err := certtest.NewServingPKI(now)
		if err != nil {
			return err
		}
		if err := pki.Write(args[1]); err != nil {
			return err
		}
		gen = certtest.Generated{"ca.crt": pki.Root.Cert.NotAfter, "intermediate": pki.Intermediate.Cert.NotAfter, "tls.crt": pki.Leaf.Cert.NotAfter}
	case "kubeadm":
		var err error
		if gen, err = certtest.KubeadmPKI(args[1], now); err != nil {
			return err
		}
	case "manifests":
		yaml, g, err := certtest.Manifests(args[1], now)
		if err != nil {
			return err
		}
		gen = g
		fmt.Print(yaml)
	default:
		return fmt.Errorf("unknown layout %q: use serving, kubeadm or manifests", args[0])
	}
	for _, s := range gen.Sources() {
		fmt.Fprintf(os.Stderr, "%s\t%s\n", gen[s].Format(time.RFC3339), s)
	}
	return nil
}
