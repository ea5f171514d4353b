// Package textfmt formats numbers for the tools' tables and READMEs, one way
// for all of them, so that a figure reads the same in a demo summary, an SLI
// report and a README block.
package textfmt

import (
	"strconv"
	"strings"
)

// Thousands writes v rounded to a whole number with comma separators:
// 60,000,000 and -1,234.
func Thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.Grow(len(s) + len(digits)/3)
	if len(digits) < len(s) {
		b.WriteByte('-')
	}
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// Int is Thousands for a count.
func Int(n int64) string { return Thousands(float64(n)) }
