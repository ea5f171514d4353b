package loadgen

import "time"

// planner decides, without I/O, which rows and jobs a tick produces.
type planner struct {
	minutes    []Minute
	models     []Model
	shares     []float64
	batch      int
	start, end time.Time
	carries    []carry
	pending    [][]time.Time // per model, the created_at of the rows not yet in a job
}

func newPlanner(cfg Config) *planner {
	var sum float64
	for _, m := range cfg.Models {
		sum += m.Share
	}
	shares := make([]float64, len(cfg.Models))
	for i, m := range cfg.Models {
		shares[i] = m.Share / sum
	}
	last := cfg.Minutes[len(cfg.Minutes)-1]
	return &planner{
		minutes: cfg.Minutes,
		models:  cfg.Models,
		shares:  shares,
		batch:   cfg.Batch,
		start:   cfg.Minutes[0].Start,
		end:     last.Start.Add(time.Minute),
		carries: make([]carry, len(cfg.Models)),
		pending: make([][]time.Time, len(cfg.Models)),
	}
}

// step returns the requests of the simulated interval [simFrom, simTo),
// stamped evenly over the real interval [realFrom, realTo), and the full
// jobs they complete. With flush, partial batches are published too.
func (p *planner) step(simFrom, simTo, realFrom, realTo time.Time, flush bool) ([]Request, []QueuedJob) {
	total := Expected(p.minutes, simFrom, simTo)
	var rows []Request
	var jobs []QueuedJob
	span := realTo.Sub(realFrom)
	for i, m := range p.models {
		k := p.carries[i].Take(total * p.shares[i])
		for j := 0; j < k; j++ {
			at := realFrom.Add(time.Duration((float64(j) + 0.5) / float64(k) * float64(span)))
			rows = append(rows, Request{At: at, Model: m.Name})
			p.pending[i] = append(p.pending[i], at)
		}
		for len(p.pending[i]) >= p.batch || (flush && len(p.pending[i]) > 0) {
			n := min(len(p.pending[i]), p.batch)
			jobs = append(jobs, QueuedJob{Queue: m.Queue, Job: Job{Model: m.Name, Requests: n, EnqueuedAt: realTo,
				FirstAt: p.pending[i][0], LastAt: p.pending[i][n-1]}})
			p.pending[i] = p.pending[i][n:]
		}
	}
	return rows, jobs
}
