package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// TestDemoReplaysTheLaunchHourThroughTheWholeSystem runs `make demo` on
// the hour of the STS-70 launch (12 s at x300) with its own database and
// vhost: the agent and our plugins must scale the simulated fleet with the
// traffic, the workers serve it, and the summary, PNG and CSV appear.
func TestDemoReplaysTheLaunchHourThroughTheWholeSystem(t *testing.T) {
	t.Parallel()
	amqpURL, mgmtURL := testenv.RabbitMQ(t)
	adminDSN := testenv.Postgres(t)
	root := agenttest.RepoRoot(t)
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	o := Options{
		TracePath: filepath.Join(root, loadgen.DefaultTraceFile),
		Start:     time.Date(1995, 7, 13, 9, 0, 0, 0, time.FixedZone("", -4*3600)), Duration: time.Hour,
		Daily: 2_000_000, Compression: 300, Capacity: 100, Batch: 250, Price: 0.71, Every: 2 * time.Second,
		AgentBin: agenttest.AgentBinary(t), PluginDir: agenttest.PluginDir(t),
		AgentConfig: filepath.Join(root, "deploy", "agent-local.hcl"), Schema: filepath.Join(root, "scripts", "schema.sql"),
		OutDir: t.TempDir(), AMQPURL: amqpURL, ManagementURL: mgmtURL, DatabaseURL: adminDSN,
		Database: "demo_test_" + suffix, Vhost: "demo-test-" + suffix,
	}
	// The demo policy names its vhost; this run uses its own. Jobs carry
	// 250 requests instead of 25, so that RabbitMQ traffic stays light while
	// other packages' tests share the machine: the backlog capacity in jobs
	// per minute shrinks by the same factor.
	policy, err := os.ReadFile(filepath.Join(root, "policies", "demo.hcl"))
	must.NoError(t, err)
	policy = bytes.ReplaceAll(policy, []byte("@"+demoVhost), []byte("@"+o.Vhost))
	must.Eq(t, 2, bytes.Count(policy, []byte(`capacity_per_worker = "1200"`)))
	policy = bytes.ReplaceAll(policy, []byte(`capacity_per_worker = "1200"`), []byte(`capacity_per_worker = "120"`))
	o.Policy = filepath.Join(t.TempDir(), "demo.hcl")
	must.NoError(t, os.WriteFile(o.Policy, policy, 0o644))
	t.Cleanup(func() { dropDemoState(o) })
	var out bytes.Buffer
	o.Out = &out

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Run(ctx, o)
	t.Log(out.String())
	must.NoError(t, err)

	// The mechanics, not the service quality (which depends on how busy
	// the machine is and is what the demo reports): the hour was replayed,
	// the agent scaled the MIGs up with the launch traffic, and the workers
	// the fleet gained served it.
	_, hour, err := loadgen.LoadReplay(o.TracePath, o.Start, 0, time.Hour, o.Daily)
	must.NoError(t, err)
	var want float64
	for _, m := range hour {
		want += m.Requests
	}
	must.True(t, math.Abs(float64(s.Generated)-want) <= 1, must.Sprintf("generated %d of the hour's %.1f requests", s.Generated, want))
	must.Positive(t, s.ScalingActions, must.Sprint("the agent scaled the MIGs"))
	must.Positive(t, s.WarmStarts, must.Sprint("the launch traffic took workers from the demo policy's warm pool"))
	must.Positive(t, s.SpotHours, must.Sprint("the demo policy's Spot tier ran workers"))
	must.Less(t, s.WorkerHours, s.SpotHours)
	must.Greater(t, s.MinWorkers, s.MaxWorkers, must.Sprint("the fleet grew with the launch traffic"))
	must.Greater(t, s.Generated/2, s.Served, must.Sprint("the workers served most of the traffic"))
	for _, want := range []string{"== 1h0m0s of the NASA-HTTP trace", "autoscaled", "SLA         days met", "1995-07-13  p95", "measured    1995-07-13", "demo.png",
		"/metrics (strategy-slope)", "/metrics (target-gce-gpu)", "/v1/metrics?format=prometheus (the agent)"} {
		must.StrContains(t, out.String(), want)
	}

	// The SLA as the backtest scores it: the hour is all business hours of
	// one day, scored minute by minute; a p95 is never below the service
	// time, and "met" says whether it is within 3 s. The measured latency
	// of the same window is there beside it.
	must.SliceLen(t, 1, s.SLA.Days)
	day := s.SLA.Days[0]
	must.Eq(t, "1995-07-13", day.Date)
	must.Eq(t, 60, day.BusinessMinutes)
	must.GreaterEq(t, 1, float64(day.P95))
	must.Eq(t, float64(day.P95) <= 3, day.Met)
	must.Between(t, 0, day.AvailabilityPct, 100)
	must.Eq(t, day.AvailabilityPct, s.SLA.AvailabilityPct)
	must.Eq(t, day.P95, s.SLA.WorstDayP95)
	must.Eq(t, map[bool]int{true: 1, false: 0}[day.Met], s.SLA.DaysMet)
	must.SliceLen(t, 1, s.Measured)
	must.Eq(t, "1995-07-13", s.Measured[0].Date)
	must.GreaterEq(t, 1, float64(s.Measured[0].P95))
	must.Between(t, s.Served/2, s.Measured[0].Requests, s.Served)
	for _, f := range []string{"demo.png", "samples.csv", "agent.log", "agent.hcl"} {
		_, err := os.Stat(filepath.Join(o.OutDir, f))
		must.NoError(t, err)
	}
	log, err := os.ReadFile(filepath.Join(o.OutDir, "agent.log"))
	must.NoError(t, err)
	must.True(t, strings.Contains(string(log), "calculating scaling target"))

	checkSLIReport(t, o, out.String(), s.Generated)
}

// checkSLIReport checks the SLI report that ends the demo: cmd/sli's
// engine read back the hour from the requests table, where the workers
// answered every request (or the API timed it out), and its figures agree
// with each other.
func checkSLIReport(t *testing.T, o Options, out string, generated int64) {
	t.Helper()
	must.StrContains(t, out, "== the SLA as delivered, read back from api_requests by cmd/sli")
	must.StrContains(t, out, "SLA delivered 1995-07-13 to 1995-07-13 (Etc/GMT+4), business hours 08:00-22:00; SLO: availability >= 99%, p95 <= 3s")
	b, err := os.ReadFile(filepath.Join(o.OutDir, "sli", "sli.json"))
	must.NoError(t, err)
	var rep struct {
		Days []struct {
			Date             string   `json:"date"`
			Requests         int64    `json:"requests"`
			BusinessRequests int64    `json:"business_requests"`
			Failed           int64    `json:"failed"`
			Unrecorded       int64    `json:"unrecorded"`
			AvailabilityPct  *float64 `json:"availability_pct"`
			LatencyPct       *float64 `json:"latency_pct"`
			P95S             *float64 `json:"p95_s"`
			Met              *bool    `json:"met"`
		} `json:"days"`
		ErrorBudgetRemainingPct *float64 `json:"error_budget_remaining_pct"`
	}
	must.NoError(t, json.Unmarshal(b, &rep))
	must.SliceLen(t, 1, rep.Days)
	d := rep.Days[0]
	must.Eq(t, "1995-07-13", d.Date)
	// Every request of the hour, none of the history written before it;
	// the hour is all business hours; each has an answer.
	must.Eq(t, generated, d.Requests)
	must.Eq(t, generated, d.BusinessRequests)
	must.Zero(t, d.Unrecorded)
	must.NotNil(t, d.AvailabilityPct)
	must.InDelta(t, 100*float64(d.BusinessRequests-d.Failed)/float64(d.BusinessRequests), *d.AvailabilityPct, 1e-9)
	must.NotNil(t, rep.ErrorBudgetRemainingPct)
	must.InDelta(t, 100*(1-float64(d.Failed)/(0.01*float64(d.BusinessRequests))), *rep.ErrorBudgetRemainingPct, 1e-4)
	if d.Failed < d.BusinessRequests {
		// A latency is the 1 s of service plus the queue wait.
		must.NotNil(t, d.P95S)
		must.GreaterEq(t, 1.0, *d.P95S)
		must.Between(t, 0, *d.LatencyPct, 100)
	}
	must.NotNil(t, d.Met)
	must.Eq(t, *d.AvailabilityPct >= 99 && d.P95S != nil && *d.P95S <= 3, *d.Met)
	for _, f := range []string{"sli.json", "sli.csv", "sli.png"} {
		must.FileExists(t, filepath.Join(o.OutDir, "sli", f))
	}
}

func dropDemoState(o Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if v, err := loadgen.VhostsFromAMQP(o.AMQPURL, o.ManagementURL); err == nil {
		_ = v.Delete(ctx, o.Vhost)
	}
	if c, err := pgx.Connect(ctx, o.DatabaseURL); err == nil {
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{o.Database}.Sanitize()+" WITH (FORCE)")
		c.Close(ctx)
	}
}
