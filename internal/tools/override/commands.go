package override

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

func (d deps) set(args []string) error {
	o, err := d.parse("set", args)
	if err != nil {
		return err
	}
	now := d.now()
	req, err := o.request(now)
	if err != nil {
		return usageError{err}
	}
	if o.policyFile != "" {
		return d.editFile(o, now, fileSet{req})
	}
	return d.setVariable(o, req, now)
}

func (d deps) clear(args []string) error {
	o, err := d.parse("clear", args)
	if err != nil {
		return err
	}
	if o.policyFile != "" {
		return d.editFile(o, d.now(), fileClear{})
	}
	return d.clearVariable(o, d.now())
}

// show prints what the policy's strategy will do next and returns it.
func (d deps) show(o options, p policy, now time.Time) (policyView, error) {
	s, err := newStrategy(now, o.nomad.pluginConfig())
	if err != nil {
		return policyView{}, err
	}
	view := s.policyView(p, now)
	o.addCalendar(&view)
	return view, render(d.stdout, []policyView{view}, now, o.loc)
}

// addCalendar reads the events booked under the policy's override
// Variable, if its checks share one.
func (o options) addCalendar(pv *policyView) {
	path, err := pv.policy.variablePath()
	if err != nil {
		return
	}
	pv.calendarPath = path
	vars, err := o.nomadVariables()
	if err != nil {
		pv.calendarErr = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	pv.events, pv.calendarErr = calendar(ctx, vars, path)
}

func (d deps) status(args []string) error {
	o, err := d.parse("status", args)
	if err != nil {
		return err
	}
	now := d.now()
	files, err := o.statusFiles()
	if err != nil {
		return usageError{err}
	}
	var ps []policy
	var errs []error
	for _, f := range files {
		got, err := readPolicies(f, o.label)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range got {
			if o.name == "" || p.name == o.name {
				ps = append(ps, p)
			}
		}
	}
	if len(ps) == 0 && len(errs) == 0 {
		errs = append(errs, usageError{fmt.Errorf("no scaling policy in %s", strings.Join(files, ", "))})
	}
	s, err := newStrategy(now, o.nomad.pluginConfig())
	if err != nil {
		return err
	}
	var views []policyView
	for _, p := range ps {
		view := s.policyView(p, now)
		o.addCalendar(&view)
		views = append(views, view)
	}
	if err := render(d.stdout, views, now, o.loc); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// statusFiles lists the files status reads.
func (o options) statusFiles() ([]string, error) {
	files := append([]string(nil), o.policies...)
	if o.policyFile != "" {
		files = append(files, o.policyFile)
	}
	if o.policyDir != "" {
		// The agent reads every .hcl file of its policy dir.
		found, err := filepath.Glob(filepath.Join(o.policyDir, "*.hcl"))
		if err != nil {
			return nil, fmt.Errorf("-policy-dir: %w", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("-policy-dir %s: no .hcl file", o.policyDir)
		}
		files = append(files, found...)
	}
	return files, nil
}
