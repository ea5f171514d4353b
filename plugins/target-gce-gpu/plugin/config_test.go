package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func validTarget() map[string]string {
	return map[string]string{
		"project":   "ml-prod",
		"migs":      "europe-west4-a/gpu-a, europe-west4-b/gpu-b",
		"node_pool": "gpu",
	}
}

func TestParseTargetConfig(t *testing.T) {
	t.Parallel()
	cfg, err := parseTargetConfig(validTarget())
	must.NoError(t, err)
	must.Eq(t, []migRef{
		{Project: "ml-prod", Zone: "europe-west4-a", Name: "gpu-a"},
		{Project: "ml-prod", Zone: "europe-west4-b", Name: "gpu-b"},
	}, cfg.migs)
	must.Eq(t, 5*time.Minute, cfg.drainDeadline)
	must.Eq(t, 30*time.Minute, cfg.stockoutCooldown)
	must.Eq(t, 10*time.Minute, cfg.scaleTimeout)
	must.Eq(t, 5*time.Second, cfg.pollInterval)
	must.Eq(t, selectorLeastBusy, cfg.selector)
	must.Eq(t, defaultRetryAttempts, cfg.retryAttempts)
	must.False(t, cfg.purge)
	must.False(t, cfg.dryRun)
	must.Eq(t, map[string]string{"node_pool": "gpu"}, cfg.pool)
}

func TestParseTargetConfigAcceptsAgentKeys(t *testing.T) {
	t.Parallel()
	raw := validTarget()
	raw["_nomad_autoscaler_grpc_timeout"] = "7.5s"
	raw["dry-run"] = "true"
	raw["node_selector_strategy"] = "empty_ignore_system"
	raw["node_filter_ignore_drain"] = "true"
	raw["node_drain_deadline"] = "90s"
	raw["node_drain_ignore_system_jobs"] = "true"
	raw["node_purge"] = "true"
	raw["retry_attempts"] = "3"
	raw["poll_interval"] = "100ms"
	cfg, err := parseTargetConfig(raw)
	must.NoError(t, err)
	must.Eq(t, 7500*time.Millisecond, cfg.statusDeadline)
	must.True(t, cfg.dryRun)
	must.Eq(t, selectorEmpty, cfg.selector)
	must.Eq(t, 90*time.Second, cfg.drainDeadline)
	must.True(t, cfg.drainIgnoreSystemJobs)
	must.True(t, cfg.purge)
	must.Eq(t, 3, cfg.retryAttempts)
	must.Eq(t, 100*time.Millisecond, cfg.pollInterval)
	must.Eq(t, "true", cfg.pool["node_filter_ignore_drain"])
}

func TestParseTargetConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(map[string]string)
		wants []string
	}{
		{"a typo in a key is rejected by name", func(m map[string]string) { m["node_drain_dedline"] = "5m" }, []string{`unknown key "node_drain_dedline"`}},
		{"a missing project is named", func(m map[string]string) { delete(m, "project") }, []string{"project: required"}},
		{"a MIG without a zone is quoted", func(m map[string]string) { m["migs"] = "gpu-a" }, []string{`migs: "gpu-a" is not "zone/name"`}},
		{"two MIGs in one zone are refused", func(m map[string]string) { m["migs"] = "z/a,z/b" }, []string{`zone "z" appears twice`}},
		{"a node pool identifier is required", func(m map[string]string) { delete(m, "node_pool") }, []string{"one of node_pool, node_class or datacenter is required"}},
		{"a bad duration names key and value", func(m map[string]string) { m["stockout_cooldown"] = "soon" }, []string{`stockout_cooldown: "soon"`}},
		{"a duration long enough to overflow the Scale deadline is refused", func(m map[string]string) {
			m["node_drain_deadline"] = "2562047h"
			m["scale_timeout"] = "2562047h"
		}, []string{`node_drain_deadline: "2562047h" is not a duration from 1s to 720h0m0s`, `scale_timeout: "2562047h"`}},
		{"a scale timeout below a second is refused", func(m map[string]string) { m["scale_timeout"] = "10ms" }, []string{`scale_timeout: "10ms"`}},
		{"an unknown selector is listed with the choices", func(m map[string]string) { m["node_selector"] = "random" }, []string{`node_selector: "random" is not one of least_busy`}},
		{"conflicting selector spellings are refused", func(m map[string]string) {
			m["node_selector"] = "empty"
			m["node_selector_strategy"] = "least_busy"
		}, []string{"conflicts with node_selector"}},
		{"a poll interval of zero is refused", func(m map[string]string) { m["poll_interval"] = "0s" }, []string{`poll_interval: "0s" is not a positive duration`}},
		{"a negative poll interval is refused", func(m map[string]string) { m["poll_interval"] = "-1s" }, []string{`poll_interval: "-1s"`}},
		{"a poll interval that is not a duration is quoted", func(m map[string]string) { m["poll_interval"] = "often" }, []string{`poll_interval: "often"`}},
		{"a poll interval longer than the scale timeout is refused", func(m map[string]string) {
			m["scale_timeout"] = "30s"
			m["poll_interval"] = "1m"
		}, []string{`poll_interval: "1m" is longer than scale_timeout (30s)`}},
		{"retry attempts must be positive", func(m map[string]string) { m["retry_attempts"] = "0" }, []string{`retry_attempts: "0"`}},
		{"every problem is reported at once", func(m map[string]string) {
			m["node_purge"] = "maybe"
			m["dry-run"] = "yes please"
			m["colour"] = "blue"
		}, []string{`node_purge: "maybe"`, `dry-run: "yes please"`, `unknown key "colour"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := validTarget()
			tc.edit(raw)
			_, err := parseTargetConfig(raw)
			for _, want := range tc.wants {
				must.ErrorContains(t, err, want)
			}
		})
	}
}

func TestDefaultPollIntervalFitsAShortScaleTimeout(t *testing.T) {
	t.Parallel()
	raw := validTarget()
	raw["scale_timeout"] = "2s"
	cfg, err := parseTargetConfig(raw)
	must.NoError(t, err)
	must.Eq(t, 2*time.Second, cfg.pollInterval, must.Sprint("the 5s default is cut to the timeout, so at least one poll happens"))
}

func TestParsePluginConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		raw     map[string]string
		wantErr string
	}{
		{"no keys means Application Default Credentials", map[string]string{}, ""},
		{"the agent's nomad keys are accepted", map[string]string{"nomad_address": "http://127.0.0.1:4646", "nomad_token": "s3cret", "nomad_config_inherit": "true"}, ""},
		{"an insecure local endpoint is accepted", map[string]string{"compute_endpoint": "http://127.0.0.1:9000/", "compute_insecure": "true"}, ""},
		{"a credentials file is read", map[string]string{"credentials": "testdata/credentials.json"}, ""},
		{"inline credentials JSON is accepted", map[string]string{"credentials": `{"type":"service_account"}`}, ""},
		{"insecure without an endpoint is refused", map[string]string{"compute_insecure": "true"}, "compute_insecure: \"true\" needs compute_endpoint"},
		{"a missing credentials file is named", map[string]string{"credentials": "testdata/nope.json"}, `credentials: read file "testdata/nope.json"`},
		{"credentials that are not JSON are refused without echoing them", map[string]string{"credentials": "{not json"}, "not a Google credentials JSON document"},
		{"an endpoint that is not a URL is quoted", map[string]string{"compute_endpoint": "localhost:9000"}, `compute_endpoint: "localhost:9000"`},
		{"an unknown key is named", map[string]string{"zone": "a"}, `unknown key "zone"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parsePluginConfig(tc.raw)
			if tc.wantErr == "" {
				must.NoError(t, err)
				must.NotNil(t, cfg.nomad)
				return
			}
			must.ErrorContains(t, err, tc.wantErr)
			must.StrNotContains(t, err.Error(), "{not json")
		})
	}
}

func TestPolicyKeyIgnoresMIGOrder(t *testing.T) {
	t.Parallel()
	a, _ := parseMIGs("p", "z1/a,z2/b")
	b, _ := parseMIGs("p", "z2/b,z1/a")
	c, _ := parseMIGs("q", "z1/a,z2/b")
	must.Eq(t, policyKey("p", a), policyKey("p", b))
	must.NotEq(t, policyKey("p", a), policyKey("q", c))
}
