package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"
	"go.yaml.in/yaml/v3"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/sli"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	gcegpu "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
)

// ruleFile is a Prometheus rule file, as far as the test reads it.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var (
	promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	// A series with its matchers: name{label="v", label=~"a|b"}.
	seriesMatchers = regexp.MustCompile(`(fleetslope_[a-z_]+)\{([^}]*)\}`)
	matcher        = regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	// The label lists of by (...) and on (...).
	grouping = regexp.MustCompile(`\b(?:by|on|without|ignoring)\s*\(([^)]*)\)`)
	heading  = regexp.MustCompile(`(?m)^#+ (.+)$`)
)

// TestTheAlertRulesWatchWhatThePluginsExport holds deploy/prometheus-alerts.yml
// to the plugins and to cmd/sli's watch mode: every fleetslope_* series an
// alert reads is exported, every label it matches or groups by is one the
// series has (or a target label), every label value it matches on is one
// the exporter's README documents for that series, and every alert has a severity, a summary, a description and
// a runbook section in deploy/README.md. A renamed metric or a misspelt state
// cannot leave an alert that never fires.
func TestTheAlertRulesWatchWhatThePluginsExport(t *testing.T) {
	raw, err := os.ReadFile("prometheus-alerts.yml")
	must.NoError(t, err)
	var rf ruleFile
	must.NoError(t, yaml.Unmarshal(raw, &rf))
	must.SliceNotEmpty(t, rf.Groups)

	labels := slope.New(hclog.NewNullLogger()).MetricLabels()
	for name, l := range gcegpu.New(hclog.NewNullLogger()).MetricLabels() {
		labels[name] = l
	}
	for name, l := range sli.MetricLabels() {
		labels[name] = l
	}
	docs := metricRows(t, "../plugins/strategy-slope/README.md", "../plugins/target-gce-gpu/README.md", "../cmd/sli/README.md")
	runbooks := anchors(t, "README.md")

	seen := map[string]bool{}
	for _, g := range rf.Groups {
		must.SliceNotEmpty(t, g.Rules, must.Sprintf("group %s", g.Name))
		for _, r := range g.Rules {
			where := must.Sprintf("alert %s", r.Alert)
			must.RegexMatch(t, regexp.MustCompile(`^FleetSlope[A-Z][A-Za-z]+$`), r.Alert, where)
			must.False(t, seen[r.Alert], must.Sprintf("alert %s is defined twice", r.Alert))
			seen[r.Alert] = true
			must.NotEq(t, "", strings.TrimSpace(r.Expr), where)
			must.True(t, balanced(r.Expr), must.Sprintf("alert %s: unbalanced brackets in %q", r.Alert, r.Expr))
			if r.For != "" {
				must.RegexMatch(t, promDuration, r.For, where)
			}
			must.SliceContains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], where)
			for _, a := range []string{"summary", "description", "runbook_url"} {
				must.NotEq(t, "", r.Annotations[a], must.Sprintf("alert %s: annotation %s", r.Alert, a))
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "deploy/README.md#")
			must.True(t, ok, where)
			must.True(t, runbooks[anchor], must.Sprintf("alert %s: deploy/README.md has no section #%s", r.Alert, anchor))

			used := map[string]bool{"job": true, "instance": true, "le": true}
			for _, name := range ourSeries.FindAllString(r.Expr, -1) {
				base := exportedBase(name, labels)
				ls, ok := labels[base]
				must.True(t, ok, must.Sprintf("alert %s reads %s, which no plugin exports", r.Alert, name))
				for _, l := range ls {
					used[l] = true
				}
			}
			for _, m := range seriesMatchers.FindAllStringSubmatch(r.Expr, -1) {
				base := exportedBase(m[1], labels)
				for _, mm := range matcher.FindAllStringSubmatch(m[2], -1) {
					label, op, value := mm[1], mm[2], mm[3]
					must.SliceContains(t, labels[base], label, must.Sprintf("alert %s: %s has no label %s", r.Alert, base, label))
					if op == "!=" || op == "!~" {
						continue
					}
					for _, v := range strings.Split(value, "|") {
						must.StrContains(t, docs[base], "`"+v+"`",
							must.Sprintf("alert %s: %s=%q is not a value the README documents for %s", r.Alert, label, v, base))
					}
				}
			}
			for _, m := range grouping.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					l = strings.TrimSpace(l)
					must.True(t, used[l], must.Sprintf("alert %s groups or joins on %q, a label none of its series has", r.Alert, l))
				}
			}
		}
	}
	// Every alert has its section, and every section its alert.
	for anchor := range runbooks {
		if name, ok := strings.CutPrefix(anchor, "alert-"); ok {
			found := false
			for alert := range seen {
				found = found || strings.ToLower(alert) == name
			}
			must.True(t, found, must.Sprintf("deploy/README.md section #%s names no alert of the rule file", anchor))
		}
	}
}

// TestPromtoolChecksTheRulesAndTheirScenarios runs Prometheus's own
// checker and unit tests on the rule file: its PromQL parses, and each
// scenario of prometheus-alerts.test.yml fires the alerts it says, when it
// says, with their labels and annotations (a standby's stale gauges fire
// nothing). scripts/services.sh provides promtool (make test runs it first).
func TestPromtoolChecksTheRulesAndTheirScenarios(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		var err error
		if promtool, err = exec.LookPath("promtool"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("promtool not found: run scripts/services.sh up and eval its env (PROMTOOL), as make test does")
			}
			t.Skip("promtool not found: run scripts/services.sh up and eval its env (PROMTOOL), as make test does")
		}
	}
	for _, args := range [][]string{
		{"check", "rules", "prometheus-alerts.yml"},
		{"test", "rules", "prometheus-alerts.test.yml"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput()
		cancel()
		must.NoError(t, err, must.Sprintf("promtool %s:\n%s", strings.Join(args, " "), out))
		must.StrContains(t, string(out), "SUCCESS", must.Sprintf("promtool %s", strings.Join(args, " ")))
	}
}

// exportedBase strips a histogram's _bucket, _count or _sum when the rest
// is an exported series.
func exportedBase(name string, labels map[string][]string) string {
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok {
			if _, exported := labels[trimmed]; exported {
				return trimmed
			}
		}
	}
	return name
}

// metricRows maps each series of the READMEs' metrics tables to its row.
func metricRows(t *testing.T, paths ...string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		must.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "| `fleetslope_") {
				continue
			}
			cells := strings.SplitN(line, "|", 3)
			for _, name := range ourSeries.FindAllString(cells[1], -1) {
				rows[name] = line
			}
		}
	}
	return rows
}

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	must.NoError(t, err)
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		var a strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				a.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				a.WriteRune(r)
			}
		}
		out[a.String()] = true
	}
	return out
}

// balanced reports whether the brackets of a PromQL expression pair up.
func balanced(expr string) bool {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, r := range expr {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case strings.ContainsRune("([{", r):
			stack = append(stack, r)
		case strings.ContainsRune(")]}", r):
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && !inString
}
