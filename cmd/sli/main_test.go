package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// buildSLI builds the command as a user would run it.
func buildSLI(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sli")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	must.NoError(t, err, must.Sprint(string(out)))
	return bin
}

// run runs the binary and returns its exit status and combined output.
func run(t *testing.T, ctx context.Context, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	must.NoError(t, err)
	return 0, string(out)
}

func TestBadFlagsExitWithStatusTwoNamingEachFlagAndNeverThePassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildSLI(t, ctx)
	status, out := run(t, ctx, bin, []string{"DATABASE_URL="},
		"-postgres", "postgres://reader:s3cret@db.example:notaport/api", "-from", "2026-02-30", "-to", "2026-11-02",
		"-tz", "Mars/Olympus", "-business-hours", "8am-10pm", "-availability-slo", "101", "-latency-slo", "-3s")
	must.Eq(t, 2, status, must.Sprintf("%s", out))
	for _, want := range []string{
		"sli: -postgres: the DSN (not shown) does not parse",
		`-from "2026-02-30": want a date YYYY-MM-DD`,
		`-tz "Mars/Olympus": unknown time zone`,
		`-business-hours "8am-10pm": want HH:MM-HH:MM`,
		`-availability-slo "101": want a percentage above 0 and below 100`,
		`-latency-slo "-3s": must be positive`,
	} {
		must.StrContains(t, out, want)
	}
	must.StrNotContains(t, out, "s3cret")

	status, out = run(t, ctx, bin, nil, "-help")
	must.Eq(t, 0, status, must.Sprintf("%s", out))
	must.StrContains(t, out, "-business-hours HH:MM-HH:MM")
}

func TestTheCommandReportsASeededTable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := testenv.FreshDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	schema, err := os.ReadFile("../../scripts/schema.sql")
	must.NoError(t, err)
	_, err = conn.Exec(ctx, string(schema))
	must.NoError(t, err)
	// 2 November 2026 in Kolkata: 1,000 requests from 08:00 to 22:00
	// (one every 50.4 s), every 100th a 500, latencies 100 ms to 3.2 s.
	_, err = conn.Exec(ctx, `INSERT INTO api_requests (created_at, model, status, latency_ms)
		SELECT timestamptz '2026-11-02 08:00+05:30' + i * interval '50.4 seconds', 'ekyc.ocr',
		       CASE WHEN i % 100 = 0 THEN 500 ELSE 200 END, 100 + (i * 37 % 32) * 100
		FROM generate_series(0, 999) AS i`)
	must.NoError(t, err)

	bin := buildSLI(t, ctx)
	out := t.TempDir()
	// The DSN from the environment: nothing secret on the command line.
	status, stdout := run(t, ctx, bin, []string{"DATABASE_URL=" + dsn},
		"-from", "2026-11-01", "-to", "2026-11-02", "-tz", "Asia/Kolkata", "-out", out)
	must.Eq(t, 0, status, must.Sprintf("%s", stdout))
	// 990 of 1,000 succeeded, exactly 99%; the 95th percentile is 3.1 s.
	must.StrContains(t, stdout, "  2026-11-01         0         0       0             -          -       -       100.0%  not scored: no business requests\n")
	must.StrContains(t, stdout, "  2026-11-02     1,000     1,000      10       99.000%    93.636%  3.100s         0.0%  MISSED: latency\n")
	must.StrContains(t, stdout, "days met: 0 of 1 scored (2 in the period)")
	for _, f := range []string{"sli.json", "sli.csv", "sli.png"} {
		must.FileExists(t, filepath.Join(out, f))
	}

	// A table that is not there is an error (status 1) naming it.
	status, stdout = run(t, ctx, bin, []string{"DATABASE_URL=" + dsn},
		"-from", "2026-11-01", "-to", "2026-11-02", "-requests-table", "api_requestz")
	must.Eq(t, 1, status, must.Sprintf("%s", stdout))
	must.StrContains(t, stdout, `sli: table "api_requestz" in database`)
	must.StrContains(t, stdout, `no such table or view (-requests-table)`)
}
