package version

import "runtime/debug"

// Version is overwritten by the release build. When empty, the module version
// recorded by `go install ...@vX.Y.Z` is used instead.
var Version = ""

// Commit is the git commit of the build, set by the release build.
var Commit = ""

// Get returns the best known version of this binary.
func Get() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
