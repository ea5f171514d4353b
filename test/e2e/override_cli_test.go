package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/shoenig/test/must"
	"github.com/zclconf/go-cty/cty"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// The override command (cmd/override) as an operator runs it, against the
// real agent: in a policy file (saved under a new name, the old file
// removed, SIGHUP) and in the Nomad Variable the policy's checks name.

const cliOverrideVariable = "nomad-autoscaler/overrides/gpu-workers"

// TestOverrideCLIPinsAPolicyFileAndClearReleasesIt: a refused request
// changes nothing; `override set -policy-file` pins the count at the next
// evaluation and holds it; `override clear` lets scaling resume.
func TestOverrideCLIPinsAPolicyFileAndClearReleasesIt(t *testing.T) {
	t.Parallel()
	s := newOverrideStack(t)
	bin, pid := overrideBinary(t), strconv.Itoa(agentPID(t, s.agent))
	file := filepath.Join(s.policyDir, "gpu-workers.hcl")

	before := policyFiles(t, s.policyDir)
	out, code := runOverride(t, bin, nil, "set", "-policy-file", file, "-agent-pid", pid, "-count", "21", "-until", "+10m", "-reason", "e2e")
	must.Eq(t, 2, code, must.Sprint(out))
	must.StrContains(t, out, `-count 21: outside policy "gpu-workers"'s min 2 and max 20`)
	must.Eq(t, before, policyFiles(t, s.policyDir), must.Sprint("a refused override writes nothing"))

	out, code = runOverride(t, bin, nil, "set", "-policy-file", file, "-agent-pid", pid, "-count", "6", "-until", "+10m", "-reason", "e2e pin")
	must.Eq(t, 0, code, must.Sprint(out))
	set := time.Now()
	s.waitFor("the override's count is applied", evalInterval+5*time.Second, func() bool { return s.count() == 6 })
	t.Logf("pinned %s after override set", time.Since(set).Round(100*time.Millisecond))
	must.Eq(t, map[string]int{zoneA: 3, zoneB: 3}, s.targetSizes())
	// Without traffic the rate check would scale in at every evaluation.
	s.waitEvaluations(2)
	must.Eq(t, 6, s.count(), must.Sprint("pinned"))

	pinned := onlyPolicyFile(t, s.policyDir)
	out, code = runOverride(t, bin, nil, "status", "-policy-dir", s.policyDir)
	must.Eq(t, 0, code, must.Sprint(out))
	must.RegexMatch(t, regexp.MustCompile(`next:\s+pinned at 6 until `), out)

	out, code = runOverride(t, bin, nil, "clear", "-policy-file", pinned, "-agent-pid", pid)
	must.Eq(t, 0, code, must.Sprint(out))
	cleared := time.Now()
	s.waitFor("scaling resumes after override clear", evalInterval+15*time.Second, func() bool { return s.count() < 6 })
	t.Logf("scale-in resumed %s after override clear", time.Since(cleared).Round(100*time.Millisecond))
	out, code = runOverride(t, bin, nil, "status", "-policy-dir", s.policyDir)
	must.Eq(t, 0, code, must.Sprint(out))
	must.StrContains(t, out, "no active override")
}

// TestOverrideCLIPinsThroughTheNomadVariableUntilItExpires: `override set
// -policy` writes the Variable the policy's checks name, in the fake Nomad
// the agent's plugins talk to; the strategy pins the count until -until,
// then scaling resumes by itself.
//
// The Variable is written before the policy that names it is installed:
// strategy-slope keeps a Variable it read for 30 s, so a Variable written
// after the first read would take up to 30 s more to act, which this test
// need not wait out (the strategy's own tests cover the cache).
func TestOverrideCLIPinsThroughTheNomadVariableUntilItExpires(t *testing.T) {
	t.Parallel()
	s, bin, env, staged := newVariableOverrideStack(t)

	out, code := runOverride(t, bin, env, "set", "-policy", staged, "-count", "6", "-until", "+200h", "-reason", "e2e")
	must.Eq(t, 2, code, must.Sprint(out))
	must.StrContains(t, out, "more than override_max_duration 168h0m0s")
	_, written := s.cloud.Nomad.Variable("default", cliOverrideVariable)
	must.False(t, written, must.Sprint("a refused override writes nothing"))

	until := time.Now().Add(15 * time.Second).Truncate(time.Second)
	out, code = runOverride(t, bin, env, "set", "-policy", staged, "-count", "6",
		"-until", until.UTC().Format(time.RFC3339), "-reason", "e2e variable")
	must.Eq(t, 0, code, must.Sprint(out))
	items, _ := s.cloud.Nomad.Variable("default", cliOverrideVariable)
	must.Eq(t, map[string]string{"count": "6", "until": until.UTC().Format(time.RFC3339), "reason": "e2e variable"}, items)

	installed := installVariablePolicy(t, s, staged)
	s.waitFor("the Variable's count is applied", evalInterval+5*time.Second, func() bool { return s.count() == 6 })
	out, code = runOverride(t, bin, env, "status", "-policy", installed)
	must.Eq(t, 0, code, must.Sprint(out))
	must.StrContains(t, out, "by variable "+cliOverrideVariable+`: "e2e variable"`)

	poll.Holds(t, time.Until(until)-500*time.Millisecond, func() bool { return s.count() == 6 }, func() string {
		return fmt.Sprintf("count pinned at 6, %s before until; the MIGs are at %v", time.Until(until).Round(time.Millisecond), s.targetSizes())
	})
	s.waitFor("scaling resumes after until", evalInterval+15*time.Second, func() bool { return s.count() < 6 })
	t.Logf("scale-in resumed %s after until", time.Since(until).Round(100*time.Millisecond))
	s.agent.WaitForLog(t, `override from variable `+cliOverrideVariable+` expired at `+regexp.QuoteMeta(until.UTC().Format(time.RFC3339)), 10*time.Second)
	out, code = runOverride(t, bin, env, "status", "-policy", installed)
	must.Eq(t, 0, code, must.Sprint(out))
	must.StrContains(t, out, "no override: the one from variable "+cliOverrideVariable+" expired at")
}

// TestOverrideCLISchedulesAMinimumThatStartsAndEndsByItself: an event
// known ahead is set once (`override set -minimum -from`): the policy
// scales as usual until -from, never below the count from then, as usual
// again after -until, with no further edit, signal or command.
func TestOverrideCLISchedulesAMinimumThatStartsAndEndsByItself(t *testing.T) {
	t.Parallel()
	s := newOverrideStack(t)
	bin, pid := overrideBinary(t), strconv.Itoa(agentPID(t, s.agent))
	file := filepath.Join(s.policyDir, "gpu-workers.hcl")

	from := time.Now().Add(15 * time.Second).Truncate(time.Second)
	until := from.Add(15 * time.Second)
	out, code := runOverride(t, bin, nil, "set", "-policy-file", file, "-agent-pid", pid, "-count", "6", "-minimum",
		"-from", from.UTC().Format(time.RFC3339), "-until", "+15s", "-reason", "e2e campaign")
	must.Eq(t, 0, code, must.Sprint(out))
	must.StrContains(t, out, "at least 6 workers from "+from.UTC().Format(time.RFC3339))
	must.StrContains(t, out, "scheduled: at least 6 from")

	// Scheduled: the checks decide as usual (idle at min 2) until from.
	poll.Holds(t, time.Until(from)-time.Second, func() bool { return s.count() == 2 }, func() string {
		return fmt.Sprintf("count at min 2 before the minimum starts, %s before from; the MIGs are at %v", time.Until(from).Round(time.Millisecond), s.targetSizes())
	})
	s.waitFor("the minimum applies from its start", evalInterval+5*time.Second, func() bool { return s.count() == 6 })
	t.Logf("minimum applied %s after from", time.Since(from).Round(100*time.Millisecond))
	s.agent.WaitForLog(t, `at least 6 workers until `+regexp.QuoteMeta(until.UTC().Format(time.RFC3339))+` \(e2e campaign\)`, 10*time.Second)
	out, code = runOverride(t, bin, nil, "status", "-policy-dir", s.policyDir)
	must.Eq(t, 0, code, must.Sprint(out))
	must.RegexMatch(t, regexp.MustCompile(`next:\s+at least 6 until `), out)

	poll.Holds(t, time.Until(until)-500*time.Millisecond, func() bool { return s.count() == 6 }, func() string {
		return fmt.Sprintf("count held at the minimum 6, %s before until; the MIGs are at %v", time.Until(until).Round(time.Millisecond), s.targetSizes())
	})
	s.waitFor("scaling resumes after until", evalInterval+15*time.Second, func() bool { return s.count() < 6 })
	t.Logf("scale-in resumed %s after until", time.Since(until).Round(100*time.Millisecond))
}

// newOverrideStack is the stack of the override scenarios: idle at min 2,
// where the rate check would go lower.
func newOverrideStack(t *testing.T) *stack {
	t.Helper()
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: 500 * time.Millisecond,
		policy: policyParams{Min: 2, Max: 20, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 10 * time.Second},
	})
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)
	return s
}

// newVariableOverrideStack is the override stack with the override command,
// the environment that points it at the stack's Nomad, and a staged copy of
// the stack's policy that names the override Variable, not yet installed.
func newVariableOverrideStack(t *testing.T) (s *stack, bin string, env []string, staged string) {
	t.Helper()
	s = newOverrideStack(t)
	bin = overrideBinary(t)
	env = []string{"NOMAD_ADDR=" + s.cloudURL, "NOMAD_NAMESPACE=default"}
	staged = filepath.Join(t.TempDir(), "gpu-workers.hcl")
	writePolicyWithVariable(t, staged, s.policy)
	return s, bin, env, staged
}

// installVariablePolicy installs the staged policy that names the override
// Variable in place of the stack's (new name, old file removed, SIGHUP:
// agent v0.5.0 ignores an edit in place) and returns its path.
func installVariablePolicy(t *testing.T, s *stack, staged string) string {
	t.Helper()
	installed := filepath.Join(s.policyDir, "gpu-workers-variable.hcl")
	must.NoError(t, os.WriteFile(installed, mustRead(t, staged), 0o644))
	must.NoError(t, os.Remove(filepath.Join(s.policyDir, "gpu-workers.hcl")))
	s.agent.Reload()
	return installed
}

func overrideBinary(t *testing.T) string {
	t.Helper()
	return plugintest.Build(t, agenttest.Module+"/cmd/override")
}

// runOverride runs the command with extra environment variables and
// returns its output and exit status.
func runOverride(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode()
	}
	must.NoError(t, err)
	return out.String(), 0
}

// agentPID finds the agent's process by the configuration file it was
// started with, as an operator would with pgrep.
func agentPID(t *testing.T, a *agenttest.Agent) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	must.NoError(t, err, must.Sprint("the override scenarios find the agent in /proc (Linux)"))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(args) == 4 && filepath.Base(args[0]) == "nomad-autoscaler" && args[1] == "agent" && args[3] == a.ConfigPath() {
			return pid
		}
	}
	t.Fatalf("no nomad-autoscaler process runs with %s", a.ConfigPath())
	return 0
}

// policyFiles maps each file of the policy directory to its content.
func policyFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name()] = string(mustRead(t, filepath.Join(dir, e.Name())))
	}
	return out
}

func onlyPolicyFile(t *testing.T, dir string) string {
	t.Helper()
	files := policyFiles(t, dir)
	must.MapLen(t, 1, files)
	for name := range files {
		return filepath.Join(dir, name)
	}
	return ""
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must.NoError(t, err)
	return b
}

// writePolicyWithVariable renders the scenarios' policy with
// override_variable in both strategy blocks, as the README recommends.
func writePolicyWithVariable(t *testing.T, path string, p policyParams) {
	t.Helper()
	dir := t.TempDir()
	writePolicy(t, dir, p)
	f, diags := hclwrite.ParseConfig(mustRead(t, filepath.Join(dir, "gpu-workers.hcl")), "gpu-workers.hcl", hcl.InitialPos)
	must.False(t, diags.HasErrors(), must.Sprint(diags.Error()))
	n := 0
	for _, sc := range f.Body().Blocks() {
		for _, pol := range sc.Body().Blocks() {
			for _, c := range pol.Body().Blocks() {
				for _, st := range c.Body().Blocks() {
					if st.Type() == "strategy" {
						st.Body().SetAttributeValue("override_variable", cty.StringVal(cliOverrideVariable))
						n++
					}
				}
			}
		}
	}
	must.Eq(t, 2, n, must.Sprint("both checks name the Variable"))
	must.NoError(t, os.WriteFile(path, f.Bytes(), 0o644))
}

// TestOverrideCLIBooksEventsThatEachApplyInTheirOwnHours: two events
// booked ahead with `override set -policy -event`, each its own Variable
// under the policy's override Variable: the policy is at least the first
// event's count in its hours, at least the second's in its own, and scales
// as usual before, between (as far as cooldowns allow) and after.
//
// The events are booked before the policy that names the Variable is
// installed, as in TestOverrideCLIPinsThroughTheNomadVariableUntilItExpires:
// strategy-slope lists the events once per 30 s.
func TestOverrideCLIBooksEventsThatEachApplyInTheirOwnHours(t *testing.T) {
	t.Parallel()
	s, bin, env, staged := newVariableOverrideStack(t)

	first := time.Now().Add(15 * time.Second).Truncate(time.Second)
	second := first.Add(20 * time.Second)
	for _, e := range []struct {
		name, count string
		from        time.Time
	}{{"bank-campaign", "5", first}, {"telco-deadline", "7", second}} {
		out, code := runOverride(t, bin, env, "set", "-policy", staged, "-event", e.name, "-count", e.count, "-minimum",
			"-from", e.from.UTC().Format(time.RFC3339), "-until", "+15s", "-reason", "e2e "+e.name)
		must.Eq(t, 0, code, must.Sprint(out))
	}
	items, _ := s.cloud.Nomad.Variable("default", cliOverrideVariable+"/telco-deadline")
	must.Eq(t, "7", items["count"])

	installed := installVariablePolicy(t, s, staged)
	out, code := runOverride(t, bin, env, "status", "-policy", installed)
	must.Eq(t, 0, code, must.Sprint(out))
	must.RegexMatch(t, regexp.MustCompile(`bank-campaign:\s+booked: at least 5 from `), out)
	must.RegexMatch(t, regexp.MustCompile(`telco-deadline:\s+booked: at least 7 from `), out)

	poll.Holds(t, time.Until(first)-time.Second, func() bool { return s.count() == 2 }, func() string {
		return fmt.Sprintf("count at min 2 before the first event, %s before it; the MIGs are at %v", time.Until(first).Round(time.Millisecond), s.targetSizes())
	})
	s.waitFor("the first event applies from its start", evalInterval+5*time.Second, func() bool { return s.count() == 5 })
	t.Logf("first event applied %s after its start", time.Since(first).Round(100*time.Millisecond))
	s.agent.WaitForLog(t, `override from variable `+regexp.QuoteMeta(cliOverrideVariable)+`/bank-campaign: at least 5 workers`, 10*time.Second)
	must.True(t, s.count() < 7, must.Sprint("the second event has not started"))

	s.waitFor("the second event applies from its start", time.Until(second)+evalInterval+5*time.Second, func() bool { return s.count() == 7 })
	must.False(t, time.Now().Before(second), must.Sprint("the second event applied before its start"))
	t.Logf("second event applied %s after its start", time.Since(second).Round(100*time.Millisecond))
	s.agent.WaitForLog(t, `override from variable `+regexp.QuoteMeta(cliOverrideVariable)+`/telco-deadline: at least 7 workers`, 10*time.Second)

	end := second.Add(15 * time.Second)
	s.waitFor("scaling resumes after the last event", time.Until(end)+evalInterval+15*time.Second, func() bool { return s.count() < 7 })
	must.False(t, time.Now().Before(end), must.Sprint("scaled in before the second event ended"))
	out, code = runOverride(t, bin, env, "clear", "-policy", installed, "-ended")
	must.Eq(t, 0, code, must.Sprint(out))
	must.StrContains(t, out, "deleted event bank-campaign")
	must.StrContains(t, out, "deleted event telco-deadline")
}
