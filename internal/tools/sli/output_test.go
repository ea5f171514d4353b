package sli

import (
	"bytes"
	"flag"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// handMadeReport is a four-day report built from hand-made aggregates: a
// day that meets, one that misses on availability, one on latency, and
// one without business requests.
func handMadeReport() *Report {
	days := []DayCounts{
		{Date: date(2026, 11, 2), Requests: 1206, Business: Counts{Requests: 1000, Unrecorded: 3, Errors: 1, Timed: 996, WithinSLO: 996}, P95ms: 1900},
		{Date: date(2026, 11, 3), Requests: 100, Business: Counts{Requests: 100, Errors: 3, Timed: 97, WithinSLO: 97}, P95ms: 100},
		{Date: date(2026, 11, 4), Requests: 100, Business: Counts{Requests: 100, Timed: 100, WithinSLO: 90}, P95ms: 4000},
		{Date: date(2026, 11, 5), Requests: 5, P95ms: -1, Partial: true},
	}
	return &Report{
		From: "2026-11-02", To: "2026-11-05", TimeZone: "Asia/Kolkata", BusinessHours: "08:00-22:00",
		AvailabilitySLOPct: 99, LatencySLOS: 3, RequestsTable: "api_requests",
		ReadFrom: "2026-11-02T00:00:00+05:30", ReadUntil: "2026-11-05T12:00:00+05:30",
		Scoring:  Score(slo99, days, Counts{Requests: 4, Errors: 1}, Counts{}),
		RowsRead: 1411, Elapsed: 1500 * time.Millisecond,
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	must.NoError(t, err)
	must.Eq(t, string(want), string(got))
}

func TestTheJSONHasTheDaysTheBudgetAndNullWhereThereIsNothingToMeasure(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	must.NoError(t, handMadeReport().WriteJSON(&b))
	golden(t, "report.json", b.Bytes())
}

func TestTheCSVHasOneLinePerDayAndEmptyCellsForNull(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	must.NoError(t, handMadeReport().WriteCSV(&b))
	golden(t, "report.csv", b.Bytes())
}

func TestTheTableSaysWhichDaysMissedAndWhy(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	must.NoError(t, handMadeReport().WriteTable(&b))
	golden(t, "report.txt", b.Bytes())
}

func TestTheChartIsAPNG(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	must.NoError(t, handMadeReport().WriteChart(&b))
	img, err := png.Decode(&b)
	must.NoError(t, err)
	must.Eq(t, 1152, img.Bounds().Dx()) // 12 inches at 96 dpi
}

func TestTheChartOfAPeriodWithoutAnyBusinessRequestIsDrawnToo(t *testing.T) {
	t.Parallel()
	r := handMadeReport()
	r.Scoring = Score(slo99, []DayCounts{{Date: date(2026, 11, 5), Requests: 5, P95ms: -1}}, Counts{}, Counts{})
	must.NoError(t, r.WriteChart(io.Discard))
}

func TestTheFilesAreWrittenAndReplacedWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := handMadeReport()
	must.NoError(t, r.WriteFiles(dir))
	for _, name := range []string{JSONFile, CSVFile, ChartFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		must.NoError(t, err)
		must.Positive(t, info.Size())
		must.Eq(t, os.FileMode(0o644), info.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.Len(t, 3, entries) // no temporary file left behind
}
