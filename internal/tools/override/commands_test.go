package override

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

const overridePath = "nomad-autoscaler/overrides/gpu-workers"

// fakeAgent stands for the agent process.
type fakeAgent struct {
	checkErr, reloadErr error
	reloads             []int
}

func (a *fakeAgent) Check(int) error { return a.checkErr }
func (a *fakeAgent) Reload(pid int) error {
	a.reloads = append(a.reloads, pid)
	return a.reloadErr
}

// harness runs the commands against a fake Nomad and a fake agent, at a
// fixed time: 2026-12-01 12:00 UTC, 07:00 in New York.
type harness struct {
	t              *testing.T
	nomad          *fakenomad.Server
	agent          *fakeAgent
	env            map[string]string
	stdout, stderr bytes.Buffer
	dir            string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	nomad := fakenomad.New(fakenomad.Options{})
	srv := httptest.NewServer(nomad)
	t.Cleanup(func() {
		nomad.Close()
		srv.Close()
	})
	return &harness{t: t, nomad: nomad, agent: &fakeAgent{}, env: map[string]string{"NOMAD_ADDR": srv.URL}, dir: t.TempDir()}
}

func (h *harness) run(args ...string) int {
	h.t.Helper()
	h.stdout.Reset()
	h.stderr.Reset()
	ny, err := time.LoadLocation("America/New_York")
	must.NoError(h.t, err)
	return run(args, deps{
		getenv: func(k string) string { return h.env[k] }, now: func() time.Time { return now },
		stdout: &h.stdout, stderr: &h.stderr, agent: h.agent, local: ny,
	})
}

// install copies a fixture into the policy directory.
func (h *harness) install(fixture, name string) string {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	must.NoError(h.t, os.WriteFile(path, readFixture(h.t, fixture), 0o644))
	return path
}

// only returns the one file of the policy directory.
func (h *harness) only() string {
	h.t.Helper()
	snap := dirSnapshot(h.t, h.dir)
	must.MapLen(h.t, 1, snap, must.Sprint(snap))
	for name := range snap {
		return filepath.Join(h.dir, name)
	}
	return ""
}

// views reads a policy file as strategy-slope would at now.
func (h *harness) views(path string) policyView {
	h.t.Helper()
	ps, err := readPolicies(path, "slope")
	must.NoError(h.t, err)
	s, err := newStrategy(now, nomadSettings{address: h.env["NOMAD_ADDR"]}.pluginConfig())
	must.NoError(h.t, err)
	return s.policyView(ps[0], now)
}

func TestSetInAPolicyFilePinsEveryCheckAndSignalsTheAgentOnce(t *testing.T) {
	h := newHarness(t)
	old := h.install(shippedPolicy, "gpu-workers.hcl")
	code := h.run("set", "-policy-file", old, "-agent-pid", "4242", "-count", "40", "-until", "18:00",
		"-tz", "America/New_York", "-reason", "launch day, INC-1234")
	must.Eq(t, 0, code, must.Sprint(h.stderr.String()))

	edited := h.only()
	must.Eq(t, filepath.Join(h.dir, "gpu-workers.20261201T120000000Z.hcl"), edited)
	must.Eq(t, []int{4242}, h.agent.reloads)
	for _, v := range h.views(edited).checks {
		must.Eq(t, statePinned, v.state, must.Sprint(v.check))
		must.Eq(t, int64(40), v.count)
		must.Eq(t, "2026-12-01T23:00:00Z", v.until.Format(time.RFC3339))
		must.Eq(t, "policy", v.source)
	}
	out := squeeze(h.stdout.String())
	must.StrContains(t, out, `override set in policy "gpu-workers", check "request-rate", "backlog": 40 workers until 2026-12-01T23:00:00Z (Tue 18:00 EST, in 11h00m), "launch day, INC-1234"`)
	must.StrContains(t, out, "removed "+old+", sent SIGHUP to agent 4242")
	must.StrContains(t, out, "next: pinned at 40 until 2026-12-01T23:00:00Z (Tue 18:00 EST, in 11h00m)")
}

func TestClearInAPolicyFileReleasesItAndAgainDoesNothing(t *testing.T) {
	h := newHarness(t)
	old := h.install(shippedPolicy, "gpu-workers.hcl")
	must.Eq(t, 0, h.run("set", "-policy-file", old, "-agent-pid", "7", "-count", "40", "-until", "+3h", "-reason", "r"))
	pinned := h.only()

	must.Eq(t, 0, h.run("clear", "-policy-file", pinned, "-agent-pid", "7"), must.Sprint(h.stderr.String()))
	released := h.only()
	must.NotEq(t, pinned, released)
	must.Eq(t, []int{7, 7}, h.agent.reloads)
	for _, v := range h.views(released).checks {
		must.Eq(t, stateNone, v.state, must.Sprint(v.check))
	}
	must.StrContains(t, h.stdout.String(), `override cleared in policy "gpu-workers", check "request-rate", "backlog"`)
	must.StrContains(t, h.stdout.String(), "no active override: the checks decide from their metrics")

	before := dirSnapshot(t, h.dir)
	must.Eq(t, 0, h.run("clear", "-policy-file", released, "-agent-pid", "7"))
	must.StrContains(t, h.stdout.String(), "nothing to clear")
	must.Eq(t, before, dirSnapshot(t, h.dir))
	must.Len(t, 2, h.agent.reloads, must.Sprint("no signal when nothing changed"))
}

// Every refused request: exit status 2, an error naming the flag or key,
// no file written or removed, no signal.
func TestARefusedFileOverrideWritesNothingAndSignalsNoOne(t *testing.T) {
	cases := []struct {
		name    string
		fixture string
		args    []string
		agent   error
		want    []string
	}{
		{"an until in the past", shippedPolicy, []string{"-until", "2026-12-01T11:00:00Z"}, nil,
			[]string{"-until 2026-12-01T11:00:00Z: in the past"}},
		{"an until beyond override_max_duration", "testdata/plain.hcl", []string{"-name", "gpu-workers", "-until", "+13h"}, nil,
			[]string{`more than override_max_duration 12h0m0s of check "backlog"`}},
		{"a count over max", shippedPolicy, []string{"-count", "5001"}, nil,
			[]string{`-count 5001: outside policy "gpu-workers"'s min 1 and max 5000`}},
		{"a count under min", shippedPolicy, []string{"-count", "0"}, nil, []string{"-count 0: outside"}},
		{"a count that is not a number", shippedPolicy, []string{"-count", "forty"}, nil, []string{`-count "forty": not a whole number`}},
		{"no reason", shippedPolicy, []string{"-reason", ""}, nil, []string{"-reason: required"}},
		{"an until that is not a time", shippedPolicy, []string{"-until", "6pm"}, nil, []string{`-until "6pm": not a clock time HH:MM`}},
		{"no until", shippedPolicy, []string{"-until", ""}, nil, []string{"-until: required"}},
		{"a policy without strategy-slope", "testdata/no-slope.hcl", nil, nil,
			[]string{`no check uses the strategy-slope block label (-strategy)`}},
		{"another label than the agent's", shippedPolicy, []string{"-strategy", "fast"}, nil,
			[]string{`no check uses the strategy-slope block label (-strategy)`}},
		{"a file of two policies without -name", "testdata/plain.hcl", nil, nil, []string{"-name: "}},
		{"an unknown policy name", shippedPolicy, []string{"-name", "gpu"}, nil, []string{`-name "gpu"`}},
		{"a process that is not the agent", shippedPolicy, nil, errors.New("-agent-pid 4242: runs \"sleep 60\", not a nomad-autoscaler agent"),
			[]string{"not a nomad-autoscaler agent"}},
		{"no agent", shippedPolicy, []string{"-agent-pid", "0"}, nil, []string{"-agent-pid or -agent-pidfile: required with -policy-file"}},
		{"an unknown time zone", shippedPolicy, []string{"-tz", "Mars/Olympus"}, nil, []string{`-tz "Mars/Olympus"`}},
		{"a stray argument", shippedPolicy, []string{"40"}, nil, []string{`unexpected arguments ["40"]`}},
		{"both places at once", shippedPolicy, []string{"-policy", shippedPolicy}, nil, []string{"-policy and -policy-file: give one"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.agent.checkErr = tc.agent
			file := h.install(tc.fixture, "policy.hcl")
			before := dirSnapshot(t, h.dir)
			args := append([]string{"set", "-policy-file", file, "-agent-pid", "4242", "-count", "40", "-until", "+1h", "-reason", "r"}, tc.args...)
			must.Eq(t, 2, h.run(args...), must.Sprint(h.stderr.String()))
			for _, want := range tc.want {
				must.StrContains(t, h.stderr.String(), want)
			}
			must.StrContains(t, h.stderr.String(), "override: nothing was written")
			must.Eq(t, before, dirSnapshot(t, h.dir))
			must.SliceEmpty(t, h.agent.reloads)
		})
	}
}

func TestAFailedSignalSaysWhatToDo(t *testing.T) {
	h := newHarness(t)
	h.agent.reloadErr = errors.New("send SIGHUP to agent 4242: operation not permitted")
	old := h.install(shippedPolicy, "gpu-workers.hcl")
	must.Eq(t, 1, h.run("set", "-policy-file", old, "-agent-pid", "4242", "-count", "40", "-until", "+1h", "-reason", "r"))
	must.StrContains(t, h.stderr.String(), "but send SIGHUP to agent 4242: operation not permitted: send it by hand (kill -HUP 4242)")
	must.StrContains(t, h.stderr.String(), "wrote "+h.only())
}

func TestSetInTheVariablePinsEveryCheckWithoutTouchingTheFile(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	before := dirSnapshot(t, h.dir)
	code := h.run("set", "-policy", file, "-count", "12", "-until", "09:30", "-reason", "load test")
	must.Eq(t, 0, code, must.Sprint(h.stderr.String()))

	items, ok := h.nomad.Variable("default", overridePath)
	must.True(t, ok)
	must.Eq(t, map[string]string{"count": "12", "until": "2026-12-01T14:30:00Z", "reason": "load test"}, items)
	must.Eq(t, before, dirSnapshot(t, h.dir))
	must.SliceEmpty(t, h.agent.reloads)
	out := h.stdout.String()
	must.StrContains(t, out, "wrote Nomad Variable "+overridePath+": 12 workers until 2026-12-01T14:30:00Z (Tue 09:30 EST, in 2h30m)")
	must.StrContains(t, out, `pinned at 12 until 2026-12-01T14:30:00Z (Tue 09:30 EST, in 2h30m) by variable `+overridePath+`: "load test"`)

	// A second set replaces it; -namespace and $NOMAD_NAMESPACE choose where.
	h.env["NOMAD_NAMESPACE"] = "ekyc"
	must.Eq(t, 0, h.run("set", "-policy", file, "-count", "13", "-until", "+1h", "-reason", "again"))
	items, _ = h.nomad.Variable("ekyc", overridePath)
	must.Eq(t, "13", items["count"])
	must.Eq(t, 0, h.run("set", "-policy", file, "-namespace", "default", "-count", "14", "-until", "+1h", "-reason", "again"))
	items, _ = h.nomad.Variable("default", overridePath)
	must.Eq(t, "14", items["count"])
}

func TestARefusedVariableOverrideLeavesTheVariableAsItWas(t *testing.T) {
	previous := map[string]string{"count": "3", "until": "2026-12-01T13:00:00Z", "reason": "before"}
	cases := []struct {
		name    string
		fixture string
		args    []string
		want    string
	}{
		{"an until in the past", "testdata/variable.hcl", []string{"-until", "2026-11-30T12:00:00Z"}, "-until 2026-11-30T12:00:00Z: in the past"},
		{"an until beyond override_max_duration", "testdata/variable.hcl", []string{"-until", "+169h"}, "more than override_max_duration 168h0m0s"},
		{"a count over max", "testdata/variable.hcl", []string{"-count", "101"}, "-count 101: outside"},
		{"a policy without override_variable", "testdata/no-slope.hcl", nil, "no check uses the strategy-slope block label"},
		{"a policy whose override_variable is commented out", shippedPolicy, nil,
			`no check sets override_variable (it is commented out in check "request-rate", "backlog"`},
		{"a Variable that would pin only some checks", "testdata/one-variable.hcl", nil, `check "backlog" has no override_variable`},
		{"an agent PID, which a Variable does not need", "testdata/variable.hcl", []string{"-agent-pid", "1"}, "-agent-pid and -agent-pidfile: only with -policy-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.nomad.SetVariable("default", overridePath, previous)
			file := h.install(tc.fixture, "policy.hcl")
			args := append([]string{"set", "-policy", file, "-count", "40", "-until", "+1h", "-reason", "r"}, tc.args...)
			must.Eq(t, 2, h.run(args...), must.Sprint(h.stderr.String()))
			must.StrContains(t, h.stderr.String(), tc.want)
			items, _ := h.nomad.Variable("default", overridePath)
			must.Eq(t, previous, items)
		})
	}
}

func TestANomadErrorWritesNothing(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	h.nomad.InjectHTTPErrors(403, 1)
	must.Eq(t, 1, h.run("set", "-policy", file, "-count", "40", "-until", "+1h", "-reason", "r"))
	must.StrContains(t, h.stderr.String(), "read nomad variable "+overridePath)
	must.StrContains(t, h.stderr.String(), "403")
	_, ok := h.nomad.Variable("default", overridePath)
	must.False(t, ok)

	h.env["NOMAD_ADDR"] = "http://127.0.0.1:1"
	must.Eq(t, 1, h.run("set", "-policy", file, "-count", "40", "-until", "+1h", "-reason", "r", "-timeout", "2s"))
	must.StrContains(t, h.stderr.String(), "read nomad variable "+overridePath)
}

func TestAVariableChangedMeanwhileIsNotOverwritten(t *testing.T) {
	h := newHarness(t)
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "1"})
	client, err := nomadSettings{address: h.env["NOMAD_ADDR"]}.client()
	must.NoError(t, err)
	vars := nomadVariables{client: client}
	ctx := t.Context()
	_, index, err := vars.Read(ctx, overridePath)
	must.NoError(t, err)
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "2"}) // another operator
	err = vars.Write(ctx, overridePath, map[string]string{"count": "3"}, index)
	must.ErrorIs(t, err, errChanged)
	err = vars.Delete(ctx, overridePath, index)
	must.ErrorIs(t, err, errChanged)
	err = vars.Write(ctx, "nomad-autoscaler/overrides/new", map[string]string{"count": "3"}, 0)
	must.NoError(t, err)
	err = vars.Write(ctx, "nomad-autoscaler/overrides/new", map[string]string{"count": "4"}, 0)
	must.ErrorIs(t, err, errChanged, must.Sprint("created by someone else meanwhile"))
	items, _ := h.nomad.Variable("default", overridePath)
	must.Eq(t, "2", items["count"])
}

func TestClearDeletesTheVariable(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "3", "until": "2026-12-01T13:00:00Z", "reason": "x"})
	must.Eq(t, 0, h.run("clear", "-policy", file), must.Sprint(h.stderr.String()))
	_, ok := h.nomad.Variable("default", overridePath)
	must.False(t, ok)
	must.StrContains(t, h.stdout.String(), `deleted Nomad Variable `+overridePath+` (count "3", until "2026-12-01T13:00:00Z", reason "x")`)
	must.StrContains(t, h.stdout.String(), "no active override")

	must.Eq(t, 0, h.run("clear", "-policy", file))
	must.StrContains(t, h.stdout.String(), "no Nomad Variable "+overridePath+": no override to clear")
}

func TestStatusSaysWhatEveryPolicysStrategyWillDoNext(t *testing.T) {
	h := newHarness(t)
	h.install("testdata/variable.hcl", "a-variable.hcl")
	h.install("testdata/no-slope.hcl", "b-web.hcl")
	plain := h.install("testdata/plain.hcl", "c-plain.hcl")
	// gpu-workers of plain.hcl: an expired override in one check only.
	src := readFixture(t, plain)
	expired := request{count: 5, until: now.Add(-time.Hour), reason: "yesterday"}
	out, _, err := setInSource(src, plain, "cpu-workers", "slope", expired)
	must.NoError(t, err)
	pinned := request{count: 60, until: now.Add(90 * time.Minute), reason: "sale"}
	out, _, err = setInSource(out, plain, "gpu-workers", "slope", pinned)
	must.NoError(t, err)
	must.NoError(t, os.WriteFile(plain, out, 0o644))
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "30", "until": "2026-12-01T18:00:00Z", "reason": "launch"})

	must.Eq(t, 0, h.run("status", "-policy-dir", h.dir, "-tz", "UTC"), must.Sprint(h.stderr.String()))
	got := squeeze(h.stdout.String())
	for _, want := range []string{
		`policy "gpu-workers" in ` + filepath.Join(h.dir, "a-variable.hcl") + ` (min 1, max 100)`,
		`next:                  pinned at 30 until 2026-12-01T18:00:00Z (Tue 18:00 UTC, in 6h00m)`,
		`check "request-rate":  pinned at 30 until 2026-12-01T18:00:00Z (Tue 18:00 UTC, in 6h00m) by variable ` + overridePath + `: "launch"`,
		`policy "web" in ` + filepath.Join(h.dir, "b-web.hcl"),
		`next:       no check uses strategy-slope: no override applies`,
		`check "cpu":  strategy "target-value" is not strategy-slope: no override applies`,
		`next:                  pinned at 60 until 2026-12-01T13:30:00Z (Tue 13:30 UTC, in 1h30m); the agent caps it at max 50`,
		`next:       no active override: the checks decide from their metrics`,
		`check "rate":  no override: the one from policy expired at 2026-12-01T11:00:00Z`,
	} {
		must.StrContains(t, got, squeeze(want))
	}

	// The same with -name and an unreachable Nomad: the Variable cannot be
	// read, so the strategy decides without it, and says so.
	h.env["NOMAD_ADDR"] = "http://127.0.0.1:1"
	must.Eq(t, 0, h.run("status", "-policy", filepath.Join(h.dir, "a-variable.hcl")))
	must.StrContains(t, squeeze(h.stdout.String()), `check "backlog": no override; override variable ignored: read nomad variable `+overridePath)
}

func TestAPartlyPinnedPolicyIsShownAsAtLeastTheOverride(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/one-variable.hcl", "gpu-workers.hcl")
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "30", "until": "2026-12-01T18:00:00Z"})
	must.Eq(t, 0, h.run("status", "-policy", file, "-tz", "UTC"))
	must.StrContains(t, squeeze(h.stdout.String()), `next: at least 30 until 2026-12-01T18:00:00Z (Tue 18:00 UTC, in 6h00m): check "backlog" not pinned, may add workers on top`)
}

func TestTheVariableWinsOverTheFileAndSetSaysSo(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	h.nomad.SetVariable("default", overridePath, map[string]string{"count": "30", "until": "2026-12-01T18:00:00Z", "reason": "launch"})
	must.Eq(t, 0, h.run("set", "-policy-file", file, "-agent-pid", "9", "-count", "10", "-until", "+1h", "-reason", "file"),
		must.Sprint(h.stderr.String()))
	for _, v := range h.views(h.only()).checks {
		must.Eq(t, "variable "+overridePath, v.source)
		must.Eq(t, int64(30), v.count)
	}
	must.StrContains(t, h.stdout.String(), "by variable "+overridePath)
}

func TestTheCommandLineIsExplained(t *testing.T) {
	h := newHarness(t)
	must.Eq(t, 2, h.run())
	must.StrContains(t, h.stderr.String(), "usage: override <command>")
	must.Eq(t, 0, h.run("help"))
	must.StrContains(t, h.stdout.String(), "override set    -count N -until WHEN -reason TEXT")
	must.Eq(t, 2, h.run("pin"))
	must.StrContains(t, h.stderr.String(), `unknown command "pin": set, clear or status`)
	must.Eq(t, 0, h.run("set", "-h"))
	must.StrContains(t, h.stderr.String(), "-agent-pidfile")
	must.Eq(t, 2, h.run("status"))
	must.StrContains(t, h.stderr.String(), "-policy, -policy-file or -policy-dir: required")
	must.Eq(t, 2, h.run("clear"))
	must.StrContains(t, h.stderr.String(), "-policy or -policy-file: required")
	must.Eq(t, 2, h.run("set", "-policy", "a.hcl", "-policy", "b.hcl", "-count", "1", "-until", "+1h", "-reason", "r"))
	must.StrContains(t, h.stderr.String(), "-policy: give one policy file")
	must.True(t, strings.HasPrefix(usage, "usage: override"))
}

// squeeze collapses the alignment of tabwriter columns to single spaces.
func squeeze(s string) string {
	return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ")
}

func TestStatusShowsWhatItCanReadAndFailsForTheRest(t *testing.T) {
	h := newHarness(t)
	h.install("testdata/variable.hcl", "a.hcl")
	must.NoError(t, os.WriteFile(filepath.Join(h.dir, "b.hcl"), []byte(`scaling "broken" {`), 0o644))
	must.Eq(t, 1, h.run("status", "-policy-dir", h.dir))
	must.StrContains(t, h.stdout.String(), `policy "gpu-workers" in `+filepath.Join(h.dir, "a.hcl"))
	must.StrContains(t, h.stderr.String(), "decode "+filepath.Join(h.dir, "b.hcl")+" as the agent does")

	must.Eq(t, 2, h.run("status", "-policy-dir", t.TempDir()))
	must.StrContains(t, h.stderr.String(), "no .hcl file")
}

// A campaign known ten days ahead: a minimum that starts later, written
// now, beyond override_max_duration from now but three hours long.
func TestSetSchedulesAMinimumInTheVariable(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	code := h.run("set", "-policy", file, "-count", "40", "-minimum", "-from", "2026-12-11T08:45:00Z", "-until", "+3h",
		"-reason", "campaign, CHG-311", "-tz", "UTC")
	must.Eq(t, 0, code, must.Sprint(h.stderr.String()))

	items, ok := h.nomad.Variable("default", overridePath)
	must.True(t, ok)
	must.Eq(t, map[string]string{"count": "40", "mode": "minimum", "from": "2026-12-11T08:45:00Z",
		"until": "2026-12-11T11:45:00Z", "reason": "campaign, CHG-311"}, items)
	out := squeeze(h.stdout.String())
	must.StrContains(t, out, "wrote Nomad Variable "+overridePath+": at least 40 workers from 2026-12-11T08:45:00Z (Fri 08:45 UTC, in 236h45m) until 2026-12-11T11:45:00Z")
	must.StrContains(t, out, "next: no active override: the checks decide from their metrics; scheduled: at least 40 from 2026-12-11T08:45:00Z")
	must.StrContains(t, out, `check "request-rate": no override yet: at least 40 from 2026-12-11T08:45:00Z (Fri 08:45 UTC, in 236h45m) until 2026-12-11T11:45:00Z (Fri 11:45 UTC, in 239h45m) by variable `+overridePath+`: "campaign, CHG-311"`)

	// Once started, the policy is at least 40 and its checks still decide.
	started := now
	now = time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC)
	t.Cleanup(func() { now = started })
	must.Eq(t, 0, h.run("status", "-policy", file, "-tz", "UTC"), must.Sprint(h.stderr.String()))
	out = squeeze(h.stdout.String())
	must.StrContains(t, out, "next: at least 40 until 2026-12-11T11:45:00Z (Fri 11:45 UTC, in 2h45m): the checks decide from their metrics, never below it")
	must.StrContains(t, out, `check "backlog": at least 40 until 2026-12-11T11:45:00Z`)
}

func TestAScheduledMinimumInAFileDoesNotOutliveIt(t *testing.T) {
	h := newHarness(t)
	old := h.install(shippedPolicy, "gpu-workers.hcl")
	must.Eq(t, 0, h.run("set", "-policy-file", old, "-agent-pid", "7", "-count", "40", "-minimum",
		"-from", "18:00", "-until", "21:00", "-tz", "America/New_York", "-reason", "launch"), must.Sprint(h.stderr.String()))
	edited := h.only()
	src := string(readFixture(t, edited))
	must.StrContains(t, src, `override_from   = "2026-12-01T23:00:00Z"`)
	must.StrContains(t, src, `override_mode   = "minimum"`)
	for _, v := range h.views(edited).checks {
		must.Eq(t, stateScheduled, v.state, must.Sprint(v.check))
		must.True(t, v.minimum)
		must.Eq(t, "2026-12-02T02:00:00Z", v.until.Format(time.RFC3339))
	}

	// A plain pin set next must not inherit the start or the mode.
	must.Eq(t, 0, h.run("set", "-policy-file", edited, "-agent-pid", "7", "-count", "12", "-until", "+1h", "-reason", "drill"),
		must.Sprint(h.stderr.String()))
	again := h.only()
	src = string(readFixture(t, again))
	must.StrContains(t, src, `# override_from`)
	must.StrContains(t, src, `# override_mode`)
	for _, v := range h.views(again).checks {
		must.Eq(t, statePinned, v.state, must.Sprint(v.check))
		must.Eq(t, int64(12), v.count)
	}

	must.Eq(t, 0, h.run("clear", "-policy-file", again, "-agent-pid", "7"), must.Sprint(h.stderr.String()))
	for _, v := range h.views(h.only()).checks {
		must.Eq(t, stateNone, v.state, must.Sprint(v.check))
	}
}

func TestARefusedScheduleWritesNothing(t *testing.T) {
	for args, want := range map[[4]string]string{
		{"-from", "2026-12-02T12:00:00Z", "-until", "2026-12-02T11:00:00Z"}: "-from 2026-12-02T12:00:00Z: not before -until 2026-12-02T11:00:00Z",
		{"-from", "2026-12-11T08:45:00Z", "-until", "+169h"}:                "-until 2026-12-18T09:45:00Z: 169h00m after -from, more than override_max_duration 168h0m0s",
		{"-from", "soon", "-until", "+1h"}:                                  `-from "soon": not a clock time HH:MM`,
	} {
		h := newHarness(t)
		file := h.install("testdata/variable.hcl", "policy.hcl")
		must.Eq(t, 2, h.run("set", "-policy", file, "-count", "40", "-reason", "r", args[0], args[1], args[2], args[3]), must.Sprint(h.stdout.String()))
		must.StrContains(t, h.stderr.String(), want)
		_, ok := h.nomad.Variable("default", overridePath)
		must.False(t, ok)
	}
}

// Two events booked a week ahead, each its own Variable beside the policy's
// override Variable; status shows the calendar; each applies in its own
// hours; the ended one is deleted with -ended.
func TestEventsAreBookedAheadSideBySide(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	book := func(name, count, from, until, reason string) {
		t.Helper()
		code := h.run("set", "-policy", file, "-event", name, "-count", count, "-minimum", "-from", from, "-until", until, "-reason", reason, "-tz", "UTC")
		must.Eq(t, 0, code, must.Sprint(h.stderr.String()))
	}
	book("bank-campaign", "40", "2026-12-07T08:45:00Z", "+3h", "bank campaign, CHG-311")
	out := squeeze(h.stdout.String())
	must.StrContains(t, out, "wrote Nomad Variable "+overridePath+"/bank-campaign: at least 40 workers from 2026-12-07T08:45:00Z")
	must.StrContains(t, out, "events under "+overridePath+"/:")
	must.StrContains(t, out, "bank-campaign: booked: at least 40 from 2026-12-07T08:45:00Z")
	book("telco-deadline", "60", "2026-12-04T18:00:00Z", "+4h", "SIM registration deadline")

	items, ok := h.nomad.Variable("default", overridePath+"/telco-deadline")
	must.True(t, ok)
	must.Eq(t, map[string]string{"count": "60", "mode": "minimum", "from": "2026-12-04T18:00:00Z",
		"until": "2026-12-04T22:00:00Z", "reason": "SIM registration deadline"}, items)
	_, ok = h.nomad.Variable("default", overridePath)
	must.False(t, ok, must.Sprint("the policy's own Variable is left alone"))

	must.Eq(t, 0, h.run("status", "-policy", file, "-tz", "UTC"), must.Sprint(h.stderr.String()))
	out = squeeze(h.stdout.String())
	// The soonest is what the checks report; both are listed.
	must.StrContains(t, out, `check "request-rate": no override yet: at least 60 from 2026-12-04T18:00:00Z`)
	must.StrContains(t, out, "bank-campaign: booked: at least 40 from 2026-12-07T08:45:00Z")
	must.StrContains(t, out, `telco-deadline: booked: at least 60 from 2026-12-04T18:00:00Z (Fri 18:00 UTC, in 78h00m) until 2026-12-04T22:00:00Z (Fri 22:00 UTC, in 82h00m): "SIM registration deadline"`)

	started := now
	t.Cleanup(func() { now = started })
	now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	must.Eq(t, 0, h.run("status", "-policy", file, "-tz", "UTC"), must.Sprint(h.stderr.String()))
	out = squeeze(h.stdout.String())
	must.StrContains(t, out, "next: at least 40 until 2026-12-07T11:45:00Z")
	must.StrContains(t, out, "by variable "+overridePath+"/bank-campaign")
	must.StrContains(t, out, "telco-deadline: ended (override clear -ended deletes it)")

	must.Eq(t, 0, h.run("clear", "-policy", file, "-ended", "-tz", "UTC"), must.Sprint(h.stderr.String()))
	must.StrContains(t, h.stdout.String(), `deleted event telco-deadline (ended 2026-12-04T22:00:00Z`)
	_, ok = h.nomad.Variable("default", overridePath+"/telco-deadline")
	must.False(t, ok)
	_, ok = h.nomad.Variable("default", overridePath+"/bank-campaign")
	must.True(t, ok, must.Sprint("the event in force stays"))

	must.Eq(t, 0, h.run("clear", "-policy", file, "-event", "bank-campaign"), must.Sprint(h.stderr.String()))
	_, ok = h.nomad.Variable("default", overridePath+"/bank-campaign")
	must.False(t, ok)
	// A name that is not booked is a typo, not a no-op.
	must.Eq(t, 2, h.run("clear", "-policy", file, "-event", "bank-campaing"))
	must.StrContains(t, h.stderr.String(), `-event "bank-campaing": no such event under `+overridePath+"/")
}

func TestAnEventThatAnotherOverrideOutranksIsBookedAndSaysSo(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	must.Eq(t, 0, h.run("set", "-policy", file, "-count", "12", "-until", "+6h", "-reason", "freeze, INC-9"), must.Sprint(h.stderr.String()))
	code := h.run("set", "-policy", file, "-event", "launch", "-count", "40", "-minimum", "-from", "+1h", "-until", "+2h", "-reason", "launch")
	must.Eq(t, 0, code, must.Sprint(h.stderr.String()))
	must.StrContains(t, squeeze(h.stdout.String()), `check "request-rate" follows another override: pinned at 12`)
}

func TestBadEventFlagsWriteNothing(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	for args, want := range map[string]string{
		"set -event ../lock -count 3 -until +1h -reason x":          `-event "../lock": a name of 1-64 letters`,
		"clear -event a -ended":                                     "-event and -ended: give one",
		"set -policy-file F -event a -count 3 -until +1h -reason x": "-event and -ended: only with -policy",
	} {
		argv := strings.Fields(args)
		if !slices.Contains(argv, "-policy-file") {
			argv = append(argv, "-policy", file)
		} else {
			argv[slices.Index(argv, "F")] = file
		}
		must.Eq(t, 2, h.run(argv...), must.Sprint(args))
		must.StrContains(t, h.stderr.String(), want)
		must.StrContains(t, h.stderr.String(), "nothing was written")
	}
	for _, path := range []string{overridePath, overridePath + "/a", "nomad-autoscaler/overrides/lock"} {
		_, ok := h.nomad.Variable("default", path)
		must.False(t, ok, must.Sprint(path))
	}
}

// A malformed event is listed with strategy-slope's own words for why it
// ignores it.
func TestStatusListsAMalformedEventInTheStrategysWords(t *testing.T) {
	h := newHarness(t)
	file := h.install("testdata/variable.hcl", "gpu-workers.hcl")
	h.nomad.SetVariable("default", overridePath+"/typo", map[string]string{"count": "lots", "until": "2026-12-01T18:00:00Z"})
	must.Eq(t, 0, h.run("status", "-policy", file, "-tz", "UTC"), must.Sprint(h.stderr.String()))
	must.StrContains(t, squeeze(h.stdout.String()),
		`typo: variable `+overridePath+`/typo item count "lots": must be a whole number from 0 to 1000000000: strategy-slope ignores it`)
}
