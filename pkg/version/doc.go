// Package version reports the build's version, set at release time with
// -ldflags "-X github.com/ktriage/ktriage/pkg/version.Version=v1.2.3".
//
// In the data flow it feeds every report's metadata and --version.
package version
