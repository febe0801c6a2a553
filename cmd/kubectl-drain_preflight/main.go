// Command kubectl-drain_preflight is the kubectl plugin invoked as "kubectl drain-preflight".
package main

import (
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/plugins/drainpreflight"
)

func main() { cli.Main(drainpreflight.NewCommand) }
