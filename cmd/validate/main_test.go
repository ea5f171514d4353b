package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// TestTheExitStatusSaysWhetherARunFailedOrWithStrictAGoal builds the
// command and runs it as a user or a CI job would: goals that fail are in
// the table (status 0) unless -strict (status 2); a run that cannot execute
// is status 1.
func TestTheExitStatusSaysWhetherARunFailedOrWithStrictAGoal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "validate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	must.NoError(t, err, must.Sprint(string(out)))

	// One day of trace: the held-out halves have no days and fail.
	quick := []string{"-quick", "-days", "1", "-trace", "../../data/nasa-http-jul95.csv.gz"}
	cases := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"failed goals are reported, not an error", append(quick, "-policy", "../../internal/tools/backtest/testdata/slope.hcl"), 0, "FAIL no days scored"},
		{"with -strict a failed goal is status 2", append(quick, "-strict", "-policy", "../../internal/tools/backtest/testdata/slope.hcl"), 2, "-strict: "},
		{"a policy that does not load is status 1", append(quick, "-policy", "testdata/none.hcl"), 1, "none.hcl"},
		{"an unknown flag is status 1", []string{"-fast"}, 1, "flag provided but not defined: -fast"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.CommandContext(ctx, bin, tc.args...).CombinedOutput()
			status := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				status = exit.ExitCode()
			} else {
				must.NoError(t, err)
			}
			must.Eq(t, tc.status, status, must.Sprint(string(out)))
			must.True(t, strings.Contains(string(out), tc.want), must.Sprint(string(out)))
		})
	}
}
