package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// sampleEvery is the real time between two samples of the run (2.5
// simulated minutes at x300).
const sampleEvery = 500 * time.Millisecond

// publishTick is the real time between two batches of the load generator
// and fleetPoll how often the worker simulator reads the fleet: both are
// 30 simulated seconds at x300, delays a measured wait can hold that the
// fleet did not cause.
const (
	publishTick = 100 * time.Millisecond
	fleetPoll   = 100 * time.Millisecond
)

// Run performs the whole demo. It returns when the replay is over, when
// ctx ends (Ctrl-C) or on the first failure, and always stops what it
// started.
func Run(ctx context.Context, o Options) (Summary, error) {
	history, minutes, err := loadTrace(o)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return Summary{}, err
	}
	fmt.Fprintf(o.Out, "demo: preparing PostgreSQL database %s and RabbitMQ vhost %s\n", o.Database, o.Vhost)
	dsn, err := freshDatabase(ctx, o.DatabaseURL, o.Database, o.Schema)
	if err != nil {
		return Summary{}, err
	}
	amqpURL, err := freshVhost(ctx, o.AMQPURL, o.ManagementURL, o.Vhost)
	if err != nil {
		return Summary{}, err
	}
	rows, err := loadgen.NewPostgresSink(ctx, dsn, loadgen.DefaultTable)
	if err != nil {
		return Summary{}, err
	}
	defer rows.Close()
	jobs, err := loadgen.NewRabbitSink(amqpURL, queueNames())
	if err != nil {
		return Summary{}, err
	}
	defer jobs.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := startCloud(ctx, o, initialWorkers(minutes[0].Requests, o.Capacity))
	if err != nil {
		return Summary{}, err
	}
	defer c.close()

	agent, tap, err := launchAgent(ctx, o, c, amqpURL, dsn)
	if err != nil {
		return Summary{}, err
	}
	defer agent.stop(15 * time.Second)

	outcomes, err := newOutcomeRecorder(ctx, dsn, o.Compression, backtestSLA)
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeWriteTimeout)
		defer cancel()
		_ = outcomes.close(cctx) // a failed write was reported by reportSLI
	}()
	go outcomes.run(ctx)
	workers, err := workersim.New(workersim.Config{
		AMQPURL: amqpURL, Queues: queueNames(), CapacityPerWorker: o.Capacity, Compression: o.Compression, PollInterval: fleetPoll,
		Recorder: outcomes,
	}, workersim.FleetFunc(func(context.Context) (int, error) { return c.State().ReadyWorkersTotal, nil }))
	if err != nil {
		return Summary{}, err
	}
	gen, err := loadgen.New(loadgen.Config{
		Minutes: minutes, History: history, Compression: o.Compression, Tick: publishTick, Batch: o.Batch, Models: loadgen.Models,
	}, rows, jobs)
	if err != nil {
		return Summary{}, err
	}
	fc, err := newForecaster(ctx, o.Policy, dsn)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", o.Policy, err)
	}
	defer fc.close()
	return replay(ctx, o, runParts{cloud: c, agent: agent, tap: tap, workers: workers, gen: gen, minutes: minutes, forecast: fc,
		outcomes: outcomes, dsn: dsn})
}

type runParts struct {
	cloud    *cloud
	agent    *agentProc
	tap      *logTap
	workers  *workersim.Sim
	gen      *loadgen.Generator
	minutes  []loadgen.Minute
	forecast *forecaster
	// outcomes writes the workers' answers into the requests table of dsn.
	outcomes *outcomeRecorder
	dsn      string
}

func queueNames() []string {
	out := make([]string, len(loadgen.Models))
	for i, m := range loadgen.Models {
		out[i] = m.Queue
	}
	return out
}

func loadTrace(o Options) (history, minutes []loadgen.Minute, err error) {
	return loadgen.LoadReplay(o.TracePath, o.Start, historyWindow, o.Duration, o.Daily)
}

func launchAgent(ctx context.Context, o Options, c *cloud, amqpURL, dsn string) (*agentProc, *logTap, error) {
	files, err := writeAgentFiles(o, c, amqpURL, dsn)
	if err != nil {
		return nil, nil, err
	}
	cfgPath, httpAddr := files.config, files.httpAddr
	logPath := filepath.Join(o.OutDir, "agent.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	tap := newLogTap(logFile)
	fmt.Fprintf(o.Out, "demo: starting %s with the plugins of %s (log: %s)\n", o.AgentBin, o.PluginDir, logPath)
	agent, err := startAgent(o.AgentBin, cfgPath, tap)
	if err != nil {
		logFile.Close()
		return nil, nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := agent.waitHealthy(hctx, httpAddr); err != nil {
		_ = agent.stop(5 * time.Second)
		return nil, nil, fmt.Errorf("%w; last lines of %s:\n%s", err, logPath, tail(logPath, 15))
	}
	fmt.Fprintf(o.Out, "demo: Prometheus can scrape http://%s/metrics (strategy-slope), http://%s/metrics (target-gce-gpu) and http://%s/v1/metrics?format=prometheus (the agent); deploy/grafana-dashboard.json charts them\n",
		files.strategyMetrics, files.targetMetrics, httpAddr)
	return agent, tap, nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// errAgentDied ends a run whose agent exited on its own.
var errAgentDied = errors.New("the agent exited during the run")
