package soak

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// run is one soak's running parts.
type run struct {
	t           *testing.T
	p           profile
	svc         services
	clock       loadgen.Clock
	cloud       *simcloud.Cluster
	cloudURL    string
	agent       *agenttest.Agent
	pluginDir   string
	metricsAddr string
	// targetMetricsAddr serves target-gce-gpu's metrics.
	targetMetricsAddr string
	nomadProxy        *tcpproxy.Proxy
	rabbitProxies     []*tcpproxy.Proxy // short form: the APM plugin's
	pgProxy           *tcpproxy.Proxy   // short form: the APM plugin's
}

// TestSoak replays the trace at growth scale through the real agent, our
// plugins, RabbitMQ, PostgreSQL and the simulated cloud, injects the
// profile's faults on their schedule, and checks that nothing was lost,
// leaked or left ineligible and that the plugins did not grow. The short
// form runs in `make test`; SOAK_FULL=1 (make soak) runs the full one.
func TestSoak(t *testing.T) {
	p := selectedProfile()
	svc := findServices(t, p)
	root := agenttest.RepoRoot(t)
	outDir := filepath.Join(root, "run", "soak")
	if p.name != "full" {
		outDir = filepath.Join(outDir, p.name)
	}
	must.NoError(t, os.MkdirAll(outDir, 0o755))

	start, err := time.Parse(time.RFC3339, p.start)
	must.NoError(t, err)
	history, minutes, err := loadgen.LoadReplay(filepath.Join(root, "data", "nasa-http-jul95.csv.gz"), start, 75*time.Minute, p.duration, p.daily/p.sample)
	must.NoError(t, err)

	vhost := "ekyc-soak-" + p.name
	amqpURLs := freshVhost(t, svc, vhost)
	dsn := freshDatabase(t, svc.adminDSN, "ekyc_soak_"+p.name)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	r := &run{t: t, p: p, svc: svc, pluginDir: agenttest.PluginDir(t), metricsAddr: testenv.FreeAddr(t), targetMetricsAddr: testenv.FreeAddr(t)}
	r.cloud, r.cloudURL = startCloud(t, ctx, p, initialPerZone(minutes[0].Requests*p.sample))
	r.nomadProxy = tcpproxy.Start(t, r.cloudURL[len("http://"):])

	// The APM plugin reaches every RabbitMQ node directly in the full form
	// (a node dies for real) and through proxies in the short form, which
	// cuts it off without touching the shared servers.
	apmAMQP, apmMgmt, apmDSN := amqpURLs, svc.mgmt, dsn
	if !p.cluster {
		var a, m []*tcpproxy.Proxy
		apmAMQP, a = proxied(t, amqpURLs)
		apmMgmt, m = proxied(t, svc.mgmt)
		r.rabbitProxies = append(a, m...)
		var pg []string
		var pgp []*tcpproxy.Proxy
		pg, pgp = proxied(t, []string{dsn})
		apmDSN, r.pgProxy = pg[0], pgp[0]
	}
	policyDir := t.TempDir()
	writePolicy(t, policyDir, p, vhost)
	r.agent = agenttest.Start(t, agenttest.Config{
		PolicyDir: policyDir, NomadAddress: "http://" + r.nomadProxy.Addr(), EvaluationInterval: 2 * time.Second,
		Blocks: pluginBlocks(apmAMQP, apmMgmt, apmDSN, r.cloudURL, r.metricsAddr, r.targetMetricsAddr),
	})
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(outDir, "agent.log"), []byte(r.agent.Log()), 0o644) })

	led := newLedger()
	queues := []string{loadgen.Models[0].Queue, loadgen.Models[1].Queue}
	pub := &clusterSink{urls: amqpURLs, queues: queues, ledger: led}
	t.Cleanup(pub.Close)
	pgSink, err := loadgen.NewPostgresSink(ctx, dsn, loadgen.DefaultTable)
	must.NoError(t, err)
	t.Cleanup(pgSink.Close)
	rows := &retryingRows{sink: pgSink}
	gen, err := loadgen.New(loadgen.Config{Minutes: minutes, History: history, Compression: p.compression,
		Tick: 100 * time.Millisecond, Batch: 1, Models: loadgen.Models}, rows, pub)
	must.NoError(t, err)

	r.clock = loadgen.Clock{RealStart: time.Now(), SimStart: minutes[0].Start, Compression: p.compression}
	obs := &observer{cloud: r.cloud, clock: r.clock, ledger: led}
	obsCtx, stopObs := context.WithCancel(ctx)
	obsDone := make(chan struct{})
	go func() { defer close(obsDone); obs.run(obsCtx) }()
	wk := &workers{urls: amqpURLs, fleet: obs, cfg: workersim.Config{Queues: queues, CapacityPerWorker: capacityPerWorker / p.sample,
		Compression: p.compression, PollInterval: 100 * time.Millisecond, Recorder: led}}
	wkCtx, stopWorkers := context.WithCancel(ctx)
	wkDone := make(chan struct{})
	go func() { defer close(wkDone); wk.run(wkCtx) }()
	timings := &agentTimings{}
	go timings.run(ctx, func() string { return r.agent.HTTPAddr })

	genDone := make(chan error, 1)
	go func() { genDone <- gen.Run(ctx) }()
	t.Logf("soak %s: replaying %s from %s at x%g (one published request stands for %g), %d faults", p.name, p.duration,
		p.start, p.compression, p.sample, len(p.faults))

	in := &injector{r: r, storms: map[int]context.CancelFunc{}, rng: rand.New(rand.NewPCG(16, 16))}
	baseline := make(chan map[string]processUsage, 1)
	baselineDue := r.clock.Real(r.clock.SimStart.Add(p.baseline))
	baselineTimer := time.AfterFunc(time.Until(baselineDue), func() { baseline <- pluginUsage(r.pluginDir, r.goroutineAddrs()) })
	in.play(ctx, p.faults)
	must.NoError(t, <-genDone, must.Sprint("load generator"))
	baselineTimer.Stop()
	var before map[string]processUsage
	select {
	case before = <-baseline:
	default:
	}
	after := pluginUsage(r.pluginDir, r.goroutineAddrs())
	replayReal := time.Since(r.clock.RealStart)

	res := settle(t, r, led, obs)
	stopWorkers()
	<-wkDone
	stopObs()
	<-obsDone

	rep := buildReport(r, led, obs, in, timings, before, after, minutes, replayReal, res)
	rep.PublisherFailovers, rep.WorkerRestarts, rep.RowInsertRetries = pub.failovers.Load(), wk.restarts.Load(), rows.retries.Load()
	rep.write(t, outDir)
	rep.check(t)
}
