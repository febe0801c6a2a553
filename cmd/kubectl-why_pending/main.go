// Command kubectl-why_pending is the kubectl plugin invoked as "kubectl why-pending".
package main

import (
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/plugins/whypending"
)

func main() { cli.Main(whypending.NewCommand) }
