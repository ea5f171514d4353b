package plugin

import (
	"strings"
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

// configErrorCase is a valid target block with one edit and the errors
// the edit must produce.
type configErrorCase struct {
	name  string
	edit  func(map[string]string)
	wants []string
}

// checkConfigErrors parses validTarget with each case's edit and checks
// that every error it wants is reported.
func checkConfigErrors(t *testing.T, cases []configErrorCase) {
	t.Helper()
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

func TestParseTargetConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []configErrorCase{
		{"a typo in a key is rejected by name", func(m map[string]string) { m["node_drain_dedline"] = "5m" }, []string{`unknown key "node_drain_dedline"`}},
		{"a missing project is named", func(m map[string]string) { delete(m, "project") }, []string{"project: required"}},
		{"a project that is no project ID is refused", func(m map[string]string) { m["project"] = "ML Prod" }, []string{"project \"ML Prod\": not a GCP project ID"}},
		{"a MIG without a zone is pointed at", func(m map[string]string) { m["migs"] = "gpu-a" }, []string{`migs entry 1 "gpu-a": not "zone/name"`}},
		{"a region instead of a zone is refused", func(m map[string]string) { m["migs"] = "us-central1-a/gpu-a,us-central1/gpu-b" },
			[]string{`migs entry 2 "us-central1/gpu-b": names a region, not a zone`}},
		{"a zone that is no GCE zone is refused", func(m map[string]string) { m["migs"] = "us-central1a/gpu-a" },
			[]string{`migs entry 1 "us-central1a/gpu-a": the zone is not a GCE zone name`}},
		{"a MIG name that is no GCE name is refused", func(m map[string]string) { m["migs"] = "us-central1-a/GPU_A" },
			[]string{`migs entry 1 "us-central1-a/GPU_A": the MIG name is not a GCE resource name`}},
		{"two MIGs in one zone are refused", func(m map[string]string) { m["migs"] = "zone-z/a,zone-z/b" }, []string{"entries 1 and 2 are in the same zone"}},
		{"a node pool identifier is required", func(m map[string]string) { delete(m, "node_pool") }, []string{"one of node_pool, node_class or datacenter is required"}},
		{"a bad duration is named", func(m map[string]string) { m["stockout_cooldown"] = "soon" }, []string{"stockout_cooldown \"soon\": not a duration such as 5m"}},
		{"a duration long enough to overflow the Scale deadline is refused", func(m map[string]string) {
			m["node_drain_deadline"] = "2562047h"
			m["scale_timeout"] = "2562047h"
		}, []string{"node_drain_deadline \"2562047h\": must be between 1s and 720h", "scale_timeout \"2562047h\": must be between 1s and 720h"}},
		{"a scale timeout below a second is refused", func(m map[string]string) { m["scale_timeout"] = "10ms" }, []string{"scale_timeout \"10ms\": must be between 1s and 720h"}},
		{"an unknown selector is listed with the choices", func(m map[string]string) { m["node_selector"] = "random" }, []string{"node_selector \"random\": not one of least_busy"}},
		{"conflicting selector spellings are refused", func(m map[string]string) {
			m["node_selector"] = "empty"
			m["node_selector_strategy"] = "least_busy"
		}, []string{"node_selector_strategy \"least_busy\": differs from node_selector"}},
		{"a poll interval of zero is refused", func(m map[string]string) { m["poll_interval"] = "0s" }, []string{"poll_interval \"0s\": must be between 1ms and 720h"}},
		{"a negative poll interval is refused", func(m map[string]string) { m["poll_interval"] = "-1s" }, []string{"poll_interval \"-1s\": must be between 1ms and 720h"}},
		{"a poll interval that is not a duration is refused", func(m map[string]string) { m["poll_interval"] = "often" }, []string{"poll_interval \"often\": not a duration such as 5m"}},
		{"a poll interval longer than the scale timeout is refused", func(m map[string]string) {
			m["scale_timeout"] = "30s"
			m["poll_interval"] = "1m"
		}, []string{"poll_interval \"1m\": longer than scale_timeout"}},
		{"retry attempts must be positive", func(m map[string]string) { m["retry_attempts"] = "0" }, []string{"retry_attempts \"0\": must be between 1 and 100"}},
		{"every problem is reported at once", func(m map[string]string) {
			m["node_purge"] = "maybe"
			m["dry-run"] = "yes please"
			m["colour"] = "blue"
		}, []string{"node_purge \"maybe\": not true or false", "dry-run \"yes please\": not true or false", `unknown key "colour"`}},
	}
	checkConfigErrors(t, cases)
}

func TestZonesAndProjectsOfEveryShapeGCEUsesAreAccepted(t *testing.T) {
	t.Parallel()
	for _, migs := range []string{
		"us-central1-a/gpu-a,us-central1-f/gpu-f",
		"northamerica-northeast1-b/w,europe-west4-c/w",
		"me-central2-a/g" + strings.Repeat("0", 62), // the longest name GCE allows
		"zone-a/gpu-a",
	} {
		raw := validTarget()
		raw["migs"] = migs
		_, err := parseTargetConfig(raw)
		must.NoError(t, err, must.Sprint(migs))
	}
	for _, project := range []string{"ml-prod", "my-project-123456", "example.com:ml-prod", "a23456"} {
		raw := validTarget()
		raw["project"] = project
		_, err := parseTargetConfig(raw)
		must.NoError(t, err, must.Sprint(project))
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
		{"the agent's nomad keys are accepted", map[string]string{"nomad_address": "http://127.0.0.1:4646", "nomad_token": "s3cret",
			"nomad_config_inherit": "true", "nomad_skip-verify": "false", "nomad_block-query-wait-time": "5m0s"}, ""},
		{"the task API socket is a Nomad address", map[string]string{"nomad_address": "unix:///secrets/api.sock"}, ""},
		{"an empty Nomad key is unset, as the SDK reads it", map[string]string{"nomad_address": "", "nomad_skip-verify": ""}, ""},
		{"an insecure local endpoint is accepted", map[string]string{"compute_endpoint": "http://127.0.0.1:9000/", "compute_insecure": "true"}, ""},
		{"a credentials file is read", map[string]string{"credentials": "testdata/credentials.json"}, ""},
		{"inline credentials JSON is accepted", map[string]string{"credentials": `{"type":"service_account"}`}, ""},
		{"insecure without an endpoint is refused", map[string]string{"compute_insecure": "true"}, "compute_insecure \"true\": turning authentication off needs compute_endpoint"},
		{"a missing credentials file is named by its key", map[string]string{"credentials": "testdata/nope.json"}, "credentials: cannot read the file it names: no such file or directory"},
		{"credentials that are not JSON are refused", map[string]string{"credentials": "{not json"}, "not a Google credentials JSON document"},
		{"an endpoint that is not a URL is refused", map[string]string{"compute_endpoint": "localhost:9000"}, "compute_endpoint \"localhost:9000\": not an http(s) URL"},
		{"a Nomad address without a scheme is refused", map[string]string{"nomad_address": "nomad.internal:4646"}, "nomad_address: not an http(s) URL"},
		{"a bad skip-verify is not silently false", map[string]string{"nomad_skip-verify": "ture"}, "nomad_skip-verify \"ture\": not true or false"},
		{"a bad wait time is not silently zero", map[string]string{"nomad_block-query-wait-time": "5 minutes"}, "nomad_block-query-wait-time \"5 minutes\": not a duration"},
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
		})
	}
}

func TestPolicyKeyIgnoresMIGOrder(t *testing.T) {
	t.Parallel()
	a, _ := parseMIGs("p", "zone-a/a,zone-b/b")
	b, _ := parseMIGs("p", "zone-b/b,zone-a/a")
	c, _ := parseMIGs("q", "zone-a/a,zone-b/b")
	must.Eq(t, policyKey("p", a), policyKey("p", b))
	must.NotEq(t, policyKey("p", a), policyKey("q", c))
}
