// Command kubectl-netcheck is the kubectl plugin invoked as "kubectl netcheck".
package main

import (
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/plugins/netcheck"
)

func main() { cli.Main(netcheck.NewCommand) }
