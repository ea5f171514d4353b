package backtest

// cohort is a group of workers that change state together: ordered at the
// same time and serving from minute at (booting), or drained at the same
// time and deleted at minute at (draining).
type cohort struct {
	at int
	n  int64
}

// fleet is the simulated worker pool behind one autoscaler, modelled on
// what target-gce-gpu does. The autoscaler sees target (what the target's
// Status reports: the MIGs' target sizes); the queue sees serving; the bill
// counts serving, booting and draining workers.
//
// A scale-out orders workers that serve from their ready minute. A scale-in
// drains and deletes only serving workers (RUNNING instances with a ready
// Nomad node): workers still booting keep booting and are billed, and when
// fewer serving workers exist than the scale-in asks for, only those are
// removed, so the target stays above the asked count. A drained worker stops
// taking work at once and is billed until its VM is deleted.
type fleet struct {
	target  int64
	serving int64
	// booting holds the ordered workers not yet serving and draining the
	// drained workers not yet deleted, each by ascending at. Orders and
	// drains are placed in time order with a fixed delay each, so
	// appending keeps them sorted.
	booting  []cohort
	draining []cohort
	// pool is the standby pool of stopped VMs (pool.go); nil without one.
	pool *standbyPool
}

func newFleet(n int64) *fleet {
	return &fleet{target: n, serving: n, booting: make([]cohort, 0, 8), draining: make([]cohort, 0, 8)}
}

// scaleTo asks for n workers. More workers start serving at minute readyAt;
// fewer drain serving workers now, deleted at minute deleteAt. It returns
// the new target, which is above n when a scale-in found too few serving
// workers to remove.
func (f *fleet) scaleTo(n int64, readyAt, deleteAt int) int64 {
	switch {
	case n > f.target:
		f.booting = addCohort(f.booting, readyAt, n-f.target)
		f.target = n
	case n < f.target:
		remove := min(f.target-n, f.serving)
		if remove > 0 {
			f.serving -= remove
			f.target -= remove
			f.draining = addCohort(f.draining, deleteAt, remove)
		}
	}
	return f.target
}

func addCohort(cs []cohort, at int, n int64) []cohort {
	if k := len(cs); k > 0 && cs[k-1].at == at {
		cs[k-1].n += n
		return cs
	}
	return append(cs, cohort{at: at, n: n})
}

// advance moves the workers ready at or before minute m into service and
// forgets the drained workers deleted at or before it.
func (f *fleet) advance(m int) {
	var ready int64
	f.booting, ready = dueCohorts(f.booting, m)
	f.serving += ready
	f.draining, _ = dueCohorts(f.draining, m)
	if f.pool != nil {
		f.pool.advance(m)
	}
}

// dueCohorts removes the cohorts due at or before minute m and returns how
// many workers they held.
func dueCohorts(cs []cohort, m int) ([]cohort, int64) {
	done := 0
	var n int64
	for done < len(cs) && cs[done].at <= m {
		n += cs[done].n
		done++
	}
	if done == 0 {
		return cs, 0
	}
	return append(cs[:0], cs[done:]...), n
}

// bootingCount is the number of workers ordered but not yet serving.
func (f *fleet) bootingCount() int64 { return f.target - f.serving }

// drainingCount is the number of drained workers whose VMs still run.
func (f *fleet) drainingCount() int64 {
	var n int64
	for _, c := range f.draining {
		n += c.n
	}
	return n
}

// billed is every worker whose VM runs: serving, booting and draining.
func (f *fleet) billed() int64 { return f.target + f.drainingCount() }
