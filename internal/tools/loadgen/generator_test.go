package loadgen

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

type memSink struct {
	mu   sync.Mutex
	rows []Request
	jobs []QueuedJob
}

func (m *memSink) InsertRequests(_ context.Context, rows []Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, rows...)
	return nil
}

func (m *memSink) PublishJobs(_ context.Context, jobs []QueuedJob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs = append(m.jobs, jobs...)
	return nil
}

func TestRunWritesHistoryBackDatedThenReplaysTheTrace(t *testing.T) {
	start := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	minutes := []Minute{{start, 30}, {start.Add(time.Minute), 30}, {start.Add(2 * time.Minute), 40}}
	history := []Minute{{start.Add(-2 * time.Minute), 10}, {start.Add(-time.Minute), 10}}
	sink := &memSink{}
	g, err := New(Config{Minutes: minutes, History: history, Compression: 3600, Tick: 5 * time.Millisecond, Batch: 25,
		Models: []Model{{"facematch", "q.f", 1}}}, sink, sink)
	must.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must.NoError(t, g.Run(ctx))

	realStart := g.Clock().RealStart
	var before int
	for _, r := range sink.rows {
		if r.At.Before(realStart) {
			before++
		}
	}
	must.Eq(t, 20, before, must.Sprint("history rows are back-dated before the replay starts"))
	must.Len(t, 120, sink.rows)
	inJobs := 0
	for _, j := range sink.jobs {
		inJobs += j.Job.Requests
	}
	must.Eq(t, 100, inJobs, must.Sprint("history is not published: those requests were served long ago"))
	st := g.Stats()
	must.True(t, st.Done)
	must.Eq(t, int64(100), st.Requests)
	must.Eq(t, start.Add(3*time.Minute), st.SimTime)
}

func TestRunStopsWithTheContext(t *testing.T) {
	start := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	g, err := New(Config{Minutes: []Minute{{start, 1}}, Compression: 1, Tick: time.Millisecond, Batch: 1,
		Models: []Model{{"m", "q", 1}}}, nil, nil)
	must.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	must.ErrorIs(t, g.Run(ctx), context.DeadlineExceeded)
	must.False(t, g.Stats().Done)
}
