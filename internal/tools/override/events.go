package override

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Events booked ahead: each its own Variable under the policy's
// override_variable (<path>/<name>), read by strategy-slope beside the
// Variable itself (plugins/strategy-slope/README.md, "A calendar of
// events").

// eventName is what -event accepts: one path segment Nomad allows.
var eventName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// maxEvents is how many events strategy-slope reads under one path.
const maxEvents = 32

func eventPrefix(path string) string { return strings.TrimSuffix(path, "/") + "/" }

func eventPath(path, name string) string { return eventPrefix(path) + name }

// bookedEvent is one event Variable as status shows it.
type bookedEvent struct {
	name    string
	index   uint64
	items   map[string]string
	count   int64
	from    time.Time // zero: from when it was written
	until   time.Time
	minimum bool
	// problem says why strategy-slope ignores it (the check's note has
	// its own words).
	problem string
}

// calendar reads the events booked under path.
func calendar(ctx context.Context, vars variables, path string) ([]bookedEvent, error) {
	listed, err := vars.List(ctx, eventPrefix(path))
	if err != nil {
		return nil, err
	}
	out := make([]bookedEvent, 0, len(listed))
	for _, v := range listed {
		items, index, err := vars.Read(ctx, v.Path)
		switch {
		case err != nil:
			out = append(out, bookedEvent{name: strings.TrimPrefix(v.Path, eventPrefix(path)), index: v.Index, problem: err.Error()})
			continue
		case items == nil:
			continue // deleted since it was listed
		}
		out = append(out, parseEvent(strings.TrimPrefix(v.Path, eventPrefix(path)), index, items))
	}
	return out, nil
}

func parseEvent(name string, index uint64, items map[string]string) bookedEvent {
	e := bookedEvent{name: name, index: index, items: items, minimum: strings.TrimSpace(items[itemMode]) == modeMinimum}
	var problems []string
	var err error
	if e.count, err = strconv.ParseInt(strings.TrimSpace(items[itemCount]), 10, 64); err != nil {
		problems = append(problems, fmt.Sprintf("count %q", items[itemCount]))
	}
	if e.until, err = time.Parse(time.RFC3339, strings.TrimSpace(items[itemUntil])); err != nil {
		problems = append(problems, fmt.Sprintf("until %q", items[itemUntil]))
	}
	if f := strings.TrimSpace(items[itemFrom]); f != "" {
		if e.from, err = time.Parse(time.RFC3339, f); err != nil {
			problems = append(problems, fmt.Sprintf("from %q", items[itemFrom]))
		}
	}
	if m := strings.TrimSpace(items[itemMode]); m != "" && m != modeMinimum && m != modeExact {
		problems = append(problems, fmt.Sprintf("mode %q", items[itemMode]))
	}
	if len(problems) > 0 {
		e.problem = "malformed " + strings.Join(problems, ", ") + ": strategy-slope ignores it"
	}
	return e
}

// ended reports whether the event is over at now.
func (e bookedEvent) ended(now time.Time) bool {
	return e.problem == "" && !now.Before(e.until)
}

// line is the event in one line of status.
func (e bookedEvent) line(now time.Time, loc *time.Location) string {
	if e.problem != "" {
		return e.problem
	}
	amount := fmt.Sprintf("pinned at %d", e.count)
	if e.minimum {
		amount = fmt.Sprintf("at least %d", e.count)
	}
	state := "in force"
	switch {
	case e.ended(now):
		state = "ended (override clear -ended deletes it)"
	case e.from.After(now):
		state = "booked"
	}
	from := ""
	if !e.from.IsZero() {
		from = " from " + when(e.from, now, loc)
	}
	return fmt.Sprintf("%s: %s%s until %s: %q", state, amount, from, when(e.until, now, loc), e.items[itemReason])
}

// renderCalendar writes the events booked for a policy, soonest first as
// listed by name.
func renderCalendar(w io.Writer, path string, events []bookedEvent, err error, now time.Time, loc *time.Location) {
	switch {
	case err != nil:
		fmt.Fprintf(w, "  events under %s:\tunreadable: %v\n", eventPrefix(path), err)
		return
	case len(events) == 0:
		return
	}
	fmt.Fprintf(w, "  events under %s:\n", eventPrefix(path))
	for _, e := range events {
		fmt.Fprintf(w, "    %s:\t%s\n", e.name, e.line(now, loc))
	}
	if len(events) > maxEvents {
		fmt.Fprintf(w, "  strategy-slope reads only the first %d events by name: delete the ones that ended (override clear -ended)\n", maxEvents)
	}
}

// List implements variables.
func (n nomadVariables) List(ctx context.Context, prefix string) ([]pluginkit.VariableVersion, error) {
	return pluginkit.ListVariables(ctx, n.client, prefix, nil)
}
