package plugin

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// readmeSeries is the worked example of the README: sixty minutes rising
// 10 per minute from 2,000, every other minute 200 higher.
func readmeSeries() []float64 {
	v := make([]float64, 60)
	for i := range v {
		v[i] = 2000 + 10*float64(i)
		if i%2 == 1 {
			v[i] += 200
		}
	}
	return v
}

func TestTheReadmeWorkedExampleHolds(t *testing.T) {
	// startup_headroom as by default (evalOf turns it off unless set).
	cfg := map[string]string{"capacity_per_worker": "100", "startup_headroom": "1"}
	readme, err := os.ReadFile("../README.md")
	must.NoError(t, err)

	out, err := newTestPlugin(t, friday).Run(evalOf(cfg, friday, readmeSeries()...), 24)
	must.NoError(t, err)
	must.Eq(t, int64(57), out.Action.Count)
	must.StrContains(t, string(readme), out.Action.Reason) // the README quotes the Reason verbatim
	must.InDelta(t, 292.36, out.Action.Meta["margin_unit"].(float64), 0.01)

	// Without the startup headroom (a window of two days or more), the
	// margin alone: 37.
	cfg["startup_headroom"] = "0"
	out, err = newTestPlugin(t, friday).Run(evalOf(cfg, friday, readmeSeries()...), 24)
	must.NoError(t, err)
	must.Eq(t, int64(37), out.Action.Count)
	must.StrContains(t, string(readme), out.Action.Reason)

	// "Had the current count been 40": a plugin started now holds ...
	p := newTestPlugin(t, friday)
	out, err = p.Run(evalOf(cfg, friday, readmeSeries()...), 40)
	must.NoError(t, err)
	must.Eq(t, int64(40), out.Action.Count)
	// ... one that watched the check for a lead, every minute, with no
	// increase answers 37.
	for m := 1; m <= 5; m++ {
		later := friday.Add(time.Duration(m) * time.Minute)
		p.SetClock(func() time.Time { return later })
		out, err = p.Run(evalOf(cfg, later, readmeSeries()...), 40)
		must.NoError(t, err)
	}
	must.Eq(t, int64(37), out.Action.Count)
	must.Eq(t, sdk.ScaleDirectionDown, out.Action.Direction)
}

// TestTheShippedPolicyIsValidForThisStrategy decodes policies/*.hcl the way
// the agent does and parses every strategy "slope" block with this plugin's
// rules, so a policy edit cannot ship a typo.
func TestTheShippedPolicyIsValidForThisStrategy(t *testing.T) {
	files, err := filepath.Glob("../../../policies/*.hcl")
	must.NoError(t, err)
	checked := 0
	for _, f := range files {
		var doc sdk.FileDecodeScalingPolicies
		if err := hclsimple.DecodeFile(f, nil, &doc); err != nil {
			continue // not a scaling policy file (agent config, job)
		}
		for _, p := range doc.ScalingPolicies {
			for _, c := range p.Doc.Checks {
				if c.Strategy == nil || c.Strategy.Name != "slope" {
					continue
				}
				_, err := parseConfig(c.Strategy.Config)
				must.NoError(t, err, must.Sprintf("%s: policy %q check %q", f, p.Name, c.Name))
				checked++
			}
		}
	}
	must.Positive(t, checked)
	must.True(t, strings.Contains(strings.Join(files, " "), "gpu-workers.hcl"))
}

// TestTheReadmeTableListsEveryKeyWithItsDefault reads the configuration
// table of the README and checks it against the parser: every accepted key
// has a row, every row is an accepted key, and writing a row's default into
// a config changes nothing.
func TestTheReadmeTableListsEveryKeyWithItsDefault(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	must.NoError(t, err)
	must.NoError(t, configTable.Check())
	must.NoError(t, configTable.CheckReadme(pluginkit.Section(string(readme), "### Check `strategy \"slope\"` block")))

	// A row's literal default, written into a config, changes nothing.
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| `([^`|]+)` \\|")
	want, err := parseConfig(map[string]string{keyCapacity: "100"})
	must.NoError(t, err)
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		got, err := parseConfig(map[string]string{keyCapacity: "100", m[1]: m[2]})
		must.NoError(t, err, must.Sprintf("README default of %s", m[1]))
		must.True(t, reflect.DeepEqual(want, got), must.Sprintf("README default %s = %s is not the parser's default", m[1], m[2]))
	}
}

// TestUncommentingTheShippedOverridePinsEveryCheck follows the procedure the
// policy and the README give: uncomment the override_count, _until and
// _reason lines of policies/gpu-workers.hcl. Every slope check must then
// return exactly the override count, whatever its metrics say, so the agent
// has only that count to pick.
func TestUncommentingTheShippedOverridePinsEveryCheck(t *testing.T) {
	src, err := os.ReadFile("../../../policies/gpu-workers.hcl")
	must.NoError(t, err)
	uncomment := regexp.MustCompile(`(?m)^(\s*)# (override_(count|until|reason)\s*=)`)
	edited := uncomment.ReplaceAll(src, []byte("$1$2"))

	var doc sdk.FileDecodeScalingPolicies
	must.NoError(t, hclsimple.Decode("gpu-workers.hcl", edited, nil, &doc))
	checks := 0
	for _, p := range doc.ScalingPolicies {
		for _, c := range p.Doc.Checks {
			if c.Strategy == nil || c.Strategy.Name != "slope" {
				continue
			}
			must.MapContainsKey(t, c.Strategy.Config, keyOverrideCount, must.Sprintf("check %q", c.Name))
			for _, load := range []float64{0, 50_000} { // quiet, and a backlog or rate far above 40 workers
				eval := evalOf(c.Strategy.Config, friday, repeat(60, load)...)
				out, err := newTestPlugin(t, friday).Run(eval, 10)
				must.NoError(t, err)
				must.Eq(t, int64(40), out.Action.Count, must.Sprintf("check %q at load %v", c.Name, load))
			}
			checks++
		}
	}
	must.Eq(t, 2, checks)
}

func TestTheReadmeListsTheAgentBlockKeys(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	must.NoError(t, err)
	must.NoError(t, agentTable.Check())
	must.NoError(t, agentTable.CheckReadme(pluginkit.Section(string(readme), "### Agent `strategy` block (`config = { ... }`)")))
}
