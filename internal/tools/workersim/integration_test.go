package workersim_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

type fleet struct{ n atomic.Int64 }

func (f *fleet) Workers(context.Context) (int, error) { return int(f.n.Load()), nil }

// TestWorkersServeOnlyWhileTheFleetHasWorkers publishes 40 jobs of 10
// requests, holds them while the fleet is empty, then serves them at the
// fleet's capacity and never faster.
func TestWorkersServeOnlyWhileTheFleetHasWorkers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, vurl := testenv.FreshVhost(t)
	queues := []string{"ekyc.facematch", "ekyc.ocr"}
	pub, err := loadgen.NewRabbitSink(vurl, queues)
	must.NoError(t, err)
	defer pub.Close()
	var jobs []loadgen.QueuedJob
	for i := range 40 {
		jobs = append(jobs, loadgen.QueuedJob{Queue: queues[i%2], Job: loadgen.Job{Model: "m", Requests: 10, EnqueuedAt: time.Now()}})
	}
	must.NoError(t, pub.PublishJobs(ctx, jobs))

	f := &fleet{}
	// 2 workers x 3000 requests/min = 100 requests/s: the 400 requests take about 4 s.
	sim, err := workersim.New(workersim.Config{
		AMQPURL: vurl, Queues: queues, CapacityPerWorker: 3000, Compression: 1, PollInterval: 50 * time.Millisecond,
	}, f)
	must.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sim.Run(runCtx) }()

	// An empty fleet serves nothing, however long it is given.
	poll.Holds(t, 500*time.Millisecond, func() bool {
		return sim.Stats().Requests == 0
	}, poll.Say("an empty fleet to serve nothing"))

	f.n.Store(2)
	started := time.Now()
	var tooFast []string
	poll.Until(t, 20*time.Second, func() bool {
		st := sim.Stats()
		// Never faster than the fleet earns (plus its small burst and one job in hand).
		if limit := 100*time.Since(started).Seconds() + 25 + 10; float64(st.Requests) > limit {
			tooFast = append(tooFast, fmt.Sprintf("%d requests served after %s", st.Requests, time.Since(started)))
		}
		return st.Requests == 400
	}, poll.Say("the 400 requests served"))
	must.SliceEmpty(t, tooFast)
	stop()
	must.NoError(t, <-done)

	w := sim.Waits()
	must.Eq(t, int64(400), w.Requests())
	must.Positive(t, w.Quantile(0.5), must.Sprint("jobs waited for the fleet"))
	ch, err := testenv.DialAMQP(t, vurl).Channel()
	must.NoError(t, err)
	for _, q := range queues {
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		must.NoError(t, err)
		must.Eq(t, 0, st.Messages, must.Sprintf("queue %s is empty", q))
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	_, err := workersim.New(workersim.Config{CapacityPerWorker: -1}, &fleet{})
	for _, want := range []string{"amqp url", "queues", "capacity per worker -1", "compression 0", "poll interval 0s"} {
		must.ErrorContains(t, err, want)
	}
}
