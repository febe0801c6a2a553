//go:build !linux

package cli

// killChildren is only implemented on Linux: elsewhere a credential plugin
// that never exits outlives the plugin.
func killChildren() {}
