package backtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// businessHours is a daily window [start, end) in minutes after local
// midnight; end <= start means the window wraps past midnight.
type businessHours struct {
	start, end int
}

// parseBusinessHours reads "HH:MM-HH:MM" ("08:00-22:00"; "00:00-24:00" for
// the whole day).
func parseBusinessHours(s string) (businessHours, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return businessHours{}, fmt.Errorf("business hours %q: want HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err1 != nil || err2 != nil || start == 24*60 || start == end {
		return businessHours{}, fmt.Errorf("business hours %q: want HH:MM-HH:MM with different times", s)
	}
	return businessHours{start: start, end: end}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	return hh*60 + mm, nil
}

func (b businessHours) contains(minuteOfDay int) bool {
	if b.start < b.end {
		return minuteOfDay >= b.start && minuteOfDay < b.end
	}
	return minuteOfDay >= b.start || minuteOfDay < b.end
}

// calendar says, for every scored minute, whether it falls in business
// hours and which local calendar day it belongs to. It is computed once and
// shared by every strategy's scoring.
type calendar struct {
	business []bool
	day      []int32  // index into days, per minute
	days     []string // local dates (YYYY-MM-DD) in order
}

func newCalendar(start time.Time, n int, loc *time.Location, bh businessHours) calendar {
	c := calendar{business: make([]bool, n), day: make([]int32, n)}
	lastYear, lastYearDay := -1, -1
	for i := range n {
		t := start.Add(time.Duration(i) * time.Minute).In(loc)
		h, m, _ := t.Clock()
		c.business[i] = bh.contains(h*60 + m)
		if y, yd := t.Year(), t.YearDay(); y != lastYear || yd != lastYearDay {
			c.days = append(c.days, t.Format(time.DateOnly))
			lastYear, lastYearDay = y, yd
		}
		c.day[i] = int32(len(c.days) - 1)
	}
	return c
}
