package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/rollout"
)

// Rolling golden-image deploys (issue 15): cmd/rollout's engine runs in
// process against the simulated cluster's compute and Nomad APIs and the
// real RabbitMQ management API, while the agent scales the same MIGs.

// runRollout runs cmd/rollout for template and returns its output and
// error.
func (s *stack) runRollout(template string) (string, error) {
	s.t.Helper()
	_, mgmt := testenv.RabbitMQ(s.t)
	// The management API's guest user is only allowed on loopback, where
	// scripts/services.sh runs it.
	mgmt = strings.Replace(mgmt, "://", "://guest:guest@", 1)
	var out syncbuf.Buffer
	args := []string{
		"-project", "sim-project", "-migs", migs, "-template", template,
		"-compute-endpoint", s.cloudURL, "-compute-insecure", "-nomad-addr", s.cloudURL,
		"-rabbitmq-management-url", mgmt, "-vhost", s.vhost, "-queues", strings.Join(queues, ","),
		"-poll", "200ms", "-health-timeout", "30s", "-step-timeout", "60s", "-rollback-timeout", "90s", "-call-timeout", "5s",
	}
	ctx, cancel := context.WithTimeout(s.ctx, 4*time.Minute)
	defer cancel()
	err := rollout.Main(ctx, cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out})
	return out.String(), err
}

// templatesInUse counts every VM of the fleet (being deleted or not) by
// instance template.
func (s *stack) templatesInUse() map[string]int {
	out := map[string]int{}
	for _, m := range s.cloud.State().MIGs {
		for _, in := range m.Instances {
			out[in.Template]++
		}
	}
	return out
}

// watchServing records the fewest serving workers seen until stop.
func (s *stack) watchServing() (stop func() int) {
	var low atomic.Int64
	low.Store(1 << 30)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if n := int64(s.cloud.State().ReadyWorkersTotal); n < low.Load() {
				low.Store(n)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int { close(done); <-finished; return int(low.Load()) }
}

// A rollout during a traffic surge: the agent scales the fleet up while the
// MIGs are replaced one VM at a time; every VM ends on the new template,
// serving capacity never falls below the fleet before the rollout, and
// every published job is served.
func TestRolloutDuringATrafficSurgeEndsOnTheNewTemplateWithNothingLost(t *testing.T) {
	t.Parallel()
	// Boots of 4 s make the rollout outlast the agent's first reaction to
	// the surge (one interval plus the management API's lag); workers of
	// 30 jobs a minute make the steady 4 jobs a second more than the four
	// workers serve, so the backlog grows until the agent adds workers.
	s := newStack(t, stackOptions{
		initialPerZone: 2, bootTime: 4 * time.Second, drainDuration: time.Second, workerCapacity: 30,
		policy: policyParams{Min: 4, Max: 12, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	s.cloud.AddTemplate("gpu-v2")
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)
	stopLoad := s.steadyLoad(250 * time.Millisecond)
	// The surge: a backlog the agent answers with more workers while the
	// rollout runs.
	s.publishBacklog(80)
	lowest := s.watchServing()
	start := time.Now()
	out, err := s.runRollout("gpu-v2")
	took := time.Since(start)
	low := lowest()
	must.NoError(t, err, must.Sprintf("rollout output:\n%s\ncloud state:\n%s", out, s.describe()))
	t.Logf("rollout took %s; fleet %v; fewest serving workers %d\n%s", took.Round(100*time.Millisecond), s.targetSizes(), low, out)

	must.StrContains(t, out, "canary: passed on zone-a/gpu-a")
	must.GreaterEq(t, 4, low, must.Sprint("serving capacity never fell below the fleet before the rollout"))
	var resizes []time.Duration
	for _, r := range s.cloud.GCE.Requests() {
		if strings.HasSuffix(r.Path, "/resize") && r.Status == 200 && r.Received.After(start) && r.Received.Before(start.Add(took)) {
			resizes = append(resizes, r.Received.Sub(start).Round(100*time.Millisecond))
		}
	}
	t.Logf("the agent resized the MIGs %v into the rollout", resizes)
	must.SliceNotEmpty(t, resizes, must.Sprint("the agent kept scaling during the rollout"))
	// Every VM, those the agent added included, runs the new template.
	s.waitFor("every VM on the new template", 60*time.Second, func() bool {
		inUse := s.templatesInUse()
		return len(inUse) == 1 && inUse["gpu-v2"] == s.count()
	})
	must.StrNotContains(t, s.agent.Log(), "cannot observe or reconcile")

	published := stopLoad() + 80
	s.waitFor("every published job served", 60*time.Second, func() bool { return s.workers.Stats().Jobs >= published })
	st := s.workers.Stats()
	must.Eq(t, published, st.Jobs, must.Sprintf("stats %+v", st))
	must.Zero(t, st.Rejected)
}

// A rollout whose canary's workers fail is rolled back: every MIG returns
// to its template, the run fails with the reason, and the fleet serves.
func TestRolloutWhoseCanaryFailsItsHealthCheckIsRolledBack(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		initialPerZone: 2, bootTime: 2 * time.Second, drainDuration: time.Second, workerCapacity: 600,
		policy: policyParams{Min: 4, Max: 12, Interval: evalInterval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 20 * time.Second},
	})
	s.cloud.AddTemplate("gpu-broken")
	s.cloud.SetTemplateBad("gpu-broken", true)
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)
	stopLoad := s.steadyLoad(250 * time.Millisecond)
	start := time.Now()
	out, err := s.runRollout("gpu-broken")
	t.Logf("rolled back after %s\n%s", time.Since(start).Round(100*time.Millisecond), out)
	must.Error(t, err)
	must.Eq(t, 1, cli.Code(err))
	must.StrContains(t, err.Error(), "rolled back")
	must.StrContains(t, err.Error(), "worker allocation")
	must.StrNotContains(t, out, "update: zone-b/gpu-b", must.Sprint("the second MIG was never touched"))

	s.waitFor("every VM back on its template and serving", 60*time.Second, func() bool {
		inUse := s.templatesInUse()
		return inUse["gpu-broken"] == 0 && s.cloud.State().ReadyWorkersTotal == s.count()
	})
	for _, m := range s.cloud.State().MIGs {
		must.True(t, m.VersionTargetReached, must.Sprint(fmt.Sprintf("%s: %v", m.Name, m.Versions)))
		must.Len(t, 1, m.Versions)
		must.StrHasSuffix(t, "="+m.Name+"-template", m.Versions[0])
	}
	published := stopLoad()
	s.waitFor("every published job served", 60*time.Second, func() bool { return s.workers.Stats().Jobs >= published })
	must.Zero(t, s.workers.Stats().Rejected)
}
