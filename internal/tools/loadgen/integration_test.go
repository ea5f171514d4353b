package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// TestReplayWritesEveryRequestToPostgresAndRabbitMQ replays ten minutes of
// 600 requests in two seconds and checks both sides against the trace.
func TestReplayWritesEveryRequestToPostgresAndRabbitMQ(t *testing.T) {
	t.Parallel()
	dsn := testenv.FreshDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must.NoError(t, loadgen.ApplySchema(ctx, dsn, "../../../scripts/schema.sql"))
	_, vurl := testenv.FreshVhost(t)

	start := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	var minutes []loadgen.Minute
	for i := range 10 {
		minutes = append(minutes, loadgen.Minute{Start: start.Add(time.Duration(i) * time.Minute), Requests: float64(20 + 2*i)})
	}
	minutes = loadgen.ScaleTo(minutes, 600)
	rows, err := loadgen.NewPostgresSink(ctx, dsn, loadgen.DefaultTable)
	must.NoError(t, err)
	defer rows.Close()
	queues := []string{"ekyc.facematch", "ekyc.ocr"}
	jobs, err := loadgen.NewRabbitSink(vurl, queues)
	must.NoError(t, err)
	defer jobs.Close()

	g, err := loadgen.New(loadgen.Config{
		Minutes: minutes, Compression: 300, Tick: 100 * time.Millisecond, Batch: 25,
		Models: []loadgen.Model{{Name: "facematch", Queue: queues[0], Share: 0.6}, {Name: "ocr", Queue: queues[1], Share: 0.4}},
	}, rows, jobs)
	must.NoError(t, err)
	before := time.Now()
	must.NoError(t, g.Run(ctx))
	after := time.Now()
	st := g.Stats()
	must.True(t, st.Done)
	must.Eq(t, int64(600), st.Requests)

	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	var n, facematch int64
	var first, last time.Time
	must.NoError(t, conn.QueryRow(ctx,
		`SELECT count(*), count(*) FILTER (WHERE model = 'facematch'), min(created_at), max(created_at) FROM api_requests`).
		Scan(&n, &facematch, &first, &last))
	must.Eq(t, int64(600), n)
	must.Eq(t, int64(360), facematch)
	must.True(t, !first.Before(before) && !last.After(after), must.Sprint("rows are stamped with the real time of the replay"))

	ch, err := testenv.DialAMQP(t, vurl).Channel()
	must.NoError(t, err)
	total := 0
	for _, q := range queues {
		for {
			msg, ok, err := ch.Get(q, true)
			must.NoError(t, err)
			if !ok {
				break
			}
			j, err := loadgen.DecodeJob(msg.Body)
			must.NoError(t, err)
			total += j.Requests
		}
	}
	must.Eq(t, 600, total)
}
