package override

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// Events booked ahead: each its own Variable under the policy's
// override_variable (<path>/<name>), read by strategy-slope beside the
// Variable itself (plugins/strategy-slope/README.md, "A calendar of
// events").

// eventName is what -event accepts: one path segment Nomad allows.
var eventName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func eventPath(path, name string) string { return slope.EventPrefix(path) + name }

// bookedEvent is one event Variable as status shows it, read with
// strategy-slope's own rules.
type bookedEvent struct {
	name  string
	index uint64
	slope.Override
	// problem says why strategy-slope ignores it: its own words.
	problem string
}

// calendar reads the events booked under path.
func calendar(ctx context.Context, vars variables, path string) ([]bookedEvent, error) {
	prefix := slope.EventPrefix(path)
	listed, err := vars.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]bookedEvent, 0, len(listed))
	for _, v := range listed {
		e := bookedEvent{name: strings.TrimPrefix(v.Path, prefix), index: v.Index}
		items, index, err := vars.Read(ctx, v.Path)
		switch {
		case err != nil:
			e.problem = err.Error()
		case items == nil:
			continue // deleted since it was listed
		default:
			e.index = index
			if e.Override, err = slope.OverrideFromItems(v.Path, items); err != nil {
				e.problem = err.Error() + ": strategy-slope ignores it"
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// ended reports whether the event is over at now.
func (e bookedEvent) ended(now time.Time) bool {
	return e.problem == "" && !now.Before(e.Until)
}

// line is the event in one line of status.
func (e bookedEvent) line(now time.Time, loc *time.Location) string {
	if e.problem != "" {
		return e.problem
	}
	amount := fmt.Sprintf("pinned at %d", e.Count)
	if e.Minimum {
		amount = fmt.Sprintf("at least %d", e.Count)
	}
	state := "in force"
	switch {
	case e.ended(now):
		state = "ended (override clear -ended deletes it)"
	case e.From.After(now):
		state = "booked"
	}
	from := ""
	if !e.From.IsZero() {
		from = " from " + when(e.From, now, loc)
	}
	return fmt.Sprintf("%s: %s%s until %s: %q", state, amount, from, when(e.Until, now, loc), e.Reason)
}

// renderCalendar writes the events booked for a policy, soonest first as
// listed by name.
func renderCalendar(w io.Writer, path string, events []bookedEvent, err error, now time.Time, loc *time.Location) {
	switch {
	case err != nil:
		fmt.Fprintf(w, "  events under %s:\tunreadable: %v\n", slope.EventPrefix(path), err)
		return
	case len(events) == 0:
		return
	}
	fmt.Fprintf(w, "  events under %s:\n", slope.EventPrefix(path))
	for _, e := range events {
		fmt.Fprintf(w, "    %s:\t%s\n", e.name, e.line(now, loc))
	}
	if len(events) > slope.MaxOverrideEvents {
		fmt.Fprintf(w, "  strategy-slope reads only the first %d events by name: delete the ones that ended (override clear -ended)\n", slope.MaxOverrideEvents)
	}
}

// List implements variables.
func (n nomadVariables) List(ctx context.Context, prefix string) ([]pluginkit.VariableVersion, error) {
	return pluginkit.ListVariables(ctx, n.client, prefix, nil)
}
