package tracegen

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	// The zone database is embedded so that -tz works on a machine (or in a
	// container) without one installed.
	_ "time/tzdata"
)

// Profile names: the traffic models this package generates.
const (
	// Business is a B2B API used in business hours in one time zone.
	Business = "business"
	// Flashcrowd is a sports or event site with 100x growth, scheduled
	// matches and unscheduled flash crowds.
	Flashcrowd = "flashcrowd"
)

// Keys of the settings ParseProfile reads. They are the flag names of
// cmd/tracegen, and every error names its setting as that flag, so a user
// sees exactly what to fix.
const (
	KeyProfile  = "profile"
	KeyDays     = "days"
	KeyDaily    = "daily"
	KeyStart    = "start"
	KeyTimeZone = "tz"
	KeySeed     = "seed"
	KeyGrowth   = "growth"
)

// Defaults of the settings, beside the keys they fill.
const (
	DefaultProfile = Business
	// DefaultBusinessDays is four weeks, the length of "another month" of
	// business-hours traffic.
	DefaultBusinessDays = 28
	// DefaultFlashcrowdDays is the length of the 1998 World Cup web trace.
	DefaultFlashcrowdDays = 87
	DefaultDaily          = 2_000_000
	// DefaultStart is a Monday.
	DefaultStart    = "2026-03-02T00:00:00Z"
	DefaultTimeZone = "UTC"
	DefaultSeed     = 1
	// DefaultGrowth is the World Cup site's growth from its quiet start to
	// the end of the tournament.
	DefaultGrowth = 100
)

// Bounds of the settings.
const (
	MaxDays = 3660
	// MinFlashcrowdDays leaves room for a first week, a season and a last
	// week, which the flashcrowd profile is made of.
	MinFlashcrowdDays = 14
	MinDaily          = 1
	MaxDaily          = 1e10
	MinGrowth         = 1
	MaxGrowth         = 1e4
	// MinStartYear and MaxStartYear keep every timestamp an ordinary
	// four-digit RFC 3339 time.
	MinStartYear = 1900
	MaxStartYear = 2999
)

// keys lists every known setting, for the unknown-key check.
var keys = []string{KeyProfile, KeyDays, KeyDaily, KeyStart, KeyTimeZone, KeySeed, KeyGrowth}

// Profile is the configuration of one synthetic trace. Start from Defaults
// or ParseProfile: the zero value is not valid.
type Profile struct {
	// Name is the traffic model: Business or Flashcrowd.
	Name string
	// Days is the length of the trace; every day is 1440 minutes, whatever
	// the local clock does at a daylight-saving change.
	Days int
	// Daily is the mean number of requests per day over the whole trace.
	Daily float64
	// Start is the first minute of the trace; the file is written in UTC.
	Start time.Time
	// TimeZone is the IANA zone whose local clock drives the daily and
	// weekly cycles and the kick-off times.
	TimeZone string
	// Seed selects the trace: a profile and a seed always give the same
	// counts, and a different seed gives a different trace.
	Seed uint64
	// Growth is, for Flashcrowd, the base level at the end of the season
	// over the level at the start of the trace. It must be zero for
	// Business, which has a trend instead.
	Growth float64
}

// Defaults returns the default profile of the named traffic model. An
// unknown name gets the business defaults, and Validate rejects the name.
func Defaults(name string) Profile {
	// DefaultStart is a constant that a test parses; it cannot fail.
	start, _ := time.Parse(time.RFC3339, DefaultStart)
	p := Profile{
		Name:     name,
		Days:     DefaultBusinessDays,
		Daily:    DefaultDaily,
		Start:    start,
		TimeZone: DefaultTimeZone,
		Seed:     DefaultSeed,
	}
	if name == Flashcrowd {
		p.Days = DefaultFlashcrowdDays
		p.Growth = DefaultGrowth
	}
	return p
}

// ParseProfile reads a profile from settings keyed by the Key constants,
// fills what is missing from Defaults and validates the result. Every
// problem is reported, all together: an unknown key, a value that does not
// parse and a value out of range, each naming its setting and value.
func ParseProfile(settings map[string]string) (Profile, error) {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if !slices.Contains(keys, k) {
			errs = append(errs, fmt.Errorf("unknown setting %q (known: %s)", k, strings.Join(keys, ", ")))
		}
	}
	name, ok := settings[KeyProfile]
	if !ok {
		name = DefaultProfile
	}
	p := Defaults(name)
	if v, ok := settings[KeyTimeZone]; ok {
		p.TimeZone = v
	}
	// A value that does not parse is reported once, as unparsable, and not
	// again as out of range.
	unparsed := map[string]bool{}
	parse := func(key, want string, into func(string) error) {
		v, ok := settings[key]
		if !ok {
			return
		}
		if err := into(strings.TrimSpace(v)); err != nil {
			unparsed[key] = true
			errs = append(errs, fmt.Errorf("-%s %q: %s", key, v, want))
		}
	}
	parse(KeyDays, "want a whole number of days", func(v string) (err error) {
		p.Days, err = strconv.Atoi(v)
		return err
	})
	parse(KeyDaily, "want a number of requests per day", func(v string) (err error) {
		p.Daily, err = strconv.ParseFloat(v, 64)
		return err
	})
	parse(KeyStart, "want an RFC 3339 time such as "+DefaultStart, func(v string) (err error) {
		p.Start, err = time.Parse(time.RFC3339, v)
		return err
	})
	parse(KeySeed, "want a whole number from 0 to 18446744073709551615", func(v string) (err error) {
		p.Seed, err = strconv.ParseUint(v, 10, 64)
		return err
	})
	parse(KeyGrowth, "want a number, the growth factor", func(v string) (err error) {
		p.Growth, err = strconv.ParseFloat(v, 64)
		return err
	})
	for _, pr := range p.problems() {
		if !unparsed[pr.key] {
			errs = append(errs, pr.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Validate reports every problem of the profile together, each naming its
// setting (as the flag of cmd/tracegen) and its value.
func (p Profile) Validate() error {
	var errs []error
	for _, pr := range p.problems() {
		errs = append(errs, pr.err)
	}
	return errors.Join(errs...)
}

// problem is one invalid setting.
type problem struct {
	key string
	err error
}

func (p Profile) problems() []problem {
	var ps []problem
	add := func(key, value, want string) {
		ps = append(ps, problem{key, fmt.Errorf("-%s %q: %s", key, value, want)})
	}
	if p.Name != Business && p.Name != Flashcrowd {
		add(KeyProfile, p.Name, "want business or flashcrowd")
	}
	minDays := 1
	if p.Name == Flashcrowd {
		minDays = MinFlashcrowdDays
	}
	if p.Days < minDays || p.Days > MaxDays {
		add(KeyDays, strconv.Itoa(p.Days), fmt.Sprintf("want %d to %d days for -profile %s", minDays, MaxDays, p.Name))
	}
	if !(p.Daily >= MinDaily && p.Daily <= MaxDaily) {
		add(KeyDaily, formatFloat(p.Daily), fmt.Sprintf("want %s to %s requests per day", formatFloat(MinDaily), formatFloat(MaxDaily)))
	}
	switch y := p.Start.UTC().Year(); {
	case y < MinStartYear || y > MaxStartYear:
		add(KeyStart, p.Start.Format(time.RFC3339), fmt.Sprintf("want a time in the years %d to %d", MinStartYear, MaxStartYear))
	case !p.Start.Truncate(time.Minute).Equal(p.Start):
		add(KeyStart, p.Start.Format(time.RFC3339Nano), "want the start of a minute (zero seconds)")
	}
	// LoadLocation maps "" to UTC and "Local" to the machine's zone; either
	// would make the trace depend on the machine or hide a missing value.
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" || p.TimeZone == "Local" {
		add(KeyTimeZone, p.TimeZone, "want an IANA time zone such as Europe/Madrid")
	}
	switch p.Name {
	case Business:
		if p.Growth != 0 {
			add(KeyGrowth, formatFloat(p.Growth), "applies only to -profile flashcrowd")
		}
	case Flashcrowd:
		if !(p.Growth >= MinGrowth && p.Growth <= MaxGrowth) {
			add(KeyGrowth, formatFloat(p.Growth), fmt.Sprintf("want a growth factor from %s to %s", formatFloat(MinGrowth), formatFloat(MaxGrowth)))
		}
	}
	return ps
}

// formatFloat prints a number as a user would type it (2000000, not 2e+06).
func formatFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
