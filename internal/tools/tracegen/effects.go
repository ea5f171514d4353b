package tracegen

// effects collects the events laid over the base rate of every minute.
// Crowds add up: two overlapping matches draw both audiences, so their
// excesses over the base are summed. Factors multiply everything: an outage
// silences the bursts in it too, and a goal lifts the whole minute.
type effects struct {
	excess []float64 // the rate is multiplied by 1 + excess
	factor []float64
}

func newEffects(n int) effects {
	fx := effects{excess: make([]float64, n), factor: make([]float64, n)}
	for i := range fx.factor {
		fx.factor[i] = 1
	}
	return fx
}

// add raises minute i by v times the base rate; a minute outside the trace
// is ignored, so an event may start before or run past it.
func (fx effects) add(i int, v float64) {
	if i >= 0 && i < len(fx.excess) {
		fx.excess[i] += v
	}
}

// scale multiplies the minutes [from, from+n) by f.
func (fx effects) scale(from, n int, f float64) {
	for i := max(from, 0); i < min(from+n, len(fx.factor)); i++ {
		fx.factor[i] *= f
	}
}

// apply multiplies the rate by the events.
func (fx effects) apply(rate []float64) {
	for i := range rate {
		rate[i] *= (1 + fx.excess[i]) * fx.factor[i]
	}
}
