package override

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

const usage = `usage: override <command> [flags]

Pin the worker count of a strategy-slope policy until a deadline (or keep it
at least at a count, from a later start), end it, or show what every policy's
strategy will do next.

  override set    -count N -until WHEN -reason TEXT [-minimum] [-from WHEN]
                  (-policy FILE [-event NAME] | -policy-file FILE -agent-pid PID)
  override clear  (-policy FILE [-event NAME | -ended] | -policy-file FILE -agent-pid PID)
  override status (-policy FILE ... | -policy-file FILE | -policy-dir DIR)

-policy FILE       the policy's checks name a Nomad Variable (override_variable):
                   write or delete that Variable; FILE is only read
-policy-file FILE  edit FILE itself: save it under a new name, remove the old
                   file, send the agent SIGHUP (-agent-pid or -agent-pidfile)
WHEN               HH:MM (next occurrence, in -tz), an RFC 3339 time, or +DURATION
                   (with -from, -until counts from the start)
-minimum           the checks decide as usual, never below -count (a pin
                   without it: exactly -count)
-event NAME        book the override as an event of its own, the Variable
                   <override_variable>/NAME, beside other events booked ahead
                   (a bank's campaign on Monday, a deadline on Friday)
-ended             delete every event that has ended

Run "override <command> -h" for every flag.
`

// agentProcess is the running agent that is told to re-read its policies.
type agentProcess interface {
	// Check fails unless pid is an agent this user may signal.
	Check(pid int) error
	// Reload sends it SIGHUP.
	Reload(pid int) error
}

// deps is what the commands touch outside their arguments.
type deps struct {
	getenv         func(string) string
	now            func() time.Time
	stdout, stderr io.Writer
	agent          agentProcess
	local          *time.Location
}

// usageError marks a bad command line or a request the policy refuses:
// exit status 2, and nothing was written.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs cmd/override and returns its exit status: 0, 1 when a change
// could not be made or checked, 2 for a bad command line or a request the
// policy refuses (nothing written).
//
// run prints its own errors (with the usage where it helps), so Main only
// carries the exit code.
func Main(_ context.Context, env cli.Env) error {
	code := run(env.Args, deps{getenv: env.Getenv, now: time.Now, stdout: env.Stdout, stderr: env.Stderr, agent: systemAgent{}, local: time.Local})
	if code != 0 {
		return cli.Exit(code, nil)
	}
	return nil
}

func run(args []string, d deps) int {
	if len(args) == 0 {
		fmt.Fprint(d.stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "set":
		err = d.set(args[1:])
	case "clear":
		err = d.clear(args[1:])
	case "status":
		err = d.status(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(d.stdout, usage)
		return 0
	default:
		err = usageError{fmt.Errorf("unknown command %q: set, clear or status", args[0])}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(d.stderr, "override: %s\n", strings.ReplaceAll(err.Error(), "\n", "\noverride: "))
		fmt.Fprintln(d.stderr, "override: nothing was written")
		return 2
	default:
		fmt.Fprintf(d.stderr, "override: %s\n", strings.ReplaceAll(err.Error(), "\n", "\noverride: "))
		return 1
	}
}

// options are the flags of every command.
type options struct {
	policies     []string
	policyFile   string
	policyDir    string
	name         string
	label        string
	tz           string
	loc          *time.Location
	nomad        nomadSettings
	timeout      time.Duration
	agentPID     int
	agentPIDFile string
	count        string
	from         string
	until        string
	minimum      bool
	reason       string
	event        string
	ended        bool
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parse reads the flags of cmd. Every problem is reported at once.
func (d deps) parse(cmd string, args []string) (options, error) {
	o := options{nomad: nomadFromEnv(d.getenv)}
	fs := flag.NewFlagSet("override "+cmd, flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	fs.Var((*stringList)(&o.policies), "policy", "a policy file whose checks name an override Variable; only read (repeat for status)")
	fs.StringVar(&o.policyFile, "policy-file", "", "a policy file of the agent's policy dir, edited itself")
	fs.StringVar(&o.name, "name", "", "the scaling policy of the file, when it holds several")
	fs.StringVar(&o.label, "strategy", "slope", "the label strategy-slope is declared under in the agent (strategy \"slope\" { driver = \"strategy-slope\" })")
	fs.StringVar(&o.tz, "tz", "", "IANA zone of -until HH:MM and of the times shown (default: this machine's)")
	fs.StringVar(&o.nomad.address, "address", o.nomad.address, "Nomad address (default $NOMAD_ADDR, else http://127.0.0.1:4646)")
	fs.StringVar(&o.nomad.token, "token", o.nomad.token, "Nomad ACL token (default $NOMAD_TOKEN)")
	fs.StringVar(&o.nomad.namespace, "namespace", o.nomad.namespace, "Nomad namespace of the Variable: the agent's (default $NOMAD_NAMESPACE)")
	fs.StringVar(&o.nomad.region, "region", o.nomad.region, "Nomad region (default $NOMAD_REGION)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline of each Nomad request")
	switch cmd {
	case "set":
		fs.StringVar(&o.count, "count", "", "pin the policy at exactly this many workers, or at least (-minimum); within its min and max")
		fs.BoolVar(&o.minimum, "minimum", false, "keep at least -count: the checks still scale above it (a crowd larger than expected)")
		fs.StringVar(&o.from, "from", "", "start of the override, for an event known ahead: HH:MM (next occurrence in -tz), RFC 3339, or +DURATION (default: at once)")
		fs.StringVar(&o.until, "until", "", "end of the override: HH:MM (next occurrence in -tz, after -from), RFC 3339, or +DURATION (from -from when given)")
		fs.StringVar(&o.reason, "reason", "", "who asked and why, e.g. \"launch day, INC-1234\"")
		fs.StringVar(&o.event, "event", "", "with -policy: book it as the event NAME, the Variable <override_variable>/NAME, beside the others booked")
		fs.IntVar(&o.agentPID, "agent-pid", 0, "with -policy-file: the agent's process ID, sent SIGHUP")
		fs.StringVar(&o.agentPIDFile, "agent-pidfile", "", "with -policy-file: a file holding the agent's process ID")
	case "clear":
		fs.StringVar(&o.event, "event", "", "with -policy: delete the event NAME (the Variable <override_variable>/NAME)")
		fs.BoolVar(&o.ended, "ended", false, "with -policy: delete every booked event that has ended")
		fs.IntVar(&o.agentPID, "agent-pid", 0, "with -policy-file: the agent's process ID, sent SIGHUP")
		fs.StringVar(&o.agentPIDFile, "agent-pidfile", "", "with -policy-file: a file holding the agent's process ID")
	case "status":
		fs.StringVar(&o.policyDir, "policy-dir", "", "every policy file (*.hcl) of the agent's policy dir")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q: every value is a flag", fs.Args()))
	}
	o.loc = d.local
	if o.tz != "" {
		loc, err := time.LoadLocation(o.tz)
		if err != nil {
			errs = append(errs, fmt.Errorf("-tz %q: not an IANA time zone such as Europe/Paris", o.tz))
		}
		o.loc = loc
	}
	if o.timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout %s: must be positive", o.timeout))
	}
	if cmd != "status" {
		errs = append(errs, o.oneSource(), o.eventFlags())
	} else if len(o.policies) == 0 && o.policyFile == "" && o.policyDir == "" {
		errs = append(errs, errors.New("-policy, -policy-file or -policy-dir: required"))
	}
	if err := errors.Join(errs...); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

// oneSource checks that set or clear names one place for the override.
func (o options) oneSource() error {
	switch {
	case o.policyFile != "" && len(o.policies) > 0:
		return errors.New("-policy and -policy-file: give one: -policy writes the Nomad Variable its checks name, -policy-file edits the file")
	case len(o.policies) > 1:
		return errors.New("-policy: give one policy file")
	case o.policyFile == "" && len(o.policies) == 0:
		return errors.New("-policy or -policy-file: required: the policy whose Nomad Variable (-policy) or file (-policy-file) holds the override")
	case len(o.policies) == 1 && (o.agentPID != 0 || o.agentPIDFile != ""):
		return errors.New("-agent-pid and -agent-pidfile: only with -policy-file: a Variable needs no signal")
	}
	return nil
}

// eventFlags checks -event and -ended.
func (o options) eventFlags() error {
	switch {
	case o.event != "" && o.ended:
		return errors.New("-event and -ended: give one: -event deletes one event, -ended every event that has ended")
	case (o.event != "" || o.ended) && o.policyFile != "":
		return errors.New("-event and -ended: only with -policy: events are Nomad Variables; a policy file holds one override")
	case o.event != "" && !eventName.MatchString(o.event):
		return fmt.Errorf("-event %s: a name of 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, such as bank-campaign-2026-12-14", pluginkit.Quote(o.event))
	}
	return nil
}

// request reads -count, -until and -reason.
func (o options) request(now time.Time) (request, error) {
	var r request
	var errs []error
	n, err := strconv.ParseInt(strings.TrimSpace(o.count), 10, 64)
	switch {
	case o.count == "":
		errs = append(errs, errors.New("-count: required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("-count %q: not a whole number", o.count))
	}
	r.count = n
	// -until counts from -from: "-from 08:45 -until +3h" is a three-hour
	// event, "-from 08:45 -until 12:00" ends on the day it starts.
	base := now
	if strings.TrimSpace(o.from) != "" && o.loc != nil {
		if r.from, err = parseUntil(o.from, now, o.loc); err != nil {
			errs = append(errs, fmt.Errorf("-from %w", err))
		} else {
			base = r.from
		}
	}
	switch {
	case strings.TrimSpace(o.until) == "":
		errs = append(errs, errors.New("-until: required: HH:MM, an RFC 3339 time or +DURATION (overrides must expire)"))
	case o.loc != nil:
		if r.until, err = parseUntil(o.until, base, o.loc); err != nil {
			errs = append(errs, fmt.Errorf("-until %w", err))
		}
	}
	r.minimum = o.minimum
	r.reason = strings.TrimSpace(o.reason)
	return r, errors.Join(errs...)
}
