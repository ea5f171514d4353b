package workersim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
)

var stopQueues = []string{"ekyc.facematch", "ekyc.ocr"}

// publish queues n jobs of `requests` requests each, alternating the queues.
func publish(t *testing.T, amqpURL string, n, requests int) {
	t.Helper()
	pub, err := loadgen.NewRabbitSink(amqpURL, stopQueues)
	must.NoError(t, err)
	defer pub.Close()
	jobs := make([]loadgen.QueuedJob, n)
	for i := range jobs {
		jobs[i] = loadgen.QueuedJob{Queue: stopQueues[i%2], Job: loadgen.Job{Model: "m", Requests: requests, EnqueuedAt: time.Now()}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must.NoError(t, pub.PublishJobs(ctx, jobs))
}

// queued is what the queues hold once no consumer is attached: it takes
// every message and reports how many there were and how many RabbitMQ
// marked as redelivered (returned unacknowledged by a consumer).
func queued(t *testing.T, amqpURL string) (total, redelivered int) {
	t.Helper()
	ch, err := testenv.DialAMQP(t, amqpURL).Channel()
	must.NoError(t, err)
	defer ch.Close()
	for _, q := range stopQueues {
		for {
			msg, ok, err := ch.Get(q, true)
			must.NoError(t, err)
			if !ok {
				break
			}
			total++
			if msg.Redelivered {
				redelivered++
			}
		}
	}
	return total, redelivered
}

// startSim runs a simulator over the fleet until the test ends or Run returns.
func startSim(t *testing.T, amqpURL string, f workersim.Fleet, capacity float64) (*workersim.Sim, context.CancelFunc, <-chan error) {
	t.Helper()
	sim, err := workersim.New(workersim.Config{
		AMQPURL: amqpURL, Queues: stopQueues, CapacityPerWorker: capacity, Compression: 1, PollInterval: 50 * time.Millisecond,
	}, f)
	must.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	return sim, cancel, done
}

func waitRun(t *testing.T, done <-chan error, within time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		must.NoError(t, err)
	case <-time.After(within):
		t.Fatalf("Run did not return within %s", within)
	}
}

// The graceful stop of a worker on SIGTERM: no new job starts, the jobs
// already received are served and acknowledged, nothing is lost or served
// twice.
func TestStopServesAndAcknowledgesTheJobsInFlight(t *testing.T) {
	t.Parallel()
	_, vurl := testenv.FreshVhost(t)
	const published = 60
	publish(t, vurl, published, 10)
	f := &fleet{}
	f.n.Store(1)
	// One worker of 3000 requests/min = 50 requests/s: jobs of 10 requests
	// queue behind the bucket, so every consumer holds one in flight.
	sim, _, done := startSim(t, vurl, f, 3000)
	poll.Until(t, 20*time.Second, func() bool {
		return sim.Stats().InFlight == 8 && sim.Stats().Jobs > 0
	}, poll.Say("every consumer to hold a job"))

	sim.Stop()
	waitRun(t, done, 10*time.Second)
	st := sim.Stats()
	must.Eq(t, int64(0), st.InFlight)
	must.Eq(t, int64(0), st.Abandoned)
	must.Less(t, int64(published), st.Jobs, must.Sprint("consuming stopped before the queues were empty"))

	left, redelivered := queued(t, vurl)
	must.Eq(t, published, int(st.Jobs)+left, must.Sprint("every job is either served and acknowledged or still queued"))
	must.Zero(t, redelivered, must.Sprint("no job in flight at the stop went back to the queue: all were acknowledged"))
}

// A hard stop (the second signal, or the stop deadline) leaves what is in
// flight unacknowledged: RabbitMQ redelivers it, nothing is lost.
func TestAHardStopLeavesTheJobsInFlightToBeRedelivered(t *testing.T) {
	t.Parallel()
	_, vurl := testenv.FreshVhost(t)
	const published = 20
	publish(t, vurl, published, 10)
	// No workers: the jobs received wait for capacity that never comes.
	sim, hardStop, done := startSim(t, vurl, &fleet{}, 3000)
	poll.Until(t, 20*time.Second, func() bool { return sim.Stats().InFlight == 8 }, poll.Say("eight jobs in flight"))

	sim.Stop()
	poll.Holds(t, 300*time.Millisecond, func() bool { return sim.Stats().InFlight == 8 }, poll.Say("the eight jobs to stay in flight"))
	hardStop()
	waitRun(t, done, 10*time.Second)
	st := sim.Stats()
	must.Eq(t, int64(0), st.Jobs)
	must.Eq(t, int64(8), st.Abandoned)

	left, redelivered := queued(t, vurl)
	must.Eq(t, published, left, must.Sprint("nothing lost"))
	must.Eq(t, 8, redelivered, must.Sprint("exactly the jobs in flight were returned"))
}

// fakeSimcloud serves the fleet size cmd/workersim reads.
func fakeSimcloud(t *testing.T, workers *atomic.Int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"ready_workers_total": %d}`, workers.Load())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func runMain(t *testing.T, signals chan os.Signal, args ...string) (*syncbuf.Buffer, <-chan int) {
	t.Helper()
	stderr := &syncbuf.Buffer{}
	code := make(chan int, 1)
	go func() {
		code <- cli.Code(workersim.Main(context.Background(), cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: &syncbuf.Buffer{}, Stderr: stderr, Signals: signals}))
	}()
	return stderr, code
}

func exitCode(t *testing.T, code <-chan int, within time.Duration) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(within):
		t.Fatalf("Main did not return within %s", within)
		return -1
	}
}

func TestMainStopsLikeAWorkerOnSignals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		workers int64
		// signals are sent one after the other, once a job is in flight.
		signals  []os.Signal
		args     []string
		wantCode int
		wantLog  []string
		// wantRedelivered: jobs in flight at the stop returned to the queue.
		wantRedelivered bool
	}{
		{
			name: "SIGTERM finishes the jobs in flight and exits 0", workers: 1, signals: []os.Signal{syscall.SIGTERM},
			wantCode: 0, wantLog: []string{"terminated: consumers cancelled; finishing", "every job received was served and acknowledged"},
		},
		{
			name: "a second signal exits at once and leaves the jobs in flight to RabbitMQ", workers: 0,
			signals: []os.Signal{syscall.SIGTERM, os.Interrupt}, wantCode: 1,
			wantLog: []string{"interrupt again: exiting now", "jobs unacknowledged; RabbitMQ redelivers them"}, wantRedelivered: true,
		},
		{
			name: "the stop deadline exits at once", workers: 0, signals: []os.Signal{syscall.SIGTERM},
			args: []string{"-stop-timeout", "300ms"}, wantCode: 1,
			wantLog: []string{"-stop-timeout 300ms passed: exiting now"}, wantRedelivered: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, vurl := testenv.FreshVhost(t)
			publish(t, vurl, 30, 10)
			var workers atomic.Int64
			workers.Store(tc.workers)
			signals := make(chan os.Signal, 2)
			args := append([]string{"-amqp", vurl, "-simcloud", fakeSimcloud(t, &workers), "-capacity", "3000",
				"-compression", "1", "-poll", "50ms"}, tc.args...)
			stderr, code := runMain(t, signals, args...)
			// Jobs in flight: the consumers have taken some from the queues.
			conn := testenv.DialAMQP(t, vurl)
			poll.Until(t, 20*time.Second, func() bool { return 30-ready(t, conn) >= 8 }, poll.Say("eight jobs taken from the queue"))
			for _, s := range tc.signals {
				signals <- s
			}
			must.Eq(t, tc.wantCode, exitCode(t, code, 15*time.Second), must.Sprint(stderr.String()))
			for _, want := range tc.wantLog {
				must.StrContains(t, stderr.String(), want)
			}
			left, redelivered := queued(t, vurl)
			must.Positive(t, left, must.Sprint("consuming stopped before the queues were empty"))
			if tc.wantRedelivered {
				must.Positive(t, redelivered)
			} else {
				must.Zero(t, redelivered, must.Sprint(stderr.String()))
			}
		})
	}
}

// ready is how many jobs wait in the queues, not yet sent to a consumer.
func ready(t *testing.T, conn *amqp.Connection) int {
	t.Helper()
	n := 0
	for _, q := range stopQueues {
		// A passive declare of a missing queue closes the channel: one each.
		ch, err := conn.Channel()
		must.NoError(t, err)
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		_ = ch.Close()
		must.NoError(t, err)
		n += st.Messages
	}
	return n
}
