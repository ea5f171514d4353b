package backtest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Trace is a per-minute request history: Counts[i] requests arrived in the
// minute that starts at Start + i minutes.
type Trace struct {
	Start  time.Time
	Counts []float64
}

// Len is the number of minutes in the trace.
func (t Trace) Len() int { return len(t.Counts) }

// MinuteStart returns the start of minute i.
func (t Trace) MinuteStart(i int) time.Time { return t.Start.Add(time.Duration(i) * time.Minute) }

// Total is the number of requests in the trace.
func (t Trace) Total() float64 {
	var s float64
	for _, c := range t.Counts {
		s += c
	}
	return s
}

// Scaled returns a copy of the trace with every minute multiplied so that the
// mean is daily requests per day. A zero daily returns the trace unchanged.
func (t Trace) Scaled(daily float64) (Trace, float64, error) {
	if daily == 0 {
		return t, 1, nil
	}
	total := t.Total()
	if total <= 0 || len(t.Counts) == 0 {
		return Trace{}, 0, errors.New("cannot scale a trace without requests")
	}
	factor := daily / (total / float64(len(t.Counts)) * 1440)
	out := Trace{Start: t.Start, Counts: make([]float64, len(t.Counts))}
	for i, c := range t.Counts {
		out.Counts[i] = c * factor
	}
	return out, factor, nil
}

// ReadTraceFile reads a CSV trace from a file; a name ending in .gz is
// decompressed first.
func ReadTraceFile(path string) (Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return Trace{}, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return Trace{}, fmt.Errorf("trace %q: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	t, err := ReadTraceCSV(r)
	if err != nil {
		return Trace{}, fmt.Errorf("trace %q: %w", path, err)
	}
	return t, nil
}

// ReadTraceCSV parses the header `timestamp,requests` and one row per minute
// with an RFC 3339 timestamp on a whole minute and a finite, non-negative
// count. A gap, a duplicate or an out-of-order row is an error naming the
// line: a silent repair would make the replay lie about the traffic.
func ReadTraceCSV(r io.Reader) (Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return Trace{}, fmt.Errorf("line 1: %w", err)
		}
		return Trace{}, errors.New("line 1: empty input, want header \"timestamp,requests\"")
	}
	if h := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff")); h != "timestamp,requests" {
		return Trace{}, fmt.Errorf("line 1: header is %q, want \"timestamp,requests\"", h)
	}
	var t Trace
	var prev time.Time
	line := 1
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		ts, v, err := parseTraceRow(text)
		if err != nil {
			return Trace{}, fmt.Errorf("line %d: %w", line, err)
		}
		if len(t.Counts) == 0 {
			t.Start = ts
		} else if d := ts.Sub(prev); d != time.Minute {
			return Trace{}, fmt.Errorf("line %d: timestamp %s follows %s: %s", line,
				ts.Format(time.RFC3339), prev.Format(time.RFC3339), orderProblem(d))
		}
		prev = ts
		t.Counts = append(t.Counts, v)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(t.Counts) == 0 {
		return Trace{}, fmt.Errorf("line %d: no rows after the header", line+1)
	}
	return t, nil
}

func parseTraceRow(text string) (time.Time, float64, error) {
	fields := strings.Split(text, ",")
	if len(fields) != 2 {
		return time.Time{}, 0, fmt.Errorf("row %q has %d fields, want 2", text, len(fields))
	}
	ts, err := time.Parse(time.RFC3339, strings.TrimSpace(fields[0]))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("timestamp %q is not RFC 3339", fields[0])
	}
	if ts.Truncate(time.Minute) != ts {
		return time.Time{}, 0, fmt.Errorf("timestamp %q is not the start of a minute", fields[0])
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return time.Time{}, 0, fmt.Errorf("requests %q is not a finite number >= 0", fields[1])
	}
	return ts.UTC(), v, nil
}

func orderProblem(d time.Duration) string {
	switch {
	case d == 0:
		return "duplicate minute"
	case d < 0:
		return "rows are not sorted by time"
	default:
		return fmt.Sprintf("gap of %s (one row per minute required; write 0 for a minute without requests)", d-time.Minute)
	}
}
