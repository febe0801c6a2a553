// Command kubectl-cert_expiry is the kubectl plugin invoked as "kubectl cert-expiry".
package main

import (
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/plugins/certexpiry"
)

func main() { cli.Main(certexpiry.NewCommand) }
