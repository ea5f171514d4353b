package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/sli"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	gcegpu "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
)

// dashboard is the part of Grafana's dashboard JSON the test reads.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

var ourSeries = regexp.MustCompile(`fleetslope_[a-z_]+`)

// TestTheDashboardChartsExactlyWhatThePluginsExport holds the shipped
// Grafana dashboard to the plugins' registries and to cmd/sli's watch mode:
// every fleetslope_* series a panel queries is one they export (a renamed
// metric cannot leave an empty panel), and every series they export has a
// panel.
func TestTheDashboardChartsExactlyWhatThePluginsExport(t *testing.T) {
	b, err := os.ReadFile("grafana-dashboard.json")
	must.NoError(t, err)
	var d dashboard
	must.NoError(t, json.Unmarshal(b, &d))
	must.NotEq(t, "", d.UID)

	exported := append(slope.New(hclog.NewNullLogger()).MetricNames(), gcegpu.New(hclog.NewNullLogger()).MetricNames()...)
	for name := range sli.MetricLabels() {
		exported = append(exported, name)
	}
	must.SliceNotEmpty(t, exported)
	queried := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		must.SliceNotEmpty(t, p.Targets, must.Sprintf("panel %q has queries", p.Title))
		for _, q := range p.Targets {
			for _, name := range ourSeries.FindAllString(q.Expr, -1) {
				base := name
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if trimmed, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(exported, trimmed) {
						base = trimmed
					}
				}
				must.SliceContains(t, exported, base, must.Sprintf("panel %q queries %s, which no plugin exports", p.Title, name))
				queried[base] = true
			}
		}
	}
	for _, name := range exported {
		must.True(t, queried[name], must.Sprintf("no panel charts %s", name))
	}
}
