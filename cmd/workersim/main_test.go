package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

var queues = []string{"ekyc.facematch", "ekyc.ocr"}

// TestSIGTERMFinishesTheJobsInFlightAndExitsZero runs the binary as Nomad
// runs a worker and stops it as Nomad does, with SIGTERM: the jobs it holds
// are served and acknowledged (none comes back as a redelivery), the rest
// stay queued, and it exits 0 well within the job's kill_timeout.
func TestSIGTERMFinishesTheJobsInFlightAndExitsZero(t *testing.T) {
	t.Parallel()
	_, vurl := testenv.FreshVhost(t)
	pub, err := loadgen.NewRabbitSink(vurl, queues)
	must.NoError(t, err)
	defer pub.Close()
	const published = 40
	jobs := make([]loadgen.QueuedJob, published)
	for i := range jobs {
		jobs[i] = loadgen.QueuedJob{Queue: queues[i%2], Job: loadgen.Job{Model: "m", Requests: 10, EnqueuedAt: time.Now()}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must.NoError(t, pub.PublishJobs(ctx, jobs))
	simcloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"ready_workers_total": 1}`)
	}))
	defer simcloud.Close()

	bin := plugintest.Build(t, "github.com/fleetslope/nomad-gpu-autoscaler/cmd/workersim")
	// 3000 requests/min: 5 jobs a second, so the queues are far from empty
	// when the signal comes.
	cmd := exec.CommandContext(ctx, bin, "-amqp", vurl, "-simcloud", simcloud.URL, "-capacity", "3000",
		"-compression", "1", "-poll", "50ms", "-stop-timeout", "20s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must.NoError(t, cmd.Start())
	conn := testenv.DialAMQP(t, vurl)
	ready := func() int {
		n := 0
		for _, q := range queues {
			ch, err := conn.Channel()
			must.NoError(t, err)
			st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
			_ = ch.Close()
			must.NoError(t, err)
			n += st.Messages
		}
		return n
	}
	poll.Until(t, 20*time.Second, func() bool { return published-ready() >= 10 }, poll.Say("ten jobs published and left unread"))

	must.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()
	err = cmd.Wait()
	must.NoError(t, err, must.Sprint(stderr.String()))
	t.Logf("exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	must.StrContains(t, stderr.String(), "consumers cancelled")

	ch, err := conn.Channel()
	must.NoError(t, err)
	left, redelivered := 0, 0
	for _, q := range queues {
		for {
			msg, ok, err := ch.Get(q, true)
			must.NoError(t, err)
			if !ok {
				break
			}
			left++
			if msg.Redelivered {
				redelivered++
			}
		}
	}
	must.Positive(t, left, must.Sprint("consuming stopped before the queues were empty"))
	must.Zero(t, redelivered, must.Sprint("every job in flight at SIGTERM was acknowledged"))
	var served int
	must.StrContains(t, stderr.String(), "acknowledged (")
	_, err = fmt.Sscanf(stderr.String()[strings.Index(stderr.String(), "acknowledged ("):], "acknowledged (%d in total)", &served)
	must.NoError(t, err, must.Sprint(stderr.String()))
	must.Eq(t, published, served+left, must.Sprint("no job lost"))
}
