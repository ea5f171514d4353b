package override

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The policy file is edited as text, so that its comments, layout and every
// other line stay as the operator wrote them: the parser only locates the
// strategy blocks and their attributes.

// strategyBlock locates one strategy block of the policy in the source.
type strategyBlock struct {
	check string
	// body is the byte range between the braces; closeLine is the offset
	// of the start of the line holding the closing brace.
	bodyStart, bodyEnd, closeLine int
	attrs                         map[string]*hclsyntax.Attribute
}

// commentedKey matches a commented-out key line such as
// `    # override_count  = "40"`.
var commentedKey = regexp.MustCompile(`(?m)^([ \t]*)(?:#|//)[ \t]*([a-z_]+)([ \t]*)=.*$`)

// findStrategyBlocks returns the strategy blocks labelled label in the
// checks of the named policy.
func findStrategyBlocks(src []byte, filename, policyName, label string) ([]strategyBlock, error) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %w", filename, diags)
	}
	var out []strategyBlock
	for _, s := range f.Body.(*hclsyntax.Body).Blocks {
		if s.Type != "scaling" || len(s.Labels) != 1 || s.Labels[0] != policyName {
			continue
		}
		for _, p := range s.Body.Blocks {
			if p.Type != "policy" {
				continue
			}
			for _, c := range p.Body.Blocks {
				if c.Type != "check" || len(c.Labels) != 1 {
					continue
				}
				for _, st := range c.Body.Blocks {
					if st.Type != "strategy" || len(st.Labels) != 1 || st.Labels[0] != label {
						continue
					}
					closeAt := st.CloseBraceRange.Start.Byte
					out = append(out, strategyBlock{
						check:     c.Labels[0],
						bodyStart: st.OpenBraceRange.End.Byte,
						bodyEnd:   closeAt,
						closeLine: bytes.LastIndexByte(src[:closeAt], '\n') + 1,
						attrs:     st.Body.Attributes,
					})
				}
			}
		}
	}
	return out, nil
}

// commentedLine is a commented-out key: the byte range from the comment
// marker to the end of the line, and the blanks between the key and its
// "=", which keep the operator's alignment when it is uncommented.
type commentedLine struct {
	start, end int
	gap        string
}

// commented returns, per key, the first commented-out line of that key in
// the block.
func (b strategyBlock) commented(src []byte) map[string]commentedLine {
	out := map[string]commentedLine{}
	body := src[b.bodyStart:b.bodyEnd]
	for _, m := range commentedKey.FindAllSubmatchIndex(body, -1) {
		key := string(body[m[4]:m[5]])
		if _, seen := out[key]; !seen {
			out[key] = commentedLine{start: b.bodyStart + m[3], end: b.bodyStart + m[1], gap: string(body[m[6]:m[7]])}
		}
	}
	return out
}

// textEdit replaces src[start:end] with text.
type textEdit struct {
	start, end int
	text       string
}

func applyEdits(src []byte, edits []textEdit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := bytes.Clone(src)
	for _, e := range edits {
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out
}

// hclString renders s as an HCL string literal, escaping quotes, newlines
// and template sequences (${ and %{) so that any reason reads back as typed.
func hclString(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}

// overrideValues are the values written for an override; a key it lacks
// is commented out where the block has it.
func overrideValues(o request) map[string]string {
	v := map[string]string{
		keyCount:  hclString(strconv.FormatInt(o.count, 10)),
		keyUntil:  hclString(o.until.UTC().Format(time.RFC3339)),
		keyReason: hclString(o.reason),
	}
	if !o.from.IsZero() {
		v[keyFrom] = hclString(o.from.UTC().Format(time.RFC3339))
	}
	if o.minimum {
		v[keyMode] = hclString(modeMinimum)
	}
	return v
}

// setInSource writes the override into every strategy block labelled label
// of the policy: an existing key gets the new value, a commented-out one (as
// in policies/gpu-workers.hcl) is uncommented in place with its alignment,
// a missing one is added before the closing brace. It returns the checks it
// edited.
func setInSource(src []byte, filename, policyName, label string, o request) ([]byte, []string, error) {
	blocks, err := findStrategyBlocks(src, filename, policyName, label)
	if err != nil {
		return nil, nil, err
	}
	values := overrideValues(o)
	var edits []textEdit
	var checks []string
	for _, b := range blocks {
		checks = append(checks, b.check)
		commented := b.commented(src)
		var added bytes.Buffer
		for _, key := range fileKeys {
			value, set := values[key]
			a, has := b.attrs[key]
			switch {
			case !set && has:
				// An earlier override's start or mode must not carry
				// over to this one.
				if a.SrcRange.Start.Line != a.SrcRange.End.Line {
					return nil, nil, fmt.Errorf("%s: check %q: %s spans several lines: edit it by hand", filename, b.check, key)
				}
				edits = append(edits, textEdit{a.SrcRange.Start.Byte, a.SrcRange.Start.Byte, "# "})
				continue
			case !set:
				continue
			}
			if has {
				r := a.Expr.Range()
				edits = append(edits, textEdit{r.Start.Byte, r.End.Byte, value})
			} else if c, ok := commented[key]; ok {
				gap := c.gap
				if gap == "" {
					gap = " "
				}
				edits = append(edits, textEdit{c.start, c.end, key + gap + "= " + value})
			} else {
				added.WriteString(key + " = " + value + "\n")
			}
		}
		if added.Len() > 0 {
			edits = append(edits, insertBeforeClose(src, b, added.String())...)
		}
	}
	return formatLike(src, applyEdits(src, edits)), checks, nil
}

// insertBeforeClose adds lines (each ending in a newline) at the end of the
// block, indented one level deeper than its closing brace. A one-line block
// (`strategy "slope" { capacity_per_worker = "100" }`) is opened up first:
// HCL allows a single attribute there.
func insertBeforeClose(src []byte, b strategyBlock, lines string) []textEdit {
	prefix := src[b.closeLine:b.bodyEnd]
	if len(bytes.TrimSpace(prefix)) == 0 {
		return []textEdit{{b.closeLine, b.closeLine, indentLines(lines, string(prefix)+"  ")}}
	}
	lineStart := bytes.LastIndexByte(src[:b.bodyStart], '\n') + 1
	indent := src[lineStart:b.bodyStart]
	indent = indent[:len(indent)-len(bytes.TrimLeft(indent, " \t"))]
	return []textEdit{
		{b.bodyStart, b.bodyStart, "\n" + string(indent) + "  "},
		{b.bodyEnd, b.bodyEnd, "\n" + indentLines(lines, string(indent)+"  ") + string(indent)},
	}
}

func indentLines(lines, indent string) string {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter([]byte(lines), []byte("\n")) {
		if len(l) > 0 {
			out.WriteString(indent)
			out.Write(l)
		}
	}
	return out.String()
}

// clearInSource comments out the override keys of every strategy block
// labelled label of the policy, so the policy reads as before the override
// and the next one can be uncommented again. It returns the checks that
// had an override.
func clearInSource(src []byte, filename, policyName, label string) ([]byte, []string, error) {
	blocks, err := findStrategyBlocks(src, filename, policyName, label)
	if err != nil {
		return nil, nil, err
	}
	var edits []textEdit
	var checks []string
	for _, b := range blocks {
		found := false
		for _, key := range fileKeys {
			a, ok := b.attrs[key]
			if !ok {
				continue
			}
			if a.SrcRange.Start.Line != a.SrcRange.End.Line {
				return nil, nil, fmt.Errorf("%s: check %q: %s spans several lines: edit it by hand", filename, b.check, key)
			}
			found = true
			edits = append(edits, textEdit{a.SrcRange.Start.Byte, a.SrcRange.Start.Byte, "# "})
		}
		if found {
			checks = append(checks, b.check)
		}
	}
	return formatLike(src, applyEdits(src, edits)), checks, nil
}

// formatLike formats out as `nomad fmt` would when the original was
// formatted that way (re-aligning the edited block), and leaves it as it
// is otherwise, so a hand-laid-out file keeps its layout.
func formatLike(orig, out []byte) []byte {
	if bytes.Equal(hclwrite.Format(orig), orig) {
		return hclwrite.Format(out)
	}
	return out
}

// commentedIn returns the checks of the policy whose strategy block has key
// commented out, for the hint of an error.
func commentedIn(src []byte, filename, policyName, label, key string) []string {
	blocks, err := findStrategyBlocks(src, filename, policyName, label)
	if err != nil {
		return nil
	}
	var checks []string
	for _, b := range blocks {
		if _, ok := b.commented(src)[key]; ok {
			checks = append(checks, fmt.Sprintf("%q", b.check))
		}
	}
	return checks
}
