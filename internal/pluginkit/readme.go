package pluginkit

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var (
	readmeRow  = regexp.MustCompile(`(?m)^\|([^|\n]+)\|([^|\n]+)\|`)
	readmeCode = regexp.MustCompile("`([^`]+)`")
)

// Section returns the part of a markdown document from the heading line
// that equals heading up to the next heading of the same or a higher
// level, or "" when there is no such heading.
func Section(markdown, heading string) string {
	level := strings.IndexFunc(heading, func(r rune) bool { return r != '#' })
	lines := strings.Split(markdown, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != heading {
			continue
		}
		end := len(lines)
		for j := i + 1; j < len(lines); j++ {
			if n := strings.IndexFunc(lines[j], func(r rune) bool { return r != '#' }); n > 0 && n <= level && strings.HasPrefix(lines[j][n:], " ") {
				end = j
				break
			}
		}
		return strings.Join(lines[i:end], "\n")
	}
	return ""
}

// CheckReadme holds a README's key table (the markdown section that holds
// it) to the Table: every key of the table has a row, every key in a row's
// first cell is one the table accepts (a prefix family is written as
// prefix<name>), and a key's default, when it has one, appears quoted in
// its row's second cell. With AgentKeys, the agent's nomad_* keys must be
// listed too. It returns every mismatch at once.
func (t *Table) CheckReadme(section string) error {
	if section == "" {
		return errors.New("no key table: the section is missing")
	}
	var errs []error
	listed := map[string]bool{}
	for _, row := range readmeRow.FindAllStringSubmatch(section, -1) {
		keyCell, defCell := row[1], row[2]
		for _, m := range readmeCode.FindAllStringSubmatch(keyCell, -1) {
			name := m[1]
			listed[name] = true
			k, fixed := t.Key(name)
			switch {
			case fixed:
				if k.Default != "" && !strings.Contains(defCell, "`"+k.Default+"`") {
					errs = append(errs, fmt.Errorf("%s: the README's default cell %q does not show the table's default `%s`",
						name, strings.TrimSpace(defCell), k.Default))
				}
			case t.documentsPrefix(name):
			case t.AgentKeys && IsAgentKey(name):
			default:
				errs = append(errs, fmt.Errorf("%s: the README lists a key the plugin refuses", name))
			}
		}
	}
	want := t.Names()
	if t.AgentKeys {
		want = append(want, AgentNomadKeys...)
	}
	for _, p := range t.Prefixes {
		if !slices.ContainsFunc(mapKeys(listed), func(k string) bool { return strings.HasPrefix(k, p+"<") }) {
			errs = append(errs, fmt.Errorf("%s<name>: the README has no row for these keys", p))
		}
	}
	for _, name := range want {
		if !listed[name] {
			errs = append(errs, fmt.Errorf("%s: the README has no row for this key", name))
		}
	}
	return errors.Join(errs...)
}

// documentsPrefix reports whether name is a prefix family as the README
// writes it: the prefix followed by a <placeholder>.
func (t *Table) documentsPrefix(name string) bool {
	for _, p := range t.Prefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && strings.HasPrefix(rest, "<") && strings.HasSuffix(rest, ">") {
			return true
		}
	}
	return false
}

func mapKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
