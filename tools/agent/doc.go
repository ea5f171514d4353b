//go:build tools

// Package agent pins github.com/hashicorp/nomad-autoscaler v0.5.0 so that
// `make agent` can build the official agent binary from the module cache:
//
//	cd tools/agent && go build -o ../../bin/nomad-autoscaler github.com/hashicorp/nomad-autoscaler
package agent

import (
	_ "github.com/hashicorp/nomad-autoscaler/command"
	_ "github.com/mitchellh/cli"
)
