package plugin

import (
	"os"
	"testing"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// TestTheReadmeListsEveryKey compares the README's key tables with the
// plugin's config tables, so that a new key cannot ship undocumented, a
// removed one cannot stay documented, and a default cannot drift.
func TestTheReadmeListsEveryKey(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	must.NoError(t, err)
	must.NoError(t, targetTable.Check())
	must.NoError(t, pluginTable.Check())
	must.NoError(t, targetTable.CheckReadme(pluginkit.Section(string(readme), "### Policy `target` block")))
	must.NoError(t, pluginTable.CheckReadme(pluginkit.Section(string(readme), "### Agent `target` block (`config = { ... }`)")))
}
