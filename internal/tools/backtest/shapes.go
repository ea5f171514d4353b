package backtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// ShapesHeader is the exact header line of a -shapes file.
const ShapesHeader = "name,gpus,workers_per_vm,capacity_per_worker,price_per_hour,lead"

// maxShapeLead bounds a shape's lead: strategy-slope refuses a lead or a
// horizon over 24 hours, and a VM that takes a day to serve is a typo.
const maxShapeLead = 24 * time.Hour

// Shape is a VM type the fleet could run on: a machine with GPUs GPUs
// running WorkersPerVM workers that each serve CapacityPerWorker requests
// per minute, priced PricePerHour per VM and serving Lead after it is
// ordered.
type Shape struct {
	Name              string
	GPUs              int
	WorkersPerVM      int
	CapacityPerWorker float64 // requests per minute
	PricePerHour      float64 // per VM
	Lead              time.Duration
	Line              int // in the file, for messages
}

// CapacityPerVM is what one VM serves: the unit the target scales.
func (s Shape) CapacityPerVM() float64 { return float64(s.WorkersPerVM) * s.CapacityPerWorker }

// ReadShapesFile reads a -shapes CSV file.
func ReadShapesFile(path string) ([]Shape, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-shapes: %w", err)
	}
	defer f.Close()
	shapes, err := ReadShapesCSV(f)
	if err != nil {
		return nil, fmt.Errorf("-shapes %q: %w", path, err)
	}
	return shapes, nil
}

// ReadShapesCSV parses the header ShapesHeader and one shape per row.
// Lines starting with # (after spaces) are comments, blank lines are
// skipped, fields are trimmed; quoting is not supported (a name holds no
// comma). Every row is checked and all problems are returned together,
// each naming its line and field.
func ReadShapesCSV(r io.Reader) ([]Shape, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var (
		shapes []Shape
		errs   []error
		header bool
		line   int
		seen   = map[string]int{}
	)
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !header {
			header = true
			if text != ShapesHeader {
				// Without the right columns no row can be read.
				return nil, fmt.Errorf("line %d: header is %q, want %q", line, text, ShapesHeader)
			}
			continue
		}
		s, err := parseShapeRow(text, line)
		if first, dup := seen[s.Name]; dup && s.Name != "" {
			err = errors.Join(err, fmt.Errorf("line %d: name %q: already used on line %d", line, s.Name, first))
		} else if s.Name != "" {
			seen[s.Name] = line
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		shapes = append(shapes, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if !header {
		return nil, fmt.Errorf("no header: want %q", ShapesHeader)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(shapes) == 0 {
		return nil, fmt.Errorf("line %d: no shapes after the header", line)
	}
	return shapes, nil
}

// parseShapeRow reads one row, reporting every bad field.
func parseShapeRow(text string, line int) (Shape, error) {
	fields := strings.Split(text, ",")
	if want := strings.Count(ShapesHeader, ",") + 1; len(fields) != want {
		return Shape{}, fmt.Errorf("line %d: %d fields, want %d (%s)", line, len(fields), want, ShapesHeader)
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	s := Shape{Name: fields[0], Line: line}
	var errs []error
	bad := func(field, value, want string) {
		errs = append(errs, fmt.Errorf("line %d: %s %q: %s", line, field, value, want))
	}
	if s.Name == "" {
		bad("name", s.Name, "want a name")
	}
	count := func(field, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			bad(field, v, "want a whole number from 1 to 1024")
		}
		return n
	}
	positive := func(field, v string) float64 {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
			bad(field, v, "want a number > 0")
		}
		return x
	}
	s.GPUs = count("gpus", fields[1])
	s.WorkersPerVM = count("workers_per_vm", fields[2])
	s.CapacityPerWorker = positive("capacity_per_worker", fields[3])
	s.PricePerHour = positive("price_per_hour", fields[4])
	lead, err := time.ParseDuration(fields[5])
	switch {
	case err != nil:
		bad("lead", fields[5], "want a duration such as 5m or 90s")
	case lead <= 0 || lead > maxShapeLead:
		bad("lead", fields[5], "want a duration > 0 and at most 24h")
	}
	s.Lead = lead
	return s, errors.Join(errs...)
}
