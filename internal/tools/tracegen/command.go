package tracegen

// The command line of cmd/tracegen.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

// flagOut is the only flag that is not a profile setting.
const flagOut = "out"

// options are the parsed flags.
type options struct {
	profile Profile
	out     string
}

// parseFlags reads the flags. The profile's flags are read as text and
// handed to ParseProfile, so that a bad value is reported with all
// the others rather than stopping the parse at the first.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("tracegen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String(KeyProfile, "", "traffic `model`: business or flashcrowd (default "+DefaultProfile+")")
	fs.String(KeyDays, "", fmt.Sprintf("trace length in `days` (default %d for business, %d for flashcrowd)",
		DefaultBusinessDays, DefaultFlashcrowdDays))
	fs.String(KeyDaily, "", fmt.Sprintf("mean `requests` per day over the whole trace (default %d)", DefaultDaily))
	fs.String(KeyStart, "", "first minute, an RFC 3339 `time` (default "+DefaultStart+")")
	fs.String(KeyTimeZone, "", "IANA `zone` of the daily cycle and kick-off times (default "+DefaultTimeZone+")")
	fs.String(KeySeed, "", fmt.Sprintf("random `seed`: the same flags and seed give the same file (default %d)", DefaultSeed))
	fs.String(KeyGrowth, "", fmt.Sprintf("flashcrowd only: growth `factor`, the level at the end of the season over the start (default %d)", DefaultGrowth))
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
	p, err := ParseProfile(settings)
	errs := []error{err}
	if *out == "" {
		errs = append(errs, errors.New("-out: required, the file to write (.csv, or .csv.gz for gzip)"))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	return options{profile: p, out: *out}, errors.Join(errs...)
}

// Main is cmd/tracegen (see internal/tools/cli).
func Main(_ context.Context, env cli.Env) error {
	stdout := env.Stdout
	o, err := parseFlags(env.Args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	counts, start, err := Generate(o.profile)
	if err != nil {
		return err
	}
	if err := WriteFile(o.out, start, counts); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", o.out, Summarize(start, counts))
	return err
}
