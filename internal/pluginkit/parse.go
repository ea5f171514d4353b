package pluginkit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parser reads one config map against its Table and collects every
// problem, so that all of them are reported at once. Each error names its
// key and the value it was given (`lead "-5m": must be between 0s and
// 24h`), except for a key the table marks Secret and a key it does not
// know (a password pasted into a misspelled key): these errors end in the
// agent's log.
type Parser struct {
	t    *Table
	m    map[string]string
	errs []error
}

// Parse starts reading m: keys the table does not accept and required keys
// that are missing are recorded at once.
func Parse(t *Table, m map[string]string) *Parser {
	p := &Parser{t: t, m: m}
	p.errs = append(p.errs, t.Unknown(m)...)
	for _, k := range t.Keys {
		if _, ok := m[k.Name]; k.Required && !ok {
			p.errs = append(p.errs, fmt.Errorf("%s: required", k.Name))
		}
	}
	return p
}

// Has reports whether the key is set.
func (p *Parser) Has(name string) bool {
	_, ok := p.m[name]
	return ok
}

// Text returns the key's value as written, or its default.
func (p *Parser) Text(name string) string {
	if v, ok := p.m[name]; ok {
		return v
	}
	k, _ := p.t.Key(name)
	return k.Default
}

// Fail records a problem of key. It adds the key's value itself where the
// value may be shown; never pass the value in args.
func (p *Parser) Fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: "+format, append([]any{p.name(key)}, args...)...))
}

// maxShownValue bounds the value an error repeats: a key can hold a whole
// SQL query.
const maxShownValue = 80

// name is how an error names key: with its value quoted when it is set and
// may be shown (a key of the table that is not Secret, or one of its
// prefixed families), the key alone otherwise.
func (p *Parser) name(key string) string {
	v, set := p.m[key]
	if !set || !p.shows(key) {
		return key
	}
	return key + " " + Quote(v)
}

// Quote is how an error shows a value that is no secret: quoted, and cut
// after maxShownValue characters.
func Quote(v string) string {
	if r := []rune(v); len(r) > maxShownValue {
		v = string(r[:maxShownValue]) + "..."
	}
	return strconv.Quote(v)
}

func (p *Parser) shows(key string) bool {
	if k, ok := p.t.Key(key); ok {
		return !k.Secret
	}
	for _, prefix := range p.t.Prefixes {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// Add records errors found by the plugin's own checks; nils are skipped.
func (p *Parser) Add(errs ...error) {
	for _, err := range errs {
		if err != nil {
			p.errs = append(p.errs, err)
		}
	}
}

// Err is every problem recorded, joined, or nil.
func (p *Parser) Err() error { return errors.Join(p.errs...) }

// Duration reads a Duration key within its bounds.
func (p *Parser) Duration(name string) time.Duration {
	return read(p, name, Duration, "a duration such as 5m", func(s string) (time.Duration, bool) {
		d, err := time.ParseDuration(s)
		return d, err == nil
	})
}

// Float reads a finite Float key within its bounds.
func (p *Parser) Float(name string) float64 {
	return read(p, name, Float, "a number", parseFloat)
}

// Int reads a whole-number Int key within its bounds.
func (p *Parser) Int(name string) int64 {
	return read(p, name, Int, "a whole number", func(s string) (int64, bool) {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	})
}

// Bool reads a Bool key: true or false (as strconv.ParseBool spells them).
func (p *Parser) Bool(name string) bool {
	return read(p, name, Bool, "true or false", func(s string) (bool, bool) {
		v, err := strconv.ParseBool(s)
		return v, err == nil
	})
}

func parseFloat(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

type ordered interface {
	time.Duration | float64 | int64 | bool
}

// read parses the key, or its default when absent, and checks the bounds.
// A problem leaves the default in place, so that the rest of the parse
// can go on and report its own problems.
func read[T ordered](p *Parser, name string, kind Kind, what string, parse func(string) (T, bool)) T {
	var zero T
	k, ok := p.t.Key(name)
	if !ok || k.Kind != kind {
		p.errs = append(p.errs, fmt.Errorf("%s: not a %s key of this plugin's table (a bug: please report it)", name, kindName(kind)))
		return zero
	}
	def := zero
	if k.Default != "" {
		v, ok := parse(k.Default)
		if !ok {
			p.Fail(name, "the table's default is not %s (a bug: please report it)", what)
			return zero
		}
		def = v
	}
	raw, present := p.m[name]
	if !present {
		return def
	}
	v, ok := parse(strings.TrimSpace(raw))
	if !ok {
		p.Fail(name, "not %s", what)
		return def
	}
	if msg := outOfBounds(k, v, parse); msg != "" {
		p.Fail(name, "%s", msg)
		return def
	}
	return v
}

// outOfBounds describes how v misses k's bounds, or returns "".
func outOfBounds[T ordered](k Key, v T, parse func(string) (T, bool)) string {
	lo, hasLo := parse(k.Min)
	hi, hasHi := parse(k.Max)
	hasLo, hasHi = hasLo && k.Min != "", hasHi && k.Max != ""
	below := hasLo && less(v, lo)
	above := hasHi && less(hi, v)
	switch {
	case !below && !above:
		return ""
	case hasLo && hasHi:
		return fmt.Sprintf("must be between %s and %s", k.Min, k.Max)
	case hasLo:
		return fmt.Sprintf("must be at least %s", k.Min)
	default:
		return fmt.Sprintf("must be at most %s", k.Max)
	}
}

func less[T ordered](a, b T) bool {
	switch x := any(a).(type) {
	case time.Duration:
		return x < any(b).(time.Duration)
	case float64:
		return x < any(b).(float64)
	case int64:
		return x < any(b).(int64)
	}
	return false // bools have no bounds
}

func kindName(k Kind) string {
	switch k {
	case Duration:
		return "duration"
	case Float:
		return "number"
	case Int:
		return "whole-number"
	case Bool:
		return "boolean"
	}
	return "text"
}

// Check verifies the table itself: unique names, defaults and bounds that
// parse as their kind, defaults within bounds. Each plugin's tests call it.
func (t *Table) Check() error {
	var errs []error
	seen := map[string]bool{}
	for _, k := range t.Keys {
		if seen[k.Name] {
			errs = append(errs, fmt.Errorf("%s: listed twice", k.Name))
		}
		seen[k.Name] = true
		if k.Doc == "" {
			errs = append(errs, fmt.Errorf("%s: no doc line", k.Name))
		}
		if k.Kind == Text {
			continue
		}
		for _, field := range []struct{ label, value string }{{"default", k.Default}, {"min", k.Min}, {"max", k.Max}} {
			if field.value == "" {
				continue
			}
			// The table's own values are not secrets: the error below
			// quotes them, and Secret only keeps Fail from quoting the
			// value a second time.
			probe := &Parser{t: &Table{Keys: []Key{{Name: k.Name, Kind: k.Kind, Min: k.Min, Max: k.Max, Secret: true}}},
				m: map[string]string{k.Name: field.value}}
			switch k.Kind {
			case Duration:
				probe.Duration(k.Name)
			case Float:
				probe.Float(k.Name)
			case Int:
				probe.Int(k.Name)
			case Bool:
				probe.Bool(k.Name)
			}
			if err := probe.Err(); err != nil {
				errs = append(errs, fmt.Errorf("the table's %s %q of %w", field.label, field.value, err))
			}
		}
	}
	return errors.Join(errs...)
}
