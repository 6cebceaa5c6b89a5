// Package version holds the build's version string, set at link time:
//
//	go build -ldflags "-X github.com/barrage-dev/barrage/internal/version.Version=v0.1.0"
//
// Concurrency: read-only after start.
package version

// Version is the Barrage version; "dev" for untagged builds.
var Version = "dev"
