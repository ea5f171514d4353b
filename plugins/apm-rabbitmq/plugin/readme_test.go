package plugin

import (
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/shoenig/test/must"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	must.NoError(t, err)
	return string(b)
}

// TestTheReadmeTableListsEveryKeyWithItsDefault checks the configuration
// table against the parser: every key an operator may set has a row, every
// key in a row is accepted, and writing a row's literal default into a
// config changes nothing.
func TestTheReadmeTableListsEveryKeyWithItsDefault(t *testing.T) {
	t.Parallel()
	row := regexp.MustCompile("(?m)^\\| (`[^|]+) \\| ([^|]+) \\|")
	key := regexp.MustCompile("`([^`]+)`")
	literal := regexp.MustCompile("^`([^`]+)`$")
	base := map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyPostgresURL: "postgres://h/db"}
	summary := func(extra map[string]string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		c, err := parseConfig(m)
		must.NoError(t, err, must.Sprintf("config %v", extra))
		skip := c.tls.config != nil && c.tls.config.InsecureSkipVerify
		return fmt.Sprint(c.postgresMaxConns, c.requestsTable, c.requestsTimeColumn, c.settleDelay, c.queryTimeout, skip, c.access)
	}
	text := readme(t)
	section := pluginkit.Section(text, "## Configuration")
	must.NoError(t, configTable.Check())
	must.NoError(t, configTable.CheckReadme(section))
	// The named queries' row is a valid name.
	_, err := parseConfig(map[string]string{configKeyPostgresURL: "postgres://h/db", "sql.a-name_2": validNamedSQL})
	must.NoError(t, err)
	// A row's literal default, written into a config, changes nothing.
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		keys := key.FindAllStringSubmatch(m[1], -1)
		def := strings.TrimSpace(m[2])
		if d := literal.FindStringSubmatch(def); d != nil && len(keys) == 1 && configTable.Accepts(keys[0][1]) && !strings.HasPrefix(keys[0][1], "_") {
			must.Eq(t, summary(nil), summary(map[string]string{keys[0][1]: d[1]}),
				must.Sprintf("the README's default %s for %s", def, keys[0][1]))
		}
	}
}

// TestTheReadmeExampleIsValid decodes the README's agent block as the agent
// does and parses its config, and parses every query of its policy and
// checks that the config allows it.
func TestTheReadmeExampleIsValid(t *testing.T) {
	t.Parallel()
	blocks := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	must.SliceLen(t, 2, blocks)

	var agent struct {
		PluginDir string `hcl:"plugin_dir"`
		APM       []struct {
			Name   string            `hcl:"name,label"`
			Driver string            `hcl:"driver"`
			Config map[string]string `hcl:"config"`
		} `hcl:"apm,block"`
	}
	must.NoError(t, hclsimple.Decode("agent.hcl", []byte(blocks[0][1]), nil, &agent))
	must.SliceLen(t, 1, agent.APM)
	must.Eq(t, PluginName, agent.APM[0].Driver)
	// pgx reads the CA file the DSN names: give it one where the example says.
	cfg := agent.APM[0].Config
	const exampleCA = "sslrootcert=/etc/ssl/pg-ca.pem"
	must.StrContains(t, cfg[configKeyPostgresURL], exampleCA)
	certPEM, _ := selfSignedPEM(t, "db.internal")
	ca := filepath.Join(t.TempDir(), "pg-ca.pem")
	must.NoError(t, os.WriteFile(ca, certPEM, 0o600))
	cfg[configKeyPostgresURL] = strings.Replace(cfg[configKeyPostgresURL], exampleCA, "sslrootcert="+ca, 1)
	c, err := parseConfig(cfg)
	must.NoError(t, err)

	queries := regexp.MustCompile(`(?m)^\s*query\s*=\s*"([^"]+)"`).FindAllStringSubmatch(blocks[1][1], -1)
	must.SliceNotEmpty(t, queries)
	var kinds []queryKind
	for _, q := range queries {
		parsed, err := parseQuery(q[1])
		must.NoError(t, err)
		_, err = c.access.admit(parsed)
		must.NoError(t, err)
		kinds = append(kinds, parsed.kind)
	}
	must.SliceContains(t, kinds, queryKindNamed, must.Sprint("the example shows a named query"))
}
