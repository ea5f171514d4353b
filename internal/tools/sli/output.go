package sli

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/outfiles"
)

// Output file names in the -out directory.
const (
	JSONFile  = "sli.json"
	CSVFile   = "sli.csv"
	ChartFile = "sli.png"
)

// WriteJSON writes sli.json.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the first line of sli.csv: the JSON names of a day.
var csvHeader = []string{"date", "requests", "business_requests", "failed", "unrecorded",
	"availability_pct", "latency_pct", "p95_s", "met", "budget_remaining_pct", "partial",
	"spend_usd", "spend_per_1k_requests"}

// WriteCSV writes sli.csv: one line per day, an empty cell where the JSON
// has null.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	for _, d := range r.Days {
		met := ""
		if d.Met != nil {
			met = strconv.FormatBool(*d.Met)
		}
		err := cw.Write([]string{d.Date, strconv.FormatInt(d.Requests, 10), strconv.FormatInt(d.BusinessRequests, 10),
			strconv.FormatInt(d.Failed, 10), strconv.FormatInt(d.Unrecorded, 10),
			num(d.AvailabilityPct), num(d.LatencyPct), num(d.P95S), met, num(d.BudgetRemainingPct), strconv.FormatBool(d.Partial),
			num(d.SpendUSD), num(d.SpendPer1k)})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFiles writes sli.json, sli.csv and sli.png into dir. Each is written
// under a temporary name and all are renamed into place only once all were
// written, so a failed run leaves neither a truncated file nor a new file
// beside an older run's.
func (r *Report) WriteFiles(dir string) error {
	return outfiles.Write("-out", dir,
		outfiles.File{Name: JSONFile, Write: r.WriteJSON},
		outfiles.File{Name: CSVFile, Write: r.WriteCSV},
		outfiles.File{Name: ChartFile, Write: r.WriteChart})
}
