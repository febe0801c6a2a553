// Package qosaudit checks kubectl qos-audit against a real apiserver: the
// class it predicts from manifests and computes from live pods must be the
// status.qosClass the apiserver assigns, with and without LimitRanges.
package qosaudit

import (
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) {
	framework.Main(m, framework.Options{Name: "qosaudit", Nodes: 2, Zones: 1})
}
