package rollout_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/rollout"
)

// fleet is a simulated cluster of two MIGs of two VMs each, 60 simulated
// seconds per real second, with a fake RabbitMQ management API that
// answers consumers for queues ocr and face.
type fleet struct {
	cloud     *simcloud.Cluster
	url       string
	rabbitURL string
	consumers func(queue string) int
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	cloud, err := simcloud.New(simcloud.Config{
		Project: "p", MIGs: []simcloud.MIGRef{{Zone: "zone-a", Name: "gpu-a"}, {Zone: "zone-b", Name: "gpu-b"}},
		InitialSize: 2, BootTime: 60 * time.Second, DeleteTime: 30 * time.Second,
		Clock: simcloud.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), 60, nil),
	})
	must.NoError(t, err)
	cloud.AddTemplate("gpu-v2")
	srv := httptest.NewServer(cloud.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	go cloud.Run(ctx, 20*time.Millisecond)
	t.Cleanup(func() { cancel(); cloud.Close(); srv.Close() })
	f := &fleet{cloud: cloud, url: srv.URL, consumers: func(string) int { return 4 }}
	rabbit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ops" || p != "s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		q := strings.TrimPrefix(r.URL.EscapedPath(), "/api/queues/%2F/")
		fmt.Fprintf(w, `{"name": %q, "consumers": %d}`, q, f.consumers(q))
	}))
	t.Cleanup(rabbit.Close)
	f.rabbitURL = strings.Replace(rabbit.URL, "http://", "http://ops:s3cret@", 1)
	return f
}

func (f *fleet) run(ctx context.Context, out *syncbuf.Buffer, extra ...string) error {
	args := append([]string{"-project", "p", "-migs", "zone-a/gpu-a,zone-b/gpu-b", "-template", "gpu-v2",
		"-compute-endpoint", f.url, "-compute-insecure", "-nomad-addr", f.url,
		"-rabbitmq-management-url", f.rabbitURL, "-queues", "ocr,face",
		"-poll", "50ms", "-health-timeout", "5s", "-step-timeout", "10s", "-rollback-timeout", "30s", "-pause-timeout", "10s"}, extra...)
	var stderr bytes.Buffer
	return rollout.Main(ctx, cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: out, Stderr: &stderr})
}

// templates counts every instance of the fleet by template.
func (f *fleet) templates() map[string]int {
	out := map[string]int{}
	for _, m := range f.cloud.State().MIGs {
		for _, in := range m.Instances {
			out[in.Template]++
		}
	}
	return out
}

func TestARolloutCanariesThenReplacesEveryVMOneAtATime(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	var out syncbuf.Buffer
	// Serving capacity never drops below the four VMs (maxUnavailable 0).
	stop := make(chan struct{})
	minServing := make(chan int, 1)
	go func() {
		low := 4
		for {
			select {
			case <-stop:
				minServing <- low
				return
			case <-time.After(5 * time.Millisecond):
				low = min(low, f.cloud.State().ReadyWorkersTotal)
			}
		}
	}()
	err := f.run(context.Background(), &out)
	close(stop)
	must.NoError(t, err, must.Sprint(out.String()))
	must.Eq(t, map[string]int{"gpu-v2": 4}, f.templates())
	must.Eq(t, 4, <-minServing)
	log := out.String()
	for _, want := range []string{"canary: zone-a/gpu-a gets gpu-v2", "canary: passed on zone-a/gpu-a", "update: zone-b/gpu-b rolls to gpu-v2", "done: every MIG runs gpu-v2", "consumers before the rollout: face=4 ocr=4"} {
		must.StrContains(t, log, want)
	}
	must.StrNotContains(t, log, "s3cret")
	// The canary went first: the second MIG was patched only after it passed.
	must.Less(t, strings.Index(log, "update: zone-b/gpu-b"), strings.Index(log, "canary: passed"))

	// Run again: nothing to do.
	var again syncbuf.Buffer
	must.NoError(t, f.run(context.Background(), &again))
	must.StrContains(t, again.String(), "done: every MIG runs gpu-v2")
	must.StrNotContains(t, again.String(), "canary: zone-a")
}

func TestACanaryWhoseWorkersFailIsRolledBackAndTheRunFails(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	f.cloud.SetTemplateBad("gpu-v2", true)
	var out syncbuf.Buffer
	err := f.run(context.Background(), &out)
	must.Error(t, err)
	must.StrContains(t, err.Error(), "rolled back")
	must.StrContains(t, err.Error(), "worker allocation")
	must.StrContains(t, err.Error(), "is failed")
	must.Eq(t, 1, cli.Code(err))
	poll.Until(t, 10*time.Second, func() bool { return f.templates()["gpu-v2"] == 0 }, func() string { return fmt.Sprint(f.templates()) })
	for _, m := range f.cloud.State().MIGs {
		must.Len(t, 1, m.Versions)
		must.StrHasSuffix(t, "="+m.Name+"-template", m.Versions[0])
		must.True(t, m.VersionTargetReached)
	}
	must.Eq(t, 4, f.cloud.State().ReadyWorkersTotal)
	must.StrContains(t, out.String(), "rollback: zone-a/gpu-a back to gpu-a-template")
}

func TestACanaryWhoseConsumersNeverComeBackTimesOutAndIsRolledBack(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	var mu sync.Mutex
	started := false
	f.consumers = func(q string) int {
		mu.Lock()
		defer mu.Unlock()
		if !started { // the baseline
			started = q == "face"
			return 4
		}
		return 2
	}
	var out syncbuf.Buffer
	err := f.run(context.Background(), &out, "-health-timeout", "2s")
	must.Error(t, err)
	must.StrContains(t, err.Error(), "health-timeout")
	must.StrContains(t, err.Error(), "ocr has 2 consumers, want at least 4")
	must.Eq(t, 0, f.templates()["gpu-v2"])
}

func TestAnInterruptedRolloutPausesTheUpdateAndSaysHowToResumeOrRollBack(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- f.run(ctx, &out) }()
	// Cancel once the update is applied (the log line comes just before
	// the PATCH; a cancel between the two leaves the canary state, which a
	// resume rightly checks again).
	poll.Until(t, 20*time.Second, func() bool {
		v := f.cloud.GCE.MIG("zone-a", "gpu-a").Versions
		return strings.Contains(out.String(), "update: zone-a/gpu-a rolls") && len(v) == 1 && strings.HasSuffix(v[0].Template, "gpu-v2")
	}, func() string { return out.String() })
	cancel()
	err := <-done
	must.Error(t, err)
	must.StrContains(t, err.Error(), "interrupted")
	log := out.String()
	must.StrContains(t, log, "to resume:   go run ./cmd/rollout -project p -migs zone-a/gpu-a,zone-b/gpu-b -template gpu-v2")
	must.StrContains(t, log, "to roll back: go run ./cmd/rollout -project p -migs zone-a/gpu-a,zone-b/gpu-b -template https://www.googleapis.com/compute/v1/projects/p/global/instanceTemplates/gpu-a-template")
	// Paused: no further VM is replaced, the group returns to its size.
	poll.Until(t, 10*time.Second, func() bool {
		m := f.cloud.GCE.MIG("zone-a", "gpu-a")
		live := 0
		for _, in := range m.Instances {
			if in.CurrentAction == "NONE" {
				live++
			}
		}
		return m.UpdateType == "OPPORTUNISTIC" && live == 2 && len(m.Instances) == 2
	}, func() string { return fmt.Sprintf("%+v", f.cloud.GCE.MIG("zone-a", "gpu-a")) })

	// Resuming with the same command finishes the rollout.
	var resumed syncbuf.Buffer
	must.NoError(t, f.run(context.Background(), &resumed), must.Sprint(resumed.String()))
	must.Eq(t, map[string]int{"gpu-v2": 4}, f.templates())
	must.StrNotContains(t, resumed.String(), "canary: zone-a")
}

func TestADryRunChangesNothing(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	var out syncbuf.Buffer
	must.NoError(t, f.run(context.Background(), &out, "-dry-run"))
	must.StrContains(t, out.String(), "would canary gpu-v2 on zone-a/gpu-a")
	must.StrContains(t, out.String(), "would roll zone-b/gpu-b from gpu-b-template to gpu-v2: 2 VMs")
	for _, r := range f.cloud.GCE.Requests() {
		must.NotEq(t, http.MethodPatch, r.Method, must.Sprint(r.Path))
	}
}

func TestBadCommandLinesAreReportedAllAtOnceWithExitCode2(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := rollout.Main(context.Background(), cli.Env{
		Args:   []string{"-migs", "zone-a,zone-b/gpu-b,zone-b/gpu-b", "-queues", "ocr", "-poll", "0s", "-compute-insecure"},
		Getenv: func(string) string { return "" }, Stdout: &stderr, Stderr: &stderr,
	})
	must.Eq(t, 2, cli.Code(err))
	for _, want := range []string{"-project is required", "-template is required", `-migs "zone-a": want zone/name`, `-migs "zone-b/gpu-b": listed twice`,
		"-queues needs -rabbitmq-management-url", `-poll "0s": must be positive`, "-compute-insecure needs -compute-endpoint"} {
		must.StrContains(t, err.Error(), want)
	}
}

func TestAMissingTemplateStopsTheRolloutBeforeAnyChange(t *testing.T) {
	t.Parallel()
	f := startFleet(t)
	var out syncbuf.Buffer
	err := f.run(context.Background(), &out, "-template", "gpu-v9")
	must.Error(t, err)
	must.StrContains(t, err.Error(), `instance template "projects/p/global/instanceTemplates/gpu-v9"`)
	for _, r := range f.cloud.GCE.Requests() {
		must.NotEq(t, http.MethodPatch, r.Method)
	}
}
