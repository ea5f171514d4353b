package pluginkit

import (
	"testing"

	"github.com/shoenig/test/must"
)

const exampleReadme = "# plugin\n\n## Configuration\n\n| Key | Default | Meaning |\n|---|---|---|\n" +
	"| `capacity` | required | requests a worker serves |\n" +
	"| `lead` | `5m` | boot time |\n" +
	"| `attempts` | `8` | tries |\n" +
	"| `seasonal` | `true` | use yesterday |\n" +
	"| `timeout` | set by the agent; `30s` when absent | deadline |\n" +
	"| `url` | none | where |\n" +
	"| `password` | none | a secret |\n" +
	"| `sql.<name>` | none | named queries |\n" +
	"\n## Next\n\n| `not_a_key` | `x` | outside the section |\n"

func TestAReadmeTableThatMatchesPasses(t *testing.T) {
	section := Section(exampleReadme, "## Configuration")
	must.StrContains(t, section, "`sql.<name>`")
	must.StrNotContains(t, section, "not_a_key")
	must.NoError(t, exampleTable.CheckReadme(section))
}

func TestAReadmeTableThatDriftedIsReportedRowByRow(t *testing.T) {
	drifted := "| `capacity` | required | x |\n| `lead` | `10m` | x |\n| `attemps` | `8` | x |\n"
	err := exampleTable.CheckReadme(drifted)
	for _, want := range []string{
		"lead: the README's default cell \"`10m`\" does not show the table's default `5m`",
		"attemps: the README lists a key the plugin refuses",
		"attempts: the README has no row for this key",
		"sql.<name>: the README has no row for these keys",
	} {
		must.ErrorContains(t, err, want)
	}
	must.ErrorContains(t, exampleTable.CheckReadme(""), "no key table")
}

func TestAnAgentLevelTableMustListTheNomadKeys(t *testing.T) {
	agent := &Table{Keys: []Key{{Name: "credentials", Kind: Text, Doc: "x"}}, AgentKeys: true}
	err := agent.CheckReadme("| `credentials` | ADC | x |\n")
	must.ErrorContains(t, err, "nomad_address: the README has no row")
	must.NoError(t, agent.CheckReadme("| `credentials` | ADC | x |\n| `nomad_config_inherit`, `nomad_address`, `nomad_region`, `nomad_namespace`, `nomad_token`, `nomad_http-auth`, `nomad_ca-cert`, `nomad_ca-path`, `nomad_client-cert`, `nomad_client-key`, `nomad_tls-server-name`, `nomad_skip-verify`, `nomad_block-query-wait-time` | agent's | x |\n"))
}
