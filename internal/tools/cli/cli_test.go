package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/shoenig/test/must"
)

func TestExitCodesAndWhatIsPrinted(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"success prints nothing", nil, 0, ""},
		{"help is a success", fmt.Errorf("parse: %w", flag.ErrHelp), 0, ""},
		{"an error exits 1 with the tool's name on each line", errors.New("bad -from\nand -to"), 1, "sli: bad -from\nsli: and -to\n"},
		{"a usage error exits 2", Usage(errors.New(`-count "x": not a number`)), 2, "sli: -count \"x\": not a number\n"},
		{"an exit code without an error prints nothing", Exit(3, nil), 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			must.Eq(t, c.code, Report("sli", c.err, &stderr))
			must.Eq(t, c.stderr, stderr.String())
		})
	}
}

func TestAnExitCodeKeepsTheErrorChain(t *testing.T) {
	sentinel := errors.New("goals failed")
	err := Exit(2, fmt.Errorf("validate: %w", sentinel))
	must.ErrorIs(t, err, sentinel)
	must.Eq(t, 2, Code(err))
}
