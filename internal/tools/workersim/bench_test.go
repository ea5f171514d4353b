package workersim_test

import (
	"context"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// BenchmarkServeJobs measures how many jobs per second the simulator can
// take from RabbitMQ when the fleet is never the limit: the ceiling of what
// the demo can show (at x300 and 25 requests per job, 1,000 jobs/s is a
// fleet serving 5,000 requests per simulated minute).
func BenchmarkServeJobs(b *testing.B) {
	amqpURL, mgmtURL := testenv.RabbitMQ(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	v, err := loadgen.VhostsFromAMQP(amqpURL, mgmtURL)
	if err != nil {
		b.Fatal(err)
	}
	name := "workersim-bench"
	if err := v.Create(ctx, name); err != nil {
		b.Fatal(err)
	}
	defer v.Delete(context.Background(), name)
	vurl, _ := loadgen.VhostURL(amqpURL, name)
	queues := []string{"ekyc.facematch", "ekyc.ocr"}
	pub, err := loadgen.NewRabbitSink(vurl, queues)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	jobs := make([]loadgen.QueuedJob, b.N)
	for i := range jobs {
		jobs[i] = loadgen.QueuedJob{Queue: queues[i%2], Job: loadgen.Job{Model: "m", Requests: 1, EnqueuedAt: time.Now()}}
	}
	if err := pub.PublishJobs(ctx, jobs); err != nil {
		b.Fatal(err)
	}
	sim, err := workersim.New(workersim.Config{AMQPURL: vurl, Queues: queues, CapacityPerWorker: 1e9, Compression: 1, PollInterval: time.Second},
		workersim.FleetFunc(func(context.Context) (int, error) { return 1, nil }))
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ResetTimer()
	go func() { done <- sim.Run(runCtx) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for sim.Stats().Jobs < int64(b.N) {
		<-tick.C
	}
	b.StopTimer()
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
