package override

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
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
	client, err := o.nomad.client()
	if err != nil {
		return fmt.Errorf("nomad client: %w", err)
	}
	vars := nomadVariables{client: client}
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
	return expectOverride(view, req, "variable "+path, now)
}

func (d deps) clearVariable(o options, now time.Time) error {
	p, path, err := o.variablePolicy()
	if err != nil {
		return err
	}
	client, err := o.nomad.client()
	if err != nil {
		return fmt.Errorf("nomad client: %w", err)
	}
	vars := nomadVariables{client: client}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	items, index, err := vars.Read(ctx, path)
	if err != nil {
		return err
	}
	if items == nil {
		fmt.Fprintf(d.stdout, "no Nomad Variable %s: no override to clear\n\n", path)
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
