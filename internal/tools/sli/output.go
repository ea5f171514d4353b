package sli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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
	"availability_pct", "latency_pct", "p95_s", "met", "budget_remaining_pct", "partial"}

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
			num(d.AvailabilityPct), num(d.LatencyPct), num(d.P95S), met, num(d.BudgetRemainingPct), strconv.FormatBool(d.Partial)})
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
	return writeAll(dir, []outputFile{
		{JSONFile, r.WriteJSON},
		{CSVFile, r.WriteCSV},
		{ChartFile, r.WriteChart},
	})
}

// outputFile is one file of -out and how to write it.
type outputFile struct {
	name  string
	write func(io.Writer) error
}

// writeAll writes files into dir, all or none.
func writeAll(dir string, files []outputFile) (err error) {
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(filepath.Join(dir, f.name), f.write)
		if err != nil {
			return err
		}
		temps = append(temps, tmp)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// writeTemp writes what path will hold into a temporary file beside it and
// returns the temporary file's name.
func writeTemp(path string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; the outputs are reports to share.
	err = errors.Join(write(f), f.Chmod(0o644), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}
