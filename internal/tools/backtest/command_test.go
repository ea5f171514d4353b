package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// writeTrace writes a two-day CSV trace with a daily cycle.
func writeTrace(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("timestamp,requests\n")
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range 2 * 1440 {
		n := 200 + 150*((i/60)%24)/23 + i%7
		fmt.Fprintf(&b, "%s,%d\n", start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), n)
	}
	path := filepath.Join(t.TempDir(), "trace.csv")
	must.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func TestRunPrintsTheTableAndWritesTheOutputs(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-trace", writeTrace(t), "-policy", "testdata/command/target-value.hcl",
		"-capacity", "10", "-daily", "1000000", "-tz", "Asia/Kolkata", "-out", out}, Stdout: &stdout, Stderr: &stderr})
	must.NoError(t, err)
	for _, want := range []string{"strategy", "slope", "target-value (", "predictive (", "static-peak", "oracle", "physical limit",
		"configurations (most SLA days met, then fewest billed worker-hours)", "wrote summary.json"} {
		must.StrContains(t, stdout.String(), want)
	}
	for _, f := range []string{SummaryFile, TimelineFile, ReportFile} {
		st, err := os.Stat(filepath.Join(out, f))
		must.NoError(t, err)
		must.Positive(t, st.Size())
	}
}

func TestRunRejectsBadFlagsBeforeReadingTheTrace(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no trace", []string{}, "give exactly one of -trace FILE and -postgres DSN"},
		{"both sources", []string{"-trace", "a.csv", "-postgres", "postgres://x"}, "give exactly one"},
		{"a bad -from", []string{"-postgres", "postgres://x", "-from", "yesterday"}, `-from "yesterday": want RFC 3339`},
		{"a stray argument", []string{"-trace", "a.csv", "extra"}, `unexpected arguments ["extra"]`},
		{"a -peer-availability over 100", []string{"-trace", "a.csv", "-peer-availability", "101"}, `-peer-availability "101": want a percentage from 0 (off) to 100`},
		{"a bad time zone", []string{"-trace", "does-not-exist.csv", "-tz", "Nowhere/City"}, `-tz "Nowhere/City"`},
		{"a missing trace file", []string{"-trace", "does-not-exist.csv", "-policy", "testdata/command/target-value.hcl", "-capacity", "10"}, "open trace"},
		{"a policy without capacity and no -capacity", []string{"-trace", "does-not-exist.csv", "-policy", "testdata/command/target-value.hcl"}, "no -capacity"},
		{"a missing policy", []string{"-trace", "does-not-exist.csv", "-policy", "nope.hcl"}, `policy "nope.hcl"`},
		{"an -out that is a file", []string{"-trace", "does-not-exist.csv", "-policy", "testdata/command/target-value.hcl", "-capacity", "10", "-out", "command.go"}, `-out "command.go": mkdir command.go: not a directory`},
		{"an unknown strategy", []string{"-trace", "does-not-exist.csv", "-policy", "testdata/command/unknown-strategy.hcl"}, `check "rate": strategy "threshold"`},
		{"-capacity beside -shapes", []string{"-trace", "a.csv", "-shapes", "testdata/command/shapes.csv", "-capacity", "10"}, "-capacity: with -shapes each shape sets its own capacity"},
		{"-price beside -shapes", []string{"-trace", "a.csv", "-shapes", "testdata/command/shapes.csv", "-price", "1"}, "-price: with -shapes each shape sets its own price"},
		{"a missing shapes file", []string{"-trace", "does-not-exist.csv", "-shapes", "nope.csv"}, "-shapes: open nope.csv"},
		{"a bad shapes file", []string{"-trace", "does-not-exist.csv", "-shapes", "testdata/command/bad-shapes.csv"}, `line 3: capacity_per_worker "0": want a number > 0`},
		{"shapes for a policy without strategy-slope", []string{"-trace", "does-not-exist.csv", "-shapes", "testdata/command/shapes.csv", "-policy", "testdata/command/target-value.hcl"}, "has no strategy-slope check"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Main(context.Background(), cli.Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr})
			must.ErrorContains(t, err, tc.want)
		})
	}
}

// The shipped production policy must stay replayable: it is what users
// run the backtest on first.
func TestRunReplaysTheShippedPolicy(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-trace", writeTrace(t), "-policy", "../../../policies/gpu-workers.hcl",
		"-daily", "2000000", "-tz", "America/New_York"}, Stdout: &stdout, Stderr: &stderr})
	must.NoError(t, err)
	must.StrNotContains(t, stdout.String(), "evaluations had a strategy error")
}

// -shapes replays the shipped policy once per shape and writes the shapes'
// files, not the single run's.
func TestRunShapesPrintsTheShapesAndWritesTheirOutputs(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-trace", writeTrace(t), "-policy", "../../../policies/gpu-workers.hcl",
		"-daily", "2000000", "-tz", "America/New_York", "-shapes", "testdata/command/shapes.csv", "-out", out}, Stdout: &stdout, Stderr: &stderr})
	must.NoError(t, err)
	text := stdout.String()
	for _, want := range []string{`policy "gpu-workers" replayed once per shape, counting VMs`, "cost/month", "per 1M requests",
		"one-l4", "two-l4", "one-t4", "sorted: shapes that met the SLA on every day first", "wrote shapes.json, shapes.csv and shapes.png"} {
		must.StrContains(t, text, want)
	}
	must.StrNotContains(t, text, "strategy error")
	entries, err := os.ReadDir(out)
	must.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	must.Eq(t, []string{ShapesCSVFile, ShapesSummaryFile, ShapesChartFile}, names)

	var sum ShapesSummary
	raw, err := os.ReadFile(filepath.Join(out, ShapesSummaryFile))
	must.NoError(t, err)
	must.NoError(t, json.Unmarshal(raw, &sum))
	must.Eq(t, "testdata/command/shapes.csv", sum.Parameters.Shapes)
	hours := map[string]float64{}
	for _, s := range sum.Shapes {
		hours[s.Name] = s.Policy.WorkerHours
	}
	// The strategy sizes with each VM's capacity: VMs of two workers
	// need fewer VMs than VMs of one, and slower VMs more.
	must.Less(t, hours["one-l4"], hours["two-l4"])
	must.Less(t, hours["one-t4"], hours["one-l4"])
}
