package override

import (
	"fmt"
	"strings"
	"time"
)

// parseUntil reads the -until flag: a clock time HH:MM (its next
// occurrence after now in loc, so 18:00 given at 19:00 means tomorrow), an
// RFC 3339 time, or a duration from now such as +90m. It returns the
// instant truncated to the second, as the strategy reads RFC 3339 seconds.
func parseUntil(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("%q: empty: HH:MM, an RFC 3339 time or +DURATION", s)
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("%q: not a positive duration such as +90m", s)
		}
		return now.Add(d).Truncate(time.Second), nil
	case len(s) <= len("15:04"):
		c, err := time.Parse("15:04", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: not a clock time HH:MM such as 18:00", s)
		}
		local := now.In(loc)
		t := time.Date(local.Year(), local.Month(), local.Day(), c.Hour(), c.Minute(), 0, 0, loc)
		if !t.After(now) {
			t = time.Date(local.Year(), local.Month(), local.Day()+1, c.Hour(), c.Minute(), 0, 0, loc)
		}
		return t, nil
	default:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: not HH:MM, an RFC 3339 time such as 2026-12-01T18:00:00Z, or +DURATION", s)
		}
		return t.Truncate(time.Second), nil
	}
}
