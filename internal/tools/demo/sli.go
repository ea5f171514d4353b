package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/sli"
)

// The SLI report that ends the demo: cmd/sli's engine on the replayed
// day's requests, with the demo's SLA (availability 99%, p95 3 s, business
// hours 08:00-22:00).
const (
	demoAvailabilitySLO = 99.0
	// replayedView maps the rows of the replay, written in real time,
	// onto the replayed day's clock.
	replayedView = "api_requests_replayed"
	sliDir       = "sli"
	// answerPoll is how often the end of the demo checks whether every
	// request has its answer.
	answerPoll = 200 * time.Millisecond
)

// reportSLI waits until the workers have answered every request (or the
// API has timed it out), then prints cmd/sli's report of the replayed day
// and writes its files to OutDir/sli.
func reportSLI(ctx context.Context, o Options, p runParts) error {
	clock := p.gen.Clock()
	// A request still unanswered a request timeout after the replay ended
	// has been timed out by the API; the margin covers the last writes.
	deadline := time.Now().Add(time.Duration(float64(backtestSLA.requestTimeout)/o.Compression) + 3*time.Second)
	if err := waitAnswered(ctx, p, clock.RealStart, deadline); err != nil {
		return err
	}
	timedOut, err := timeOutUnanswered(ctx, p.dsn, clock.RealStart, o.Compression, backtestSLA)
	if err != nil {
		return err
	}
	if err := createReplayedView(ctx, p.dsn, clock); err != nil {
		return err
	}
	cfg, command, err := sliConfig(o, p, clock)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n== the SLA as delivered, read back from %s by cmd/sli (requests the API timed out after the replay: %d)\n", loadgen.DefaultTable.Table, timedOut)
	fmt.Fprintf(o.Out, "   %s\n", command)
	rep, err := sli.Run(ctx, cfg, time.Now())
	if err != nil {
		return fmt.Errorf("SLI report: %w", err)
	}
	if err := rep.WriteTable(o.Out); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "latencies are the measured queue waits above (%s of service + the wait through RabbitMQ, %s at most: the API times a request out then, 504),\n"+
		"so they include the demo's own delays; at x%g the generator's and the fleet's ticks of %s real are %s simulated\n",
		backtestSLA.serviceTime, backtestSLA.requestTimeout, o.Compression, publishTick, time.Duration(float64(publishTick)*o.Compression))
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if err := rep.WriteFiles(cfg.Out); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "wrote %s, %s and %s to %s\n", sli.JSONFile, sli.CSVFile, sli.ChartFile, cfg.Out)
	return nil
}

// waitAnswered polls until no request of the replay lacks a status or the
// deadline passes, writing the workers' outcomes on each poll.
func waitAnswered(ctx context.Context, p runParts, since, deadline time.Time) error {
	conn, err := connectDemo(ctx, p.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		p.outcomes.flush(ctx)
		qctx, cancel := context.WithTimeout(ctx, outcomeWriteTimeout)
		var open int64
		err := conn.QueryRow(qctx, "SELECT count(*) FROM api_requests WHERE status IS NULL AND created_at >= $1", since).Scan(&open)
		cancel()
		if err != nil {
			return fmt.Errorf("count the unanswered requests: %w", err)
		}
		if open == 0 || !time.Now().Before(deadline) {
			return p.outcomes.failure()
		}
		t := time.NewTimer(answerPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// createReplayedView maps the replay's rows onto the replayed day:
// created_at becomes the simulated instant, so that days and business
// hours are those of the trace. The history written before the replay is
// left out.
func createReplayedView(ctx context.Context, dsn string, clock loadgen.Clock) error {
	conn, err := connectDemo(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ts := func(t time.Time) string { return "timestamptz '" + t.UTC().Format(time.RFC3339Nano) + "'" }
	sql := fmt.Sprintf(`CREATE OR REPLACE VIEW %s AS
		SELECT %s + (created_at - %s) * %s AS created_at, status, latency_ms
		FROM api_requests WHERE created_at >= %s`,
		pgx.Identifier{replayedView}.Sanitize(), ts(clock.SimStart), ts(clock.RealStart),
		strconv.FormatFloat(clock.Compression, 'g', -1, 64), ts(clock.RealStart))
	qctx, cancel := context.WithTimeout(ctx, outcomeWriteTimeout)
	defer cancel()
	if _, err := conn.Exec(qctx, sql); err != nil {
		return fmt.Errorf("create view %s: %w", replayedView, err)
	}
	return nil
}

// sliConfig is the report of the replayed days, and the cmd/sli command
// line that prints it again.
func sliConfig(o Options, p runParts, clock loadgen.Clock) (sli.Config, string, error) {
	pc, err := pgx.ParseConfig(p.dsn)
	if err != nil {
		return sli.Config{}, "", fmt.Errorf("parse the demo database's DSN: invalid (value not shown)")
	}
	loc, zone := ianaZone(o.Start)
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	end := p.minutes[len(p.minutes)-1].Start.Add(time.Minute - time.Nanosecond)
	hours := sli.BusinessHours{Start: backtestSLA.from, End: backtestSLA.to}
	cfg := sli.Config{
		Postgres: pc, From: day(clock.SimStart), To: day(end), Location: loc, Hours: hours,
		SLO:   sli.SLO{AvailabilityPct: demoAvailabilitySLO, Latency: backtestSLA.p95},
		Table: pgx.Identifier{replayedView}, Out: filepath.Join(o.OutDir, sliDir),
		Timeout: 5 * time.Minute, ConnectTimeout: sli.DefaultConnectTimeout,
	}
	command := fmt.Sprintf("go run ./cmd/sli -postgres %s -requests-table %s -from %s -to %s -tz %s -business-hours %s -latency-slo %s -availability-slo %g -out %s",
		`"postgres://USER@HOST/`+pc.Database+`"`, replayedView, cfg.From.Format(time.DateOnly), cfg.To.Format(time.DateOnly),
		zone, hours, backtestSLA.p95, demoAvailabilitySLO, cfg.Out)
	return cfg, command, nil
}

// ianaZone is the zone of t's location as cmd/sli's -tz takes it: its own
// name when it has one, else Etc/GMT+N for a whole-hour offset (POSIX
// signs: Etc/GMT+4 is UTC-4), else the fixed offset itself.
func ianaZone(t time.Time) (*time.Location, string) {
	if name := t.Location().String(); name != "" && name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, name
		}
	}
	_, offset := t.Zone()
	if offset%3600 == 0 {
		name := "Etc/GMT"
		if h := -offset / 3600; h != 0 {
			name += fmt.Sprintf("%+d", h)
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, name
		}
	}
	name := t.Format("UTC-07:00")
	return time.FixedZone(name, offset), name
}

func connectDemo(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, outcomeWriteTimeout)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to the demo database: %w", err)
	}
	return conn, nil
}
