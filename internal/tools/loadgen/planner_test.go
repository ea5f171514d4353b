package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestExpectedIntegratesPartialMinutes(t *testing.T) {
	m := readFixture(t)
	t0 := m[0].Start
	cases := []struct {
		name     string
		from, to time.Duration
		want     float64
	}{
		{"a whole minute gives its count", 0, time.Minute, 10},
		{"half of a minute gives half its count", 90 * time.Second, 2 * time.Minute, 10},
		{"an interval across minutes adds the parts", 30 * time.Second, 150 * time.Second, 5 + 20 + 15},
		{"before the trace there is nothing", -time.Hour, 0, 0},
		{"after the trace there is nothing", 5 * time.Minute, time.Hour, 0},
		{"an empty interval gives nothing", time.Minute, time.Minute, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Expected(m, t0.Add(tc.from), t0.Add(tc.to))
			must.True(t, math.Abs(got-tc.want) < 1e-9, must.Sprintf("got %v want %v", got, tc.want))
		})
	}
}

func TestClockRoundTrips(t *testing.T) {
	c := Clock{RealStart: time.Unix(1000, 0), SimStart: time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC), Compression: 300}
	real := time.Unix(1002, 0)
	must.Eq(t, c.SimStart.Add(10*time.Minute), c.Sim(real))
	must.Eq(t, real, c.Real(c.Sim(real)))
}

func TestPlannerEmitsEveryRequestOnceAcrossUnevenTicks(t *testing.T) {
	m := readFixture(t) // 100 requests over 5 minutes
	cfg := Config{Minutes: m, Compression: 60, Tick: time.Second, Batch: 7,
		Models: []Model{{"facematch", "ekyc.facematch", 3}, {"ocr", "ekyc.ocr", 1}}}
	must.NoError(t, cfg.Validate())
	p := newPlanner(cfg)
	realStart := time.Unix(0, 0)
	clock := Clock{RealStart: realStart, SimStart: p.start, Compression: 60}
	var rows []Request
	var jobs []QueuedJob
	prev := realStart
	for _, step := range []time.Duration{300, 1700, 40, 999, 2000, 61, 3000} {
		now := prev.Add(step * time.Millisecond)
		simNow := earlier(clock.Sim(now), p.end)
		last := !simNow.Before(p.end)
		r, j := p.step(clock.Sim(prev), simNow, prev, now, last)
		for _, x := range r {
			must.True(t, !x.At.Before(prev) && x.At.Before(now), must.Sprint("a row is stamped inside its tick"))
		}
		rows, jobs = append(rows, r...), append(jobs, j...)
		prev = now
		if last {
			break
		}
	}
	must.Len(t, 100, rows)
	perModel := map[string]int{}
	for _, r := range rows {
		perModel[r.Model]++
	}
	must.Eq(t, map[string]int{"facematch": 75, "ocr": 25}, perModel)
	inJobs := map[string]int{}
	for _, j := range jobs {
		must.LessEq(t, 7, j.Job.Requests)
		must.Eq(t, "ekyc."+j.Job.Model, j.Queue)
		// A job names its rows: the model's rows from FirstAt to LastAt
		// are exactly its Requests, in the order they were written.
		var own []Request
		for _, r := range rows {
			if r.Model == j.Job.Model && !r.At.Before(j.Job.FirstAt) && !r.At.After(j.Job.LastAt) {
				own = append(own, r)
			}
		}
		must.Len(t, j.Job.Requests, own)
		inJobs[j.Job.Model] += j.Job.Requests
	}
	must.Eq(t, perModel, inJobs)
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	err := Config{Compression: -1, Batch: 0, Models: []Model{{Name: "x"}}}.Validate()
	for _, want := range []string{"no minutes", "compression -1", "tick 0s", "batch 0", `model "x"`} {
		must.ErrorContains(t, err, want)
	}
}

func TestJobRoundTrips(t *testing.T) {
	j := Job{Model: "ocr", Requests: 25, EnqueuedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		FirstAt: time.Date(2026, 1, 2, 3, 4, 4, 0, time.UTC), LastAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	got, err := DecodeJob(j.Encode())
	must.NoError(t, err)
	must.Eq(t, j, got)
	_, err = DecodeJob([]byte(`{"model":"ocr","requests":0}`))
	must.ErrorContains(t, err, "positive")
	_, err = DecodeJob([]byte(`not json`))
	must.ErrorContains(t, err, `"not json"`)
}

func TestRedactURLHidesThePassword(t *testing.T) {
	got := RedactURL("amqp://guest:secret@127.0.0.1:5672/")
	must.StrNotContains(t, got, "secret")
	must.StrContains(t, got, "127.0.0.1:5672")
}
