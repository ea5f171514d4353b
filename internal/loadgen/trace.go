package loadgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Minute is one bin of a per-minute request trace.
type Minute struct {
	// Start is the beginning of the minute.
	Start time.Time
	// Requests is the number of requests in the minute. It is a float so
	// that a trace scaled by a non-integer factor keeps its exact total.
	Requests float64
}

// ReadTrace reads a CSV trace with the header `timestamp,requests`, one row
// per minute, timestamps in RFC 3339. Rows must be in time order and one
// minute apart: a gap would silently become a minute without traffic.
func ReadTrace(r io.Reader) ([]Minute, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read trace header: %w", err)
	}
	if header[0] != "timestamp" || header[1] != "requests" {
		return nil, fmt.Errorf("trace header is %q, want \"timestamp,requests\"", header)
	}
	var out []Minute
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read trace: %w", err)
		}
		m, err := parseMinute(rec)
		if err != nil {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("trace line %d: %w", line, err)
		}
		if n := len(out); n > 0 && !m.Start.Equal(out[n-1].Start.Add(time.Minute)) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("trace line %d: timestamp %s does not follow %s by one minute",
				line, m.Start.Format(time.RFC3339), out[n-1].Start.Format(time.RFC3339))
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("trace has no rows")
	}
	return out, nil
}

func parseMinute(rec []string) (Minute, error) {
	ts, err := time.Parse(time.RFC3339, rec[0])
	if err != nil {
		return Minute{}, fmt.Errorf("timestamp %q: %w", rec[0], err)
	}
	n, err := strconv.ParseFloat(rec[1], 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return Minute{}, fmt.Errorf("requests %q is not a non-negative number", rec[1])
	}
	return Minute{Start: ts.UTC(), Requests: n}, nil
}

// Window returns the minutes in [start, start+d). It fails when the trace
// does not cover the whole window, because a replay of a partial day would
// report numbers for a day that never happened.
func Window(trace []Minute, start time.Time, d time.Duration) ([]Minute, error) {
	if len(trace) == 0 {
		return nil, errors.New("empty trace")
	}
	end := start.Add(d)
	first, last := trace[0].Start, trace[len(trace)-1].Start.Add(time.Minute)
	if start.Before(first) || end.After(last) {
		return nil, fmt.Errorf("window %s to %s is outside the trace (%s to %s)",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339),
			first.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	i := int(start.Sub(first) / time.Minute)
	j := int(end.Sub(first) / time.Minute)
	out := make([]Minute, j-i)
	copy(out, trace[i:j])
	return out, nil
}

// ScaleTo multiplies every minute so that the total is total requests. A
// trace without any request cannot be scaled and is returned as is.
func ScaleTo(minutes []Minute, total float64) []Minute {
	var sum float64
	for _, m := range minutes {
		sum += m.Requests
	}
	out := make([]Minute, len(minutes))
	copy(out, minutes)
	if sum == 0 {
		return out
	}
	f := total / sum
	for i := range out {
		out[i].Requests *= f
	}
	return out
}

// Peak returns the largest per-minute request count.
func Peak(minutes []Minute) float64 {
	var p float64
	for _, m := range minutes {
		p = math.Max(p, m.Requests)
	}
	return p
}
