// Package policies_test decodes every scaling policy of this folder the way
// the nomad-autoscaler v0.5.0 agent does, so that none of them can rot: with
// the agent's file-policy schema, its validation, and our plugins' parsers,
// against the plugin blocks that deploy/agent.hcl declares.
package policies_test

import (
	"path/filepath"
	"testing"

	"github.com/shoenig/test/must"
)

// productionAgent is the agent configuration the policies run under.
const productionAgent = "../deploy/agent.hcl"

func hclFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.hcl")
	must.NoError(t, err)
	must.SliceContainsSubset(t, files, []string{"demo.hcl", "gpu-workers.hcl"})
	return files
}
