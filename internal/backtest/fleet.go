package backtest

// cohort is a group of workers ordered at the same time that start serving
// at minute readyAt.
type cohort struct {
	readyAt int
	n       int64
}

// fleet is the simulated worker pool behind one autoscaler. The autoscaler
// sees target (what the target plugin's Status would report); the queue sees
// serving.
type fleet struct {
	target  int64
	serving int64
	// booting holds the ordered workers not yet serving, by ascending
	// readyAt. Orders are placed in time order with the same lead, so
	// appending keeps it sorted.
	booting []cohort
}

func newFleet(n int64) *fleet {
	return &fleet{target: n, serving: n, booting: make([]cohort, 0, 8)}
}

// scaleTo changes the target count. More workers start serving at minute
// readyAt; fewer workers take effect at once, cancelling the workers still
// booting first (the latest order first, the one furthest from serving),
// then stopping serving workers.
func (f *fleet) scaleTo(n int64, readyAt int) {
	switch {
	case n > f.target:
		add := n - f.target
		if k := len(f.booting); k > 0 && f.booting[k-1].readyAt == readyAt {
			f.booting[k-1].n += add
		} else {
			f.booting = append(f.booting, cohort{readyAt: readyAt, n: add})
		}
	case n < f.target:
		remove := f.target - n
		for remove > 0 && len(f.booting) > 0 {
			last := &f.booting[len(f.booting)-1]
			take := min(remove, last.n)
			last.n -= take
			remove -= take
			if last.n == 0 {
				f.booting = f.booting[:len(f.booting)-1]
			}
		}
		f.serving -= remove
	}
	f.target = n
}

// advance moves the workers ready at or before minute m into service.
func (f *fleet) advance(m int) {
	done := 0
	for done < len(f.booting) && f.booting[done].readyAt <= m {
		f.serving += f.booting[done].n
		done++
	}
	if done > 0 {
		f.booting = append(f.booting[:0], f.booting[done:]...)
	}
}

// bootingCount is the number of workers ordered but not yet serving.
func (f *fleet) bootingCount() int64 { return f.target - f.serving }
