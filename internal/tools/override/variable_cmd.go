package override

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// variableTTL is how long strategy-slope may use a Variable it read
// (plugins/strategy-slope/README.md: "cached 30 s").
const variableTTL = 30 * time.Second

// variablePolicy reads the -policy file and the Variable its checks name.
func (o options) variablePolicy() (policy, string, error) {
	file := o.policies[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return policy{}, "", usageError{fmt.Errorf("-policy: %w", err)}
	}
	ps, err := decodePolicies(file, src, o.label)
	if err != nil {
		return policy{}, "", usageError{fmt.Errorf("-policy: %w", err)}
	}
	p, err := selectPolicy(ps, o.name, file)
	if err != nil {
		return policy{}, "", usageError{err}
	}
	if len(p.slopeChecks()) == 0 {
		return p, "", usageError{noSlopeChecks(p)}
	}
	path, err := p.variablePath()
	if err != nil {
		if commented := commentedIn(src, file, p.name, o.label, keyVariable); len(commented) > 0 {
			err = fmt.Errorf("%w (it is commented out in check %s: uncomment it in every check and install the policy, or override the file itself with -policy-file)",
				err, strings.Join(commented, ", "))
		}
		return p, "", usageError{err}
	}
	return p, path, nil
}

func (d deps) setVariable(o options, req request, now time.Time) error {
	p, path, pathErr := o.variablePolicy()
	if len(p.checks) == 0 {
		return pathErr // the file or the policy could not be read
	}
	if len(p.slopeChecks()) == 0 {
		pathErr = nil // validate says so
	}
	if err := errors.Join(req.validate(p, now), pathErr); err != nil {
		return usageError{err}
	}
	policyPath := path
	if o.event != "" {
		path = eventPath(path, o.event)
	}
	vars, err := o.nomadVariables()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	_, index, err := vars.Read(ctx, path)
	if err != nil {
		return err
	}
	items := map[string]string{
		itemCount: strconv.FormatInt(req.count, 10), itemUntil: req.until.UTC().Format(time.RFC3339), itemReason: req.reason,
	}
	if !req.from.IsZero() {
		items[itemFrom] = req.from.UTC().Format(time.RFC3339)
	}
	if req.minimum {
		items[itemMode] = modeMinimum
	}
	if err := vars.Write(ctx, path, items, index); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "wrote Nomad Variable %s: %s, %q\n", path, req.describe(now, o.loc), req.reason)
	fmt.Fprintf(d.stdout, "the policy's next evaluation reads it (strategy-slope caches a Variable for %s) and the agent scales to it once no Scale or cooldown is under way\n\n", variableTTL)
	view, err := d.show(o, p, now)
	if err != nil {
		return err
	}
	if o.event != "" {
		return d.expectEvent(o, p, req, policyPath, path, now)
	}
	return expectOverride(view, req, "variable "+path, now)
}

func (d deps) clearVariable(o options, now time.Time) error {
	p, path, err := o.variablePolicy()
	if err != nil {
		return err
	}
	if o.ended {
		return d.clearEnded(o, p, path, now)
	}
	policyPath := path
	if o.event != "" {
		path = eventPath(path, o.event)
	}
	vars, err := o.nomadVariables()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	items, index, err := vars.Read(ctx, path)
	if err != nil {
		return err
	}
	if items == nil {
		fmt.Fprintf(d.stdout, "no Nomad Variable %s: no override to clear\n\n", path)
		if o.event != "" {
			notBooked := usageError{fmt.Errorf("-event %s: no such event under %s", pluginkit.Quote(o.event), slope.EventPrefix(policyPath))}
			if _, err := d.show(o, p, now); err != nil { // the events there are
				return errors.Join(notBooked, err)
			}
			return notBooked
		}
	} else {
		if err := vars.Delete(ctx, path, index); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "deleted Nomad Variable %s (count %q, until %q, reason %q)\n", path, items[itemCount], items[itemUntil], items[itemReason])
		fmt.Fprintf(d.stdout, "the policy's next evaluation sees it gone (strategy-slope caches a Variable for %s) and decides from its metrics again\n\n", variableTTL)
	}
	_, err = d.show(o, p, now)
	return err
}

// expectOverride fails unless every strategy-slope check reads exactly the
// override that was written, from where it was written: pinned, a minimum,
// or scheduled when it starts later.
func expectOverride(view policyView, req request, source string, now time.Time) error {
	want := statePinned
	switch {
	case req.scheduled(now):
		want = stateScheduled
	case req.minimum:
		want = stateMinimum
	}
	for _, v := range view.checks {
		if v.state == stateOther {
			continue
		}
		ok := v.state == want && v.count == req.count && v.until.Equal(req.until) && v.source == source && v.minimum == req.minimum
		if want == stateScheduled {
			ok = ok && v.from.Equal(req.from)
		}
		if !ok {
			return fmt.Errorf("written, but strategy-slope does not read it for check %q as %s from %s: it reads %s",
				v.check, req.describe(now, time.UTC), source, v.describe(now, time.UTC))
		}
	}
	return nil
}

// expectEvent fails unless every strategy-slope check reads the event just
// booked, at its start. Another override in force then may win (a pin over
// a minimum, the largest minimum): that is said, not failed.
func (d deps) expectEvent(o options, p policy, req request, policyPath, path string, now time.Time) error {
	at := now
	if req.scheduled(now) {
		at = req.from
	}
	s, err := newStrategy(at, o.nomad.pluginConfig())
	if err != nil {
		return err
	}
	source := "variable " + path
	for _, v := range s.policyView(p, at).checks {
		switch {
		case v.state == stateOther:
			continue
		case strings.Contains(v.note, path+" ") || strings.Contains(v.note, path+":"):
			return fmt.Errorf("written, but strategy-slope ignores it for check %q: %s", v.check, v.note)
		case v.source != source:
			fmt.Fprintf(d.stdout, "\nat its start, %s, check %q follows another override: %s\n",
				when(at, now, o.loc), v.check, v.describe(at, o.loc))
			continue
		}
		if v.count != req.count || !v.until.Equal(req.until) || v.minimum != req.minimum {
			return fmt.Errorf("written, but at its start strategy-slope reads it for check %q as %s", v.check, v.describe(at, time.UTC))
		}
	}
	fmt.Fprintf(d.stdout, "\nevents are Variables under %s: each applies from its from to its until; "+
		"clear one with -event NAME, the ended ones with -ended\n", slope.EventPrefix(policyPath))
	return nil
}

// clearEnded deletes the events under path that have ended, each only if
// it did not change since it was read.
func (d deps) clearEnded(o options, p policy, path string, now time.Time) error {
	vars, err := o.nomadVariables()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	events, err := calendar(ctx, vars, path)
	if err != nil {
		return err
	}
	var deleted int
	var errs []error
	for _, e := range events {
		if !e.ended(now) {
			continue
		}
		if err := vars.Delete(ctx, eventPath(path, e.name), e.index); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted++
		fmt.Fprintf(d.stdout, "deleted event %s (ended %s): %q\n", e.name, when(e.Until, now, o.loc), e.Reason)
	}
	if deleted == 0 && len(errs) == 0 {
		fmt.Fprintf(d.stdout, "no ended event under %s\n", slope.EventPrefix(path))
	}
	fmt.Fprintln(d.stdout)
	if _, err := d.show(o, p, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// nomadVariables connects to Nomad as the flags and environment say.
func (o options) nomadVariables() (nomadVariables, error) {
	client, err := o.nomad.client()
	if err != nil {
		return nomadVariables{}, fmt.Errorf("nomad client: %w", err)
	}
	return nomadVariables{client: client}, nil
}
