package plugin

import (
	"strings"
	"sync"
	"time"
	// Embed the IANA database so timezone works on minimal images without
	// /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// floorRule keeps at least count workers during business hours.
type floorRule struct {
	count int64
	// start and end are minutes after local midnight; end <= start means the
	// window wraps past midnight (22:00-06:00).
	start, end int
	days       [7]bool // indexed by time.Weekday
	loc        *time.Location
}

// active reports whether the floor applies at instant now.
func (f floorRule) active(now time.Time) bool {
	if f.count <= 0 || f.loc == nil {
		return false
	}
	local := now.In(f.loc)
	minute := local.Hour()*60 + local.Minute()
	day := local.Weekday()
	if f.start < f.end {
		return f.days[day] && minute >= f.start && minute < f.end
	}
	// Wrapping window: the part after midnight belongs to the previous day.
	if minute >= f.start {
		return f.days[day]
	}
	if minute < f.end {
		return f.days[(day+6)%7]
	}
	return false
}

// length is the business window's length (14h0m0s for 08:00-22:00).
func (f floorRule) length() time.Duration {
	return time.Duration(hoursLength(f.start, f.end)) * time.Minute
}

// hours is the window as configured, HH:MM-HH:MM.
func (f floorRule) hours() string { return formatHours(f.start, f.end) }

func parseFloor(p *pluginkit.Parser) floorRule {
	f := floorRule{count: p.Int(keyFloor)}
	var ok bool
	if f.start, f.end, ok = parseHours(p.Text(keyFloorHours)); !ok || f.start == f.end {
		p.Fail(keyFloorHours, "must be HH:MM-HH:MM with different ends, such as 08:00-22:00")
	}
	if f.days, ok = parseDays(p.Text(keyFloorDays)); !ok {
		p.Fail(keyFloorDays, "must be days or ranges such as Mon-Fri,Sun")
	}
	loc, err := loadLocation(p.Text(keyTimezone))
	if err != nil {
		p.Fail(keyTimezone, "not an IANA time zone such as Asia/Kolkata")
	}
	f.loc = loc
	return f
}

// parseHours parses "HH:MM-HH:MM" into minutes after midnight; 24:00 is
// accepted as an end.
func parseHours(s string) (start, end int, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		return 0, 0, false
	}
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	return start, end, ok1 && ok2 && start < 24*60
}

func parseClock(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseDays parses a comma-separated list of days and ranges (Mon-Fri,Sun);
// a range may wrap over the week end (Fri-Mon).
func parseDays(s string) ([7]bool, bool) {
	var days [7]bool
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
		from, ok := dayNames[strings.ToLower(strings.TrimSpace(a))]
		if !ok {
			return days, false
		}
		to := from
		if isRange {
			if to, ok = dayNames[strings.ToLower(strings.TrimSpace(b))]; !ok {
				return days, false
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			days[d] = true
			if d == to {
				break
			}
		}
	}
	return days, true
}

// locations caches loaded zones: time.LoadLocation reads and parses the
// zone data on every call, far too slow for every evaluation.
var locations sync.Map // string -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if v, ok := locations.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}
