// Package deploy_test checks the Nomad job that runs the agent: it must
// parse; the agent configuration its template renders must load with the
// agent's own loader, declare our three plugins, and give URLs that the
// plugin's clients parse back to the passwords whatever they hold; and
// PostgreSQL is verified as in deploy/agent.hcl.
package deploy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/shoenig/test/must"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

const jobFile = "nomad-autoscaler.nomad.hcl"

func parseJob(t *testing.T) *hclsyntax.Body {
	t.Helper()
	src, err := os.ReadFile(jobFile)
	must.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, jobFile, hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	return f.Body.(*hclsyntax.Body)
}

func block(t *testing.T, body *hclsyntax.Body, typ string, match func(*hclsyntax.Block) bool) *hclsyntax.Block {
	t.Helper()
	for _, b := range body.Blocks {
		if b.Type == typ && (match == nil || match(b)) {
			return b
		}
	}
	t.Fatalf("no %s block", typ)
	return nil
}

// evalContext gives the job's variables their defaults and the functions
// the job file uses, as `nomad job run` would.
func evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
			"rabbitmq_hosts": cty.ListVal([]cty.Value{cty.StringVal("rabbitmq-1.internal"), cty.StringVal("rabbitmq-2.internal")}),
			"postgres_host":  cty.StringVal("ekyc-db.internal"),
		})},
		Functions: map[string]function.Function{"join": stdlib.JoinFunc, "formatlist": stdlib.FormatListFunc},
	}
}

// taskTemplate returns the template block of the task whose destination
// ends with suffix.
func taskTemplate(t *testing.T, suffix string) *hclsyntax.Block {
	t.Helper()
	job := block(t, parseJob(t), "job", nil)
	task := block(t, block(t, job.Body, "group", nil).Body, "task", nil)
	return block(t, task.Body, "template", func(b *hclsyntax.Block) bool {
		return strings.HasSuffix(stringAttr(t, b, "destination", nil), suffix)
	})
}

// stringAttr evaluates a string attribute of a block ("" when absent).
func stringAttr(t *testing.T, b *hclsyntax.Block, name string, ctx *hcl.EvalContext) string {
	t.Helper()
	attr, ok := b.Body.Attributes[name]
	if !ok {
		return ""
	}
	v, diags := attr.Expr.Value(ctx)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	return v.AsString()
}

// varItem stands for consul-template's NomadVarItem: a template prints
// it, and urlquery escapes it, through its String method.
type varItem struct{ Key, Value string }

func (v varItem) String() string { return v.Value }

// render executes a template block of the job as Nomad's consul-template
// does: Go's text/template with the block's delimiters, whose builtins
// (urlquery among them) consul-template keeps, plus stand-ins for the
// consul-template functions the job uses. nomadVar answers items for the
// job's Variable; replaceAll takes consul-template's argument order.
// Rendering with consul-template itself would add it and the Consul and
// Vault clients to the module for one test.
func render(t *testing.T, tmpl *hclsyntax.Block, items map[string]string) string {
	t.Helper()
	data := stringAttr(t, tmpl, "data", evalContext())
	left, right := stringAttr(t, tmpl, "left_delimiter", nil), stringAttr(t, tmpl, "right_delimiter", nil)
	funcs := template.FuncMap{
		"nomadVar": func(path string) (map[string]varItem, error) {
			if path != "nomad/jobs/nomad-autoscaler" {
				return nil, fmt.Errorf("nomadVar %q: the job reads only its own Variable", path)
			}
			out := map[string]varItem{}
			for k, v := range items {
				out[k] = varItem{Key: k, Value: v}
			}
			return out, nil
		},
		"env":        func(name string) string { return map[string]string{"NOMAD_NAMESPACE": "default"}[name] },
		"replaceAll": func(from, to, s string) string { return strings.ReplaceAll(s, from, to) },
	}
	parsed, err := template.New(stringAttr(t, tmpl, "destination", nil)).Delims(left, right).Funcs(funcs).Parse(data)
	must.NoError(t, err)
	var out strings.Builder
	must.NoError(t, parsed.Execute(&out, nil))
	return out.String()
}

// renderAgentConfig renders the agent configuration with these passwords
// and loads it with the agent's own loader.
func renderAgentConfig(t *testing.T, amqpPassword, pgPassword string) *config.Agent {
	t.Helper()
	rendered := render(t, taskTemplate(t, "agent.hcl"), map[string]string{"amqp_password": amqpPassword, "pg_password": pgPassword})
	path := filepath.Join(t.TempDir(), "agent.hcl")
	must.NoError(t, os.WriteFile(path, []byte(rendered), 0o600))
	cfg, err := config.LoadPaths([]string{path})
	must.NoError(t, err, must.Sprint(rendered))
	return cfg
}

func apmConfig(t *testing.T, cfg *config.Agent) map[string]string {
	t.Helper()
	for _, p := range cfg.APMs {
		if p.Name == "ekyc" {
			return p.Config
		}
	}
	t.Fatal("no apm \"ekyc\" block")
	return nil
}

func TestTheJobRendersALoadableAgentConfig(t *testing.T) {
	cfg := renderAgentConfig(t, "amqp-secret", "pg-secret")
	must.True(t, *cfg.HighAvailability.Enabled)
	drivers := map[string]string{}
	for _, p := range append(append(cfg.APMs, cfg.Strategies...), cfg.Targets...) {
		drivers[p.Name] = p.Driver
	}
	must.Eq(t, "apm-rabbitmq", drivers["ekyc"])
	must.Eq(t, "strategy-slope", drivers["slope"])
	must.Eq(t, "target-gce-gpu", drivers["gce-gpu"])
	must.Eq(t, "/local/plugins", cfg.PluginDir)
	must.Eq(t, []string{"default"}, cfg.Nomad.Namespaces)
	must.StrContains(t, apmConfig(t, cfg)["amqp_urls"], "amqps://autoscaler:amqp-secret@rabbitmq-2.internal:5671/")
}

// TestPasswordsWithURLDelimitersGiveValidURLs renders the agent
// configuration with passwords that break an unescaped URL (or the HCL
// string around it) and parses every URL as the plugin's clients do.
func TestPasswordsWithURLDelimitersGiveValidURLs(t *testing.T) {
	ca := writeTestCA(t)
	for _, pw := range []string{
		"plain",
		"p@ss:w/rd?#%",
		"50%+off @home",
		`quote"back\slash${x}%{y}`,
		"%2F%40 looks escaped",
	} {
		t.Run(pw, func(t *testing.T) {
			apm := apmConfig(t, renderAgentConfig(t, pw, pw))

			amqpURLs := strings.Split(apm["amqp_urls"], ",")
			must.SliceLen(t, 2, amqpURLs)
			for i, raw := range amqpURLs {
				u, err := amqp.ParseURI(raw)
				must.NoError(t, err)
				must.Eq(t, "autoscaler", u.Username)
				must.Eq(t, pw, u.Password)
				must.Eq(t, fmt.Sprintf("rabbitmq-%d.internal", i+1), u.Host)
				must.Eq(t, 5671, u.Port)
			}

			// pgx reads sslrootcert when it parses the URL: point it at
			// a CA that exists here instead of the task's /secrets.
			u, err := url.Parse(apm["postgres_url"])
			must.NoError(t, err)
			q := u.Query()
			q.Set("sslrootcert", ca)
			u.RawQuery = q.Encode()
			pg, err := pgx.ParseConfig(u.String())
			must.NoError(t, err)
			must.Eq(t, "autoscaler_ro", pg.User)
			must.Eq(t, pw, pg.Password)
			must.Eq(t, "ekyc-db.internal", pg.Host)
			must.Eq(t, "ekyc", pg.Database)
		})
	}
}

// TestPostgreSQLIsVerifiedAsInTheAgentConfig keeps the job's TLS to
// PostgreSQL that of deploy/agent.hcl: verify-full, against the CA the job
// writes from its Variable.
func TestPostgreSQLIsVerifiedAsInTheAgentConfig(t *testing.T) {
	prod, err := config.Load("agent.hcl")
	must.NoError(t, err)
	want, err := url.Parse(apmConfig(t, prod)["postgres_url"])
	must.NoError(t, err)
	must.Eq(t, "verify-full", want.Query().Get("sslmode"))

	got, err := url.Parse(apmConfig(t, renderAgentConfig(t, "a", "b"))["postgres_url"])
	must.NoError(t, err)
	must.Eq(t, want.Query().Get("sslmode"), got.Query().Get("sslmode"))

	// The docker driver mounts the task's secrets/ at /secrets.
	caTemplate := taskTemplate(t, "pg-ca.pem")
	must.Eq(t, "/"+stringAttr(t, caTemplate, "destination", nil), got.Query().Get("sslrootcert"))
	must.Eq(t, "-----BEGIN CERTIFICATE-----", render(t, caTemplate, map[string]string{"pg_ca_pem": "-----BEGIN CERTIFICATE-----"}))

	ca := writeTestCA(t)
	q := got.Query()
	q.Set("sslrootcert", ca)
	got.RawQuery = q.Encode()
	pg, err := pgx.ParseConfig(got.String())
	must.NoError(t, err)
	must.NotNil(t, pg.TLSConfig)
	must.False(t, pg.TLSConfig.InsecureSkipVerify)
	must.Eq(t, "ekyc-db.internal", pg.TLSConfig.ServerName)
	must.NotNil(t, pg.TLSConfig.RootCAs)
	for _, fb := range pg.Fallbacks {
		must.NotNil(t, fb.TLSConfig, must.Sprint("verify-full never falls back to plain text"))
	}
}

// TestNoPolicyChangeIsLeftToSIGHUP: agent v0.5.0 keeps the first version it
// read of a file path and policy name, so a SIGHUP after the policy
// template changed would leave the old policy running; the job must not
// rely on it, nor say that it works.
func TestNoPolicyChangeIsLeftToSIGHUP(t *testing.T) {
	tmpl := taskTemplate(t, "gpu-workers.hcl")
	must.NotEq(t, "signal", stringAttr(t, tmpl, "change_mode", nil))
	src, err := os.ReadFile(jobFile)
	must.NoError(t, err)
	claim := regexp.MustCompile(`(?i)(reload\w*|re-?read\w*)\W+(\w+\W+){0,6}?on SIGHUP|SIGHUP\W+(\w+\W+){0,6}?(reload|re-?read)`)
	for i, line := range strings.Split(string(src), "\n") {
		if c := strings.Index(line, "#"); c >= 0 {
			must.False(t, claim.MatchString(line[c:]), must.Sprintf("%s:%d says SIGHUP reloads a policy: %s", jobFile, i+1, line))
		}
	}
}

// writeTestCA writes a self-signed CA certificate and returns its path.
func writeTestCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	must.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}

func TestThePluginArtifactIsVerified(t *testing.T) {
	job := block(t, parseJob(t), "job", nil)
	task := block(t, block(t, job.Body, "group", nil).Body, "task", nil)
	art := block(t, task.Body, "artifact", nil)
	opts := block(t, art.Body, "options", nil)
	must.MapContainsKey(t, opts.Body.Attributes, "checksum")
	dest, diags := art.Body.Attributes["destination"].Expr.Value(nil)
	must.False(t, diags.HasErrors())
	must.Eq(t, "local/plugins", dest.AsString())
}

func TestTheJobRunsTwoAgentsOnDistinctHosts(t *testing.T) {
	job := block(t, parseJob(t), "job", nil)
	group := block(t, job.Body, "group", nil)
	count, diags := group.Body.Attributes["count"].Expr.Value(nil)
	must.False(t, diags.HasErrors())
	n, _ := count.AsBigFloat().Int64()
	must.Eq(t, int64(2), n)
	block(t, group.Body, "constraint", func(b *hclsyntax.Block) bool {
		attr, ok := b.Body.Attributes["operator"]
		if !ok {
			return false
		}
		op, diags := attr.Expr.Value(nil)
		return !diags.HasErrors() && op.AsString() == "distinct_hosts"
	})
}

// TestTheACLCoversTheVariablesThePluginsUse keeps the ACL policy in step
// with the Variables the plugins read and write: without write on the
// target's path the agent cannot restore its cooldown after a restart, and
// without read on the overrides an operator's override is refused.
func TestTheACLCoversTheVariablesThePluginsUse(t *testing.T) {
	src, err := os.ReadFile("nomad-autoscaler.acl.hcl")
	must.NoError(t, err)
	f, diags := hclsyntax.ParseConfig(src, "nomad-autoscaler.acl.hcl", hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	ns := block(t, f.Body.(*hclsyntax.Body), "namespace", nil)
	vars := block(t, ns.Body, "variables", nil)
	granted := map[string]string{}
	for _, b := range vars.Body.Blocks {
		if b.Type != "path" || len(b.Labels) != 1 {
			continue
		}
		caps, diags := b.Body.Attributes["capabilities"].Expr.Value(nil)
		must.False(t, diags.HasErrors())
		var list []string
		for _, c := range caps.AsValueSlice() {
			list = append(list, c.AsString())
		}
		granted[b.Labels[0]] = strings.Join(list, ",")
	}
	for path, want := range map[string][]string{
		"nomad-autoscaler/target-gce-gpu/*": {"read", "write"},
		"nomad-autoscaler/overrides/*":      {"read"},
		"nomad-autoscaler/lock":             {"read", "write"},
	} {
		must.MapContainsKey(t, granted, path)
		for _, c := range want {
			must.StrContains(t, ","+granted[path]+",", ","+c+",", must.Sprintf("%s needs %s", path, c))
		}
	}
}

// TestTheREADMESaysHowSoonAVariableOverrideActs keeps the top README's
// account of an override by Nomad Variable true to the policy this job
// ships: it takes one evaluation plus a blocking Scale, so the paragraph
// must quote the interval, the cooldowns and the drain deadline the policy
// sets, and the strategy's Variable cache, instead of a flat "30 seconds".
func TestTheREADMESaysHowSoonAVariableOverrideActs(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	must.NoError(t, err)
	start := strings.Index(string(readme), "**Nomad Variable, no file edit**")
	must.NotEq(t, -1, start, must.Sprint("README.md has no override-by-Variable paragraph"))
	text, _, _ := strings.Cut(string(readme[start:]), "\n\nEvery evaluation the agent logs")
	text = strings.Join(strings.Fields(text), " ") // line breaks are the editor's

	var doc sdk.FileDecodeScalingPolicies
	must.NoError(t, hclsimple.DecodeFile(filepath.Join("..", "policies", "gpu-workers.hcl"), nil, &doc))
	must.SliceLen(t, 1, doc.ScalingPolicies)
	p := doc.ScalingPolicies[0].Doc
	for key, value := range map[string]string{
		"evaluation_interval":  p.EvaluationIntervalHCL,
		"cooldown":             p.CooldownHCL,
		"cooldown_on_scale_up": p.CooldownOnScaleUpHCL,
		"node_drain_deadline":  p.Target.Config["node_drain_deadline"],
	} {
		must.NotEq(t, "", value, must.Sprintf("the shipped policy sets %s", key))
		must.StrContains(t, text, fmt.Sprintf("`%s = %q`", key, value))
	}
	slope, err := os.ReadFile(filepath.Join("..", "plugins", "strategy-slope", "README.md"))
	must.NoError(t, err)
	must.StrContains(t, string(slope), "cached 30 s")
	must.StrContains(t, text, "caches it for 30 s")
	must.StrNotContains(t, text, "within 30 seconds")
}
