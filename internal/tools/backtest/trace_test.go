package backtest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestReadTraceCSVReadsOneRowPerMinute(t *testing.T) {
	t.Parallel()
	in := "timestamp,requests\n2026-01-05T08:00:00Z,3\n2026-01-05T08:01:00Z,0\n2026-01-05T08:02:00+00:00,7.5\n"
	tr, err := ReadTraceCSV(strings.NewReader(in))
	must.NoError(t, err)
	must.Eq(t, time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), tr.Start)
	must.Eq(t, []float64{3, 0, 7.5}, tr.Counts)
	must.Eq(t, time.Date(2026, 1, 5, 8, 2, 0, 0, time.UTC), tr.MinuteStart(2))
}

func TestReadTraceCSVRejectsBadInputNamingTheLine(t *testing.T) {
	t.Parallel()
	const h = "timestamp,requests\n"
	cases := []struct {
		name, in, want string
	}{
		{"an empty file", "", "line 1: empty input"},
		{"a wrong header", "time,count\n", `line 1: header is "time,count"`},
		{"a timestamp that is not RFC 3339", h + "2026-01-05 08:00,1\n", `line 2: timestamp "2026-01-05 08:00" is not RFC 3339`},
		{"a timestamp inside a minute", h + "2026-01-05T08:00:30Z,1\n", "line 2: timestamp \"2026-01-05T08:00:30Z\" is not the start of a minute"},
		{"a negative count", h + "2026-01-05T08:00:00Z,-1\n", `line 2: requests "-1" is not a finite number >= 0`},
		{"a NaN count", h + "2026-01-05T08:00:00Z,NaN\n", `line 2: requests "NaN"`},
		{"a text count", h + "2026-01-05T08:00:00Z,many\n", `line 2: requests "many"`},
		{"a missing field", h + "2026-01-05T08:00:00Z\n", "line 2: row \"2026-01-05T08:00:00Z\" has 1 fields, want 2"},
		{"a gap of two minutes", h + "2026-01-05T08:00:00Z,1\n2026-01-05T08:03:00Z,1\n", "line 3: timestamp 2026-01-05T08:03:00Z follows 2026-01-05T08:00:00Z: gap of 2m0s"},
		{"a duplicate minute", h + "2026-01-05T08:00:00Z,1\n2026-01-05T08:01:00Z,1\n2026-01-05T08:01:00Z,1\n", "line 4: timestamp 2026-01-05T08:01:00Z follows 2026-01-05T08:01:00Z: duplicate minute"},
		{"rows out of order", h + "2026-01-05T08:01:00Z,1\n2026-01-05T08:00:00Z,1\n", "line 3: timestamp 2026-01-05T08:00:00Z follows 2026-01-05T08:01:00Z: rows are not sorted by time"},
		{"only a header", h, "no rows after the header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTraceCSV(strings.NewReader(tc.in))
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestScaledTraceHasTheRequestedDailyMean(t *testing.T) {
	t.Parallel()
	tr := Trace{Start: time.Unix(0, 0).UTC(), Counts: []float64{1, 2, 3, 2}} // mean 2/min = 2880/day
	s, factor, err := tr.Scaled(5760)
	must.NoError(t, err)
	must.Eq(t, 2.0, factor)
	must.Eq(t, []float64{2, 4, 6, 4}, s.Counts)
	must.Eq(t, []float64{1, 2, 3, 2}, tr.Counts) // the original is untouched

	_, _, err = Trace{Counts: []float64{0, 0}}.Scaled(100)
	must.ErrorContains(t, err, "without requests")
}

func TestReadTraceFileDecompressesGzip(t *testing.T) {
	t.Parallel()
	tr, err := ReadTraceFile("../../../data/nasa-http-jul95.csv.gz")
	must.NoError(t, err)
	must.Eq(t, 39692, tr.Len())
	must.Eq(t, 1891672.0, tr.Total())
	must.Eq(t, time.Date(1995, 7, 1, 4, 0, 0, 0, time.UTC), tr.Start)
}

// FuzzReadTraceCSV: any input either fails with a line-numbered error or
// yields a trace of finite, non-negative counts.
func FuzzReadTraceCSV(f *testing.F) {
	f.Add("timestamp,requests\n2026-01-05T08:00:00Z,3\n2026-01-05T08:01:00Z,0\n")
	f.Add("timestamp,requests\n2026-01-05T08:00:00Z,1e308\n2026-01-05T08:02:00Z,1\n")
	f.Add("timestamp,requests\r\n2026-01-05T08:00:00+05:30,1\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ReadTraceCSV(strings.NewReader(in))
		if err != nil {
			must.StrContains(t, err.Error(), "line ")
			return
		}
		must.Positive(t, tr.Len())
		for _, c := range tr.Counts {
			must.True(t, c >= 0 && !math.IsInf(c, 0) && !math.IsNaN(c))
		}
	})
}
