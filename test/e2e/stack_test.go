package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// The two zonal MIGs of every scenario.
const (
	zoneA = "zone-a"
	zoneB = "zone-b"
	migs  = zoneA + "/gpu-a," + zoneB + "/gpu-b"
	// spotMIGs are the Spot MIGs of the scenarios with a Spot tier
	// (stackOptions.spot), one per zone beside the standard ones.
	spotMIGs = zoneA + "/spot-a," + zoneB + "/spot-b"
)

var queues = []string{"ekyc.facematch", "ekyc.ocr"}

// evalInterval is the policies' evaluation_interval. Short, so scenarios
// take seconds; not shorter, because the agent gives the target's Status 75%
// of it and drops a policy whose first Status misses that, which a machine
// running the whole test suite can make happen at 1.5 s.
const evalInterval = 3 * time.Second

// stackOptions vary between scenarios.
type stackOptions struct {
	initialPerZone int
	bootTime       time.Duration
	drainDuration  time.Duration
	policy         policyParams
	// proxyRabbitMQ routes the APM plugin's AMQP and management traffic
	// through in-test proxies that the test can stop.
	proxyRabbitMQ bool
	// workerCapacity > 0 starts the worker simulator (requests per minute
	// per worker).
	workerCapacity float64
	// warmBootTime and stopTime are the standby pool's start and stop
	// times (simcloud's defaults when zero).
	warmBootTime, stopTime time.Duration
	// spot adds the Spot MIGs of spotMIGs, empty at start and with the
	// SPOT provisioning model, and names them in the policy (spot_migs).
	spot bool
	// workerFleet, when set, is how many workers the worker simulator
	// serves with; default the cluster's ReadyWorkersTotal.
	workerFleet func(simcloud.State) int
}

// stack is one isolated end-to-end environment: its own simulated cloud,
// RabbitMQ vhost, PostgreSQL database, agent and policy directory, so the
// scenarios run in parallel with each other and with other packages' tests.
type stack struct {
	t         *testing.T
	ctx       context.Context
	cloud     *simcloud.Cluster
	cloudURL  string
	amqpURL   string // the vhost's URL, direct to RabbitMQ
	vhost     string
	policyDir string
	policy    policyParams
	agent     *agenttest.Agent
	pub       *loadgen.RabbitSink
	amqpProxy *tcpproxy.Proxy
	mgmtProxy *tcpproxy.Proxy
	workers   *workersim.Sim
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	_, mgmtURL := testenv.RabbitMQ(t)
	dsn := testenv.FreshDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &stack{t: t, ctx: ctx}

	setupCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	must.NoError(t, loadgen.ApplySchema(setupCtx, dsn, filepath.Join(agenttest.RepoRoot(t), "scripts", "schema.sql")))
	s.vhost, s.amqpURL = testenv.FreshVhost(t)
	pub, err := loadgen.NewRabbitSink(s.amqpURL, queues)
	must.NoError(t, err)
	t.Cleanup(func() { pub.Close() })
	s.pub = pub

	s.startCloud(o)
	apmAMQP, apmMgmt := s.amqpURL, mgmtURL
	if o.proxyRabbitMQ {
		apmAMQP, apmMgmt = s.proxyRabbitMQ(mgmtURL)
	}

	s.policyDir = t.TempDir()
	s.policy = o.policy
	s.policy.Vhost, s.policy.Project, s.policy.MIGs = s.vhost, "sim-project", migs
	if o.spot {
		s.policy.SpotMIGs = spotMIGs
	}
	writePolicy(t, s.policyDir, s.policy)
	s.agent = agenttest.Start(t, agenttest.Config{
		PolicyDir:    s.policyDir,
		NomadAddress: s.cloudURL,
		Blocks:       pluginBlocks(apmAMQP, apmMgmt, dsn, s.cloudURL),
	})
	if o.workerCapacity > 0 {
		s.startWorkers(o.workerCapacity, o.workerFleet)
	}
	return s
}

func (s *stack) startCloud(o stackOptions) {
	refs, err := simcloud.ParseMIGs(migs)
	must.NoError(s.t, err)
	var spotRefs []simcloud.MIGRef
	initial := map[simcloud.MIGRef]int{}
	if o.spot {
		spotRefs, err = simcloud.ParseMIGs(spotMIGs)
		must.NoError(s.t, err)
		for _, r := range spotRefs {
			initial[r] = 0
		}
	}
	cloud, err := simcloud.New(simcloud.Config{
		MIGs: append(refs, spotRefs...), InitialSize: o.initialPerZone, InitialSizes: initial, BootTime: o.bootTime,
		DeleteTime: 200 * time.Millisecond, DrainDuration: o.drainDuration,
		WarmBootTime: o.warmBootTime, StopTime: o.stopTime,
	})
	must.NoError(s.t, err)
	for _, r := range spotRefs {
		must.NoError(s.t, cloud.GCE.SetMIGProvisioningModel(r.Zone, r.Name, fakegce.ProvisioningSpot))
	}
	srv := httptest.NewServer(cloud.Handler())
	go cloud.Run(s.ctx, 100*time.Millisecond)
	s.t.Cleanup(func() {
		cloud.Close()
		srv.Close()
	})
	s.cloud, s.cloudURL = cloud, srv.URL
	// The initial instances boot like any other: wait until they serve.
	s.waitFor("the initial nodes are ready", 30*time.Second, func() bool {
		return s.cloud.State().ReadyWorkersTotal == 2*o.initialPerZone
	})
}

// proxyRabbitMQ starts proxies in front of RabbitMQ's AMQP and management
// ports and returns the APM plugin's URLs through them.
func (s *stack) proxyRabbitMQ(mgmtURL string) (amqpURL, managementURL string) {
	a, err := url.Parse(s.amqpURL)
	must.NoError(s.t, err)
	m, err := url.Parse(mgmtURL)
	must.NoError(s.t, err)
	s.amqpProxy, s.mgmtProxy = tcpproxy.Start(s.t, a.Host), tcpproxy.Start(s.t, m.Host)
	a.Host, m.Host = s.amqpProxy.Addr(), s.mgmtProxy.Addr()
	return a.String(), m.String()
}

func (s *stack) startWorkers(capacity float64, fleet func(simcloud.State) int) {
	if fleet == nil {
		fleet = func(st simcloud.State) int { return st.ReadyWorkersTotal }
	}
	sim, err := workersim.New(workersim.Config{
		AMQPURL: s.amqpURL, Queues: queues, CapacityPerWorker: capacity, Compression: 1, PollInterval: 200 * time.Millisecond,
	}, workersim.FleetFunc(func(context.Context) (int, error) { return fleet(s.cloud.State()), nil }))
	must.NoError(s.t, err)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(s.ctx)
	go func() { done <- sim.Run(ctx) }()
	s.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			s.t.Errorf("worker simulator: %v", err)
		}
	})
	s.workers = sim
}

func pluginBlocks(amqpURL, mgmtURL, dsn, cloudURL string) string {
	return fmt.Sprintf(`
apm "ekyc" {
  driver = "apm-rabbitmq"
  config = {
    amqp_urls       = %q
    management_urls = %q
    postgres_url    = %q
    query_timeout   = "1s"
  }
}

strategy "slope" {
  driver = "strategy-slope"
}

target "gce-gpu" {
  driver = "target-gce-gpu"
  config = {
    compute_endpoint = %q
    compute_insecure = "true"
  }
}
`, amqpURL, mgmtURL, dsn, cloudURL)
}

// publishBacklog queues n single-request jobs, alternating the queues.
func (s *stack) publishBacklog(n int) {
	s.t.Helper()
	jobs := make([]loadgen.QueuedJob, n)
	for i := range jobs {
		jobs[i] = loadgen.QueuedJob{Queue: queues[i%len(queues)], Job: loadgen.Job{Model: "m", Requests: 1, EnqueuedAt: time.Now()}}
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	must.NoError(s.t, s.pub.PublishJobs(ctx, jobs))
}

// targetSizes returns each zone's MIG target size.
func (s *stack) targetSizes() map[string]int {
	out := map[string]int{}
	for _, m := range s.cloud.State().MIGs {
		out[m.Zone] = m.TargetSize
	}
	return out
}

func (s *stack) count() int {
	n := 0
	for _, v := range s.targetSizes() {
		n += v
	}
	return n
}

// waitFor polls cond until it holds, and fails the test with the cloud's
// state when timeout passes first.
func (s *stack) waitFor(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	poll.Until(s.t, timeout, cond, func() string { return what + "; cloud state:\n" + s.describe() })
}

// describe renders the cloud's MIGs and nodes for failure messages.
func (s *stack) describe() string {
	st := s.cloud.State()
	var b strings.Builder
	for _, m := range st.MIGs {
		fmt.Fprintf(&b, "  mig %s/%s target=%d running=%d stable=%v errors=%d %s\n", m.Zone, m.Name, m.TargetSize, m.Running, m.Stable, m.Errors, m.LastErrorCode)
		for _, in := range m.Instances {
			fmt.Fprintf(&b, "    %s %s %s\n", in.Name, in.Status, in.CurrentAction)
		}
	}
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "  node %s %s %s draining=%v last_drain=%s workers=%d meta=%v\n", n.Name, n.Status, n.Eligibility, n.Draining, n.LastDrain, n.RunningWorkers, n.Meta)
	}
	return b.String()
}
