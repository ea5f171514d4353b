package textfmt

import (
	"math"
	"testing"

	"github.com/shoenig/test/must"
)

func TestThousandsSeparatesGroupsOfThreeDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{
		0: "0", 999: "999", 1000: "1,000", 2e6: "2,000,000", 60e6: "60,000,000",
		-12345: "-12,345", -999: "-999", 1234.4: "1,234", 1234.6: "1,235",
	} {
		must.Eq(t, want, Thousands(in), must.Sprintf("Thousands(%v)", in))
	}
	must.Eq(t, "-1,234,567", Int(-1234567))
	must.Eq(t, "NaN", Thousands(math.NaN()))
}
