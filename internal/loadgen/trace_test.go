package loadgen

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func readFixture(t *testing.T) []Minute {
	t.Helper()
	f, err := os.Open("testdata/trace.csv")
	must.NoError(t, err)
	defer f.Close()
	m, err := ReadTrace(f)
	must.NoError(t, err)
	return m
}

func TestReadTraceKeepsEveryMinuteInOrder(t *testing.T) {
	m := readFixture(t)
	must.Len(t, 5, m)
	must.Eq(t, time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC), m[0].Start)
	must.Eq(t, 40.0, m[4].Requests)
}

func TestReadTraceRejectsBadInput(t *testing.T) {
	cases := []struct {
		name, csv, want string
	}{
		{"a wrong header is refused", "time,count\n1995-07-13T04:00:00Z,1\n", "header"},
		{"a negative count names the value", "timestamp,requests\n1995-07-13T04:00:00Z,-3\n", `"-3"`},
		{"a bad timestamp names the value", "timestamp,requests\nyesterday,3\n", `"yesterday"`},
		{"a gap between minutes is refused", "timestamp,requests\n1995-07-13T04:00:00Z,1\n1995-07-13T04:02:00Z,1\n", "does not follow"},
		{"an empty trace is refused", "timestamp,requests\n", "no rows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tc.csv))
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestWindowCutsTheRequestedMinutes(t *testing.T) {
	m := readFixture(t)
	w, err := Window(m, m[1].Start, 3*time.Minute)
	must.NoError(t, err)
	must.Len(t, 3, w)
	must.Eq(t, 20.0, w[0].Requests)
	must.Eq(t, 0.0, w[2].Requests)

	_, err = Window(m, m[3].Start, 5*time.Minute)
	must.ErrorContains(t, err, "outside the trace")
}

func TestScaleToKeepsTheShapeAndHitsTheTotal(t *testing.T) {
	m := ScaleTo(readFixture(t), 1000)
	var sum float64
	for _, x := range m {
		sum += x.Requests
	}
	must.Eq(t, 1000.0, sum)
	must.Eq(t, 2.0, m[1].Requests/m[0].Requests)
	must.Eq(t, 400.0, Peak(m))
}
