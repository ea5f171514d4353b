// Command tracegen writes a seeded, reproducible synthetic per-minute
// request trace for the backtest: a business-hours B2B API or a sports site
// with growth and flash crowds. The traces are held-out checks next to the
// real NASA-HTTP trace, never a replacement for it.
//
//	go run ./cmd/tracegen -profile business -days 28 -daily 2000000 \
//	    -start 2026-03-02T05:00:00Z -tz America/New_York -seed 1 -out /tmp/traces/business-a.csv.gz
//
// All the logic lives in internal/tools/tracegen; this command parses flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "tracegen:", err)
		os.Exit(1)
	}
}

// flagOut is the only flag that is not a profile setting.
const flagOut = "out"

// options are the parsed flags.
type options struct {
	profile tracegen.Profile
	out     string
}

// parseFlags reads the flags. The profile's flags are read as text and
// handed to tracegen.ParseProfile, so that a bad value is reported with all
// the others rather than stopping the parse at the first.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("tracegen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String(tracegen.KeyProfile, "", "traffic `model`: business or flashcrowd (default "+tracegen.DefaultProfile+")")
	fs.String(tracegen.KeyDays, "", fmt.Sprintf("trace length in `days` (default %d for business, %d for flashcrowd)",
		tracegen.DefaultBusinessDays, tracegen.DefaultFlashcrowdDays))
	fs.String(tracegen.KeyDaily, "", fmt.Sprintf("mean `requests` per day over the whole trace (default %d)", tracegen.DefaultDaily))
	fs.String(tracegen.KeyStart, "", "first minute, an RFC 3339 `time` (default "+tracegen.DefaultStart+")")
	fs.String(tracegen.KeyTimeZone, "", "IANA `zone` of the daily cycle and kick-off times (default "+tracegen.DefaultTimeZone+")")
	fs.String(tracegen.KeySeed, "", fmt.Sprintf("random `seed`: the same flags and seed give the same file (default %d)", tracegen.DefaultSeed))
	fs.String(tracegen.KeyGrowth, "", fmt.Sprintf("flashcrowd only: growth `factor`, the level at the end of the season over the start (default %d)", tracegen.DefaultGrowth))
	out := fs.String(flagOut, "", "write the trace to this `file` (gzip when it ends in .gz)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	// Only the flags given are passed on, so ParseProfile applies the
	// profile's own defaults (28 or 87 days, growth only for flashcrowd).
	settings := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != flagOut {
			settings[f.Name] = f.Value.String()
		}
	})
	p, err := tracegen.ParseProfile(settings)
	errs := []error{err}
	if *out == "" {
		errs = append(errs, errors.New("-out: required, the file to write (.csv, or .csv.gz for gzip)"))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	return options{profile: p, out: *out}, errors.Join(errs...)
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	counts, start, err := tracegen.Generate(o.profile)
	if err != nil {
		return err
	}
	if err := tracegen.WriteFile(o.out, start, counts); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", o.out, tracegen.Summarize(start, counts))
	return err
}
