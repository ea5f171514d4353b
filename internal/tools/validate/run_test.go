package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

func TestRunAllReturnsTheOutcomesInMatrixOrderWhateverOrderTheyFinishIn(t *testing.T) {
	t.Parallel()
	matrix := Matrix(false)
	// Every run waits until the one after it has finished, so they finish
	// in reverse matrix order; each outcome carries its scenario.
	done := make([]chan struct{}, len(matrix)+1)
	for i := range done {
		done[i] = make(chan struct{})
	}
	close(done[len(matrix)])
	index := func(sc Scenario) int {
		for i, s := range matrix {
			if s.Name == sc.Name && s.Volume == sc.Volume {
				return i
			}
		}
		return -1
	}
	outs, err := runAll(context.Background(), matrix, len(matrix), func(_ context.Context, sc Scenario) (outcome, error) {
		i := index(sc)
		<-done[i+1]
		defer close(done[i])
		return outcome{run: Run{Scenario: sc.Name, Volume: sc.Volume}}, nil
	})
	must.NoError(t, err)
	for i, o := range outs {
		must.Eq(t, matrix[i].Name, o.run.Scenario)
		must.Eq(t, matrix[i].Volume, o.run.Volume)
	}
}

func TestRunAllRunsAtMostWorkersAtOnce(t *testing.T) {
	t.Parallel()
	var running, most atomic.Int32
	_, err := runAll(context.Background(), Matrix(false), 3, func(context.Context, Scenario) (outcome, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		return outcome{}, nil
	})
	must.NoError(t, err)
	must.LessEq(t, 3, most.Load())
}

func TestRunAllStopsAtTheFirstRunThatCannotExecuteAndNamesIt(t *testing.T) {
	t.Parallel()
	var started atomic.Int32
	_, err := runAll(context.Background(), Matrix(false), 1, func(ctx context.Context, sc Scenario) (outcome, error) {
		started.Add(1)
		if sc.Name == "flashcrowd-a" {
			return outcome{}, errors.New("policy does not load")
		}
		return outcome{}, ctx.Err()
	})
	// The long flash-crowd traces go first; the first fails and the
	// others are cancelled without running.
	must.EqError(t, err, "flashcrowd-a at 0.5M/day: policy does not load")
	must.Eq(t, int32(1), started.Load())
}

// quickOptions is -quick on the first two days of the NASA trace with the
// production policy's shape (internal/tools/backtest/testdata/slope.hcl,
// independent of later tuning of the shipped policy) and a one-day split.
func quickOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.PolicyPath = "../backtest/testdata/slope.hcl"
	o.TracePath = "../../../" + DefaultTrace
	o.Quick, o.Days, o.TrainDays = true, 2, 1
	o.Out = filepath.Join(t.TempDir(), "out")
	o.Command = "go run ./cmd/validate -quick -days 2"
	return o
}

func TestValidateQuickOnTwoDaysGivesEveryRowInOrder(t *testing.T) {
	t.Parallel()
	var progress bytes.Buffer
	rep, err := Validate(context.Background(), quickOptions(t), &progress)
	must.NoError(t, err)
	labels := make([]string, len(rep.Rows))
	for i, r := range rep.Rows {
		labels[i] = r.Label + " " + formatVolume(r.Volume)
		must.Eq(t, r.Slope.Days, r.TargetValue.Days)
		must.Eq(t, r.Slope.Days, r.Predictive.Days)
		must.NotEq(t, "", r.Verdict)
		// Each row names the configuration its run's grid picked.
		must.NotEq(t, "", r.TargetValueConfig)
		// target-value held to the goals' availability is a peer too,
		// when some configuration reached it over the whole run.
		if q := r.TargetValueSLO; q != nil {
			must.NotEq(t, "", r.TargetValueSLOConfig)
			must.Eq(t, r.Slope.Days, q.Days)
			behind := q.DaysMet > r.Slope.DaysMet || (q.DaysMet == r.Slope.DaysMet && q.BilledWorkerHours < r.Slope.BilledWorkerHours)
			must.Eq(t, behind, strings.Contains(r.Verdict, "behind target-value-slo"), must.Sprint(r.Label, ": ", r.Verdict))
		} else {
			must.Eq(t, "", r.TargetValueSLOConfig)
		}
	}
	// On the real trace's first two days at 2M/day some configuration of
	// the grid is 99.9% available.
	must.NotNil(t, rep.Rows[0].TargetValueSLO)
	must.Eq(t, rep.Runs[0].TargetValueSLOConfig, rep.Rows[0].TargetValueSLOConfig)
	must.Eq(t, rep.Runs[0].TargetValueConfig, rep.Rows[0].TargetValueConfig)
	must.Eq(t, []string{
		"nasa 2M/day", "nasa: train (days 1-1) 2M/day", "nasa: held out (days 2-2) 2M/day",
		"nasa 60M/day", "nasa: train (days 1-1) 60M/day", "nasa: held out (days 2-2) 60M/day",
	}, labels)
	must.Eq(t, 2, rep.Rows[0].Slope.Days)
	must.Eq(t, 6, rep.Total)
	must.Len(t, 2, rep.Runs)
	must.Eq(t, 2e6, rep.Runs[0].BacktestDaily)
	must.StrContains(t, progress.String(), "validate: 2 runs of ../backtest/testdata/slope.hcl")

	var out bytes.Buffer
	must.NoError(t, rep.WriteTable(&out))
	text := out.String()
	for _, want := range []string{"warning: -days 2: every trace cut", "scenario", "target-value x oracle", "verdict",
		"target-value availability %", "predictive availability %",
		"nasa: held out (days 2-2)", "rows passing: ", "Goals: business-hours traffic"} {
		must.StrContains(t, text, want)
	}
}

func TestMainWritesTheTableAndBothFilesAndFailsOnlyWhenStrict(t *testing.T) {
	t.Parallel()
	o := quickOptions(t)
	args := []string{"-quick", "-days", "1", "-policy", o.PolicyPath, "-trace", o.TracePath, "-out", o.Out}
	var stdout, stderr bytes.Buffer
	// One day leaves the held-out halves without days: they fail, and
	// the command still succeeds without -strict.
	must.NoError(t, Main(context.Background(), cli.Env{Args: args, Stdout: &stdout, Stderr: &stderr}))
	must.StrContains(t, stdout.String(), "FAIL no days scored")
	must.StrContains(t, stdout.String(), "wrote validate.json and validate.md to "+o.Out)

	entries, err := os.ReadDir(o.Out)
	must.NoError(t, err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		must.NoError(t, err)
		must.Eq(t, os.FileMode(0o644), info.Mode().Perm())
	}
	must.Eq(t, []string{JSONFile, MarkdownFile}, names)

	var rep map[string]any
	b, err := os.ReadFile(filepath.Join(o.Out, JSONFile))
	must.NoError(t, err)
	must.NoError(t, json.Unmarshal(b, &rep))
	must.MapContainsKeys(t, rep, []string{"command", "machine", "parameters", "goals", "runs", "rows", "rows_passing", "rows_total", "warnings"})
	row := rep["rows"].([]any)[0].(map[string]any)
	must.MapContainsKeys(t, row, []string{"label", "volume", "synthetic", "slope", "target_value", "predictive", "verdict", "pass"})
	must.MapContainsKeys(t, row["slope"].(map[string]any), []string{"days", "sla_days_met", "availability_pct", "ratio_to_oracle",
		"ratio_to_physical_limit", "worst_day_p95_s", "billed_worker_hours"})

	md, err := os.ReadFile(filepath.Join(o.Out, MarkdownFile))
	must.NoError(t, err)
	must.StrContains(t, string(md), "`go run ./cmd/validate -quick -days 1 -policy")
	must.StrContains(t, string(md), "| scenario | volume | SLA days met |")
	must.StrContains(t, string(md), "| nasa: held out (no days) | 60M/day |")

	err = Main(context.Background(), cli.Env{Args: append(args, "-strict"), Stdout: &stdout, Stderr: &stderr})
	must.ErrorIs(t, err, ErrGoalsFailed)
}

func TestMainFailsBeforeAnyRunOnABadPolicyOrFlag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-policy", "testdata/missing.hcl", "-trace", "../../../" + DefaultTrace}, Stdout: &stdout, Stderr: &stderr})
	must.ErrorContains(t, err, "missing.hcl")
	must.False(t, errors.Is(err, ErrGoalsFailed))
	must.Eq(t, "", stdout.String())

	err = Main(context.Background(), cli.Env{Args: []string{"-days", "-1", "-policy", "", "extra"}, Stdout: &stdout, Stderr: &stderr})
	for _, want := range []string{`unexpected arguments ["extra"]`, `-policy ""`, `-days "-1"`} {
		must.StrContains(t, err.Error(), want)
	}
}
