package demo

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"sync"
	"time"
)

// Decision is one "calculating scaling target" line of the agent's JSON
// log: the winning check's count and the strategy's Meta, which carries the
// forecast (Demand is the requests per minute the fleet is sized for on
// the way up, Meta demand_up).
type Decision struct {
	At       time.Time
	From, To int64
	Demand   float64 // NaN when the winning check was not a rate check
	Reason   string
}

// ParseDecision reads a decision from one JSON log line.
func ParseDecision(line []byte) (Decision, bool) {
	if !bytes.Contains(line, []byte("calculating scaling target")) {
		return Decision{}, false
	}
	var l struct {
		Message   string         `json:"@message"`
		Timestamp string         `json:"@timestamp"`
		From      float64        `json:"from"`
		To        float64        `json:"to"`
		Reason    string         `json:"reason"`
		Meta      map[string]any `json:"meta"`
	}
	if err := json.Unmarshal(line, &l); err != nil || l.Message != "calculating scaling target" {
		return Decision{}, false
	}
	d := Decision{From: int64(l.From), To: int64(l.To), Reason: l.Reason, Demand: math.NaN()}
	d.At, _ = time.Parse(time.RFC3339Nano, l.Timestamp)
	if v, ok := l.Meta[demandKey].(float64); ok {
		d.Demand = v
	}
	return d, true
}

// logTap passes the agent's output to a file and keeps the latest decision
// and the latest forecast.
type logTap struct {
	out io.Writer

	mu       sync.Mutex
	partial  []byte
	last     Decision
	demand   float64
	seen     int
	failures int
}

func newLogTap(out io.Writer) *logTap { return &logTap{out: out, demand: math.NaN()} }

// Write implements io.Writer.
func (l *logTap) Write(p []byte) (int, error) {
	n, err := l.out.Write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		if d, ok := ParseDecision(line); ok {
			l.last, l.seen = d, l.seen+1
			if !math.IsNaN(d.Demand) {
				l.demand = d.Demand
			}
		} else if bytes.Contains(line, []byte(`"@level":"error"`)) {
			l.failures++
		}
		l.partial = l.partial[i+1:]
	}
	return n, err
}

// Latest returns the last decision, the last forecast demand (NaN before
// the first rate decision), how many decisions and error lines were seen.
func (l *logTap) Latest() (Decision, float64, int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.demand, l.seen, l.failures
}
