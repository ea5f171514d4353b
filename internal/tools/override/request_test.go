package override

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// plainPolicy is gpu-workers of testdata/plain.hcl: min 2, max 50, and
// override_max_duration 12h in its backlog check.
func plainPolicy(t *testing.T) policy {
	t.Helper()
	ps, err := readPolicies("testdata/plain.hcl", "slope")
	must.NoError(t, err)
	p, err := selectPolicy(ps, "gpu-workers", "testdata/plain.hcl")
	must.NoError(t, err)
	return p
}

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestARequestWithinThePolicyIsValid(t *testing.T) {
	for _, r := range []request{
		{count: 2, until: now.Add(time.Second), reason: "min, for a second"},
		{count: 50, until: now.Add(12 * time.Hour), reason: "max, for the longest the backlog check allows"},
	} {
		must.NoError(t, r.validate(plainPolicy(t), now), must.Sprint(r.reason))
	}
}

func TestEveryProblemOfARequestIsReportedNamingItsFlag(t *testing.T) {
	p := plainPolicy(t)
	cases := []struct {
		name string
		r    request
		want []string
	}{
		{"a count under min", request{count: 1, until: now.Add(time.Hour), reason: "x"},
			[]string{`-count 1: outside policy "gpu-workers"'s min 2 and max 50`}},
		{"a count over max", request{count: 51, until: now.Add(time.Hour), reason: "x"},
			[]string{`-count 51: outside policy "gpu-workers"'s min 2 and max 50`}},
		{"a negative count", request{count: -1, until: now.Add(time.Hour), reason: "x"},
			[]string{"-count -1: must be from 0 to 1000000000"}},
		{"an until in the past", request{count: 10, until: now.Add(-time.Minute), reason: "x"},
			[]string{"-until 2026-12-01T11:59:00Z: in the past (now 2026-12-01T12:00:00Z)"}},
		{"an until of now", request{count: 10, until: now, reason: "x"},
			[]string{"-until 2026-12-01T12:00:00Z: in the past"}},
		{"an until beyond the shortest override_max_duration", request{count: 10, until: now.Add(13 * time.Hour), reason: "x"},
			[]string{`-until 2026-12-02T01:00:00Z: 13h00m ahead, more than override_max_duration 12h0m0s of check "backlog"`}},
		{"no reason", request{count: 10, until: now.Add(time.Hour), reason: " "},
			[]string{"-reason: required"}},
		{"everything at once", request{count: 99, until: now.Add(-time.Hour)},
			[]string{"-count 99", "-until", "-reason"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.validate(p, now)
			must.Error(t, err)
			for _, want := range tc.want {
				must.StrContains(t, err.Error(), want)
			}
			must.Eq(t, len(tc.want), len(strings.Split(err.Error(), "\n")), must.Sprint(err))
		})
	}
}

func TestAPolicyWithoutASlopeCheckCannotBeOverridden(t *testing.T) {
	ps, err := readPolicies("testdata/no-slope.hcl", "slope")
	must.NoError(t, err)
	err = request{count: 5, until: now.Add(time.Hour), reason: "x"}.validate(ps[0], now)
	must.ErrorContains(t, err, `policy "web" in testdata/no-slope.hcl: no check uses the strategy-slope block label (-strategy)`)
}

// The CLI's default override_max_duration is the plugin's: an override the
// CLI accepts is one the plugin applies, one it refuses the plugin refuses.
func TestTheDefaultMaxDurationIsTheStrategys(t *testing.T) {
	run := func(until time.Time) (*sdk.ScalingCheckEvaluation, error) {
		p := slope.New(hclog.NewNullLogger())
		p.SetClock(func() time.Time { return now })
		return p.Run(&sdk.ScalingCheckEvaluation{Check: &sdk.ScalingPolicyCheck{Name: "c", Strategy: &sdk.ScalingPolicyStrategy{
			Name: "slope", Config: map[string]string{
				"capacity_per_worker": "100", "mode": "backlog",
				keyCount: "7", keyUntil: until.Format(time.RFC3339),
			},
		}}}, 3)
	}
	out, err := run(now.Add(defaultMaxDuration))
	must.NoError(t, err)
	must.Eq(t, int64(7), out.Action.Count)
	_, err = run(now.Add(defaultMaxDuration + time.Second))
	must.ErrorContains(t, err, "override_max_duration")

	ps, err := readPolicies("testdata/variable.hcl", "slope")
	must.NoError(t, err)
	r := request{count: 7, until: now.Add(defaultMaxDuration), reason: "x"}
	must.NoError(t, r.validate(ps[0], now))
	r.until = r.until.Add(time.Second)
	must.Error(t, r.validate(ps[0], now))
}

func TestTheVariableMustPinEveryCheck(t *testing.T) {
	read := func(file string) policy {
		ps, err := readPolicies(file, "slope")
		must.NoError(t, err)
		return ps[0]
	}
	path, err := read("testdata/variable.hcl").variablePath()
	must.NoError(t, err)
	must.Eq(t, "nomad-autoscaler/overrides/gpu-workers", path)

	_, err = read("testdata/one-variable.hcl").variablePath()
	must.ErrorContains(t, err, `check "backlog" has no override_variable = "nomad-autoscaler/overrides/gpu-workers", so the Variable would pin only some checks`)

	p := read("testdata/variable.hcl")
	p.checks[1].config = map[string]string{keyVariable: "elsewhere"}
	_, err = p.variablePath()
	must.ErrorContains(t, err, `the checks name different override_variable (nomad-autoscaler/overrides/gpu-workers in "request-rate"; elsewhere in "backlog")`)

	_, err = read("testdata/plain.hcl").variablePath()
	must.ErrorContains(t, err, `policy "gpu-workers" in testdata/plain.hcl: no check sets override_variable`)
}

func TestAFileWithSeveralPoliciesNeedsAName(t *testing.T) {
	ps, err := readPolicies("testdata/plain.hcl", "slope")
	must.NoError(t, err)
	_, err = selectPolicy(ps, "", "plain.hcl")
	must.ErrorContains(t, err, `-name: plain.hcl holds policies "gpu-workers", "cpu-workers": say which`)
	_, err = selectPolicy(ps, "gpu", "plain.hcl")
	must.ErrorContains(t, err, `-name "gpu": plain.hcl holds only "gpu-workers", "cpu-workers"`)
	p, err := selectPolicy(ps, "cpu-workers", "plain.hcl")
	must.NoError(t, err)
	must.Eq(t, []string{"rate"}, namesOf(p.slopeChecks()))
}

func TestOnlyHCLPolicyFilesAreRead(t *testing.T) {
	_, err := decodePolicies("gpu-workers.json", []byte(`{}`), "slope")
	must.ErrorContains(t, err, "only HCL policy files (.hcl) are supported")
	_, err = decodePolicies("bad.hcl", []byte(`scaling "x" {`), "slope")
	must.ErrorContains(t, err, "decode bad.hcl as the agent does")
	_, err = decodePolicies("empty.hcl", nil, "slope")
	must.ErrorContains(t, err, "empty.hcl: no scaling block")
}

func namesOf(cs []check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}
