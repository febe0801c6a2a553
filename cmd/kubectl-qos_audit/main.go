// Command kubectl-qos_audit is the kubectl plugin invoked as "kubectl qos-audit".
package main

import (
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/plugins/qosaudit"
)

func main() { cli.Main(qosaudit.NewCommand) }
