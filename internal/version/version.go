// Package version holds the release version stamped into every binary of this module.
package version

// Version is overwritten at link time by `make build` and `make dist`
// (-ldflags "-X github.com/fleetslope/nomad-gpu-autoscaler/internal/version.Version=...").
var Version = "0.1.0-dev"
