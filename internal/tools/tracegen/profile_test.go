package tracegen

import (
	"errors"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestDefaultsAreAValidProfileOfEachModel(t *testing.T) {
	t.Parallel()
	_, err := time.Parse(time.RFC3339, DefaultStart)
	must.NoError(t, err)
	for _, name := range []string{Business, Flashcrowd} {
		must.NoError(t, Defaults(name).Validate(), must.Sprint(name))
	}
	must.Eq(t, DefaultFlashcrowdDays, Defaults(Flashcrowd).Days)
	must.Eq(t, DefaultGrowth, Defaults(Flashcrowd).Growth)
	must.Eq(t, 0, Defaults(Business).Growth)
}

func TestParseProfileReadsEverySettingAndDefaultsTheRest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		settings map[string]string
		want     Profile
	}{
		{"no settings give the business defaults", nil, Defaults(Business)},
		{"a flashcrowd profile gets its own days and growth", map[string]string{KeyProfile: Flashcrowd}, Defaults(Flashcrowd)},
		{
			"every setting is read",
			map[string]string{
				KeyProfile: "flashcrowd", KeyDays: "30", KeyDaily: "6e7", KeyStart: "2026-04-30T22:00:00+02:00",
				KeyTimeZone: "Europe/Paris", KeySeed: "18446744073709551615", KeyGrowth: " 50 ",
			},
			Profile{
				Name: Flashcrowd, Days: 30, Daily: 6e7, Start: time.Date(2026, 4, 30, 20, 0, 0, 0, time.UTC),
				TimeZone: "Europe/Paris", Seed: 1<<64 - 1, Growth: 50,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseProfile(tc.settings)
			must.NoError(t, err)
			must.True(t, got.Start.Equal(tc.want.Start))
			got.Start = tc.want.Start
			must.Eq(t, tc.want, got)
		})
	}
}

func TestParseProfileNamesTheSettingAndValueOfEveryProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		settings map[string]string
		want     []string
	}{
		{"an unknown model", map[string]string{KeyProfile: "retail"}, []string{`-profile "retail": want business or flashcrowd`}},
		{"days that are not a number", map[string]string{KeyDays: "four weeks"}, []string{`-days "four weeks": want a whole number`}},
		{"zero days", map[string]string{KeyDays: "0"}, []string{`-days "0": want 1 to 3660 days`}},
		{"too many days", map[string]string{KeyDays: "3661"}, []string{`-days "3661"`}},
		{"a flashcrowd shorter than two weeks", map[string]string{KeyProfile: Flashcrowd, KeyDays: "13"}, []string{`-days "13": want 14 to 3660 days for -profile flashcrowd`}},
		{"a negative volume", map[string]string{KeyDaily: "-1"}, []string{`-daily "-1": want 1 to 10000000000 requests per day`}},
		{"a volume that is not a number", map[string]string{KeyDaily: "2M"}, []string{`-daily "2M": want a number`}},
		{"an infinite volume", map[string]string{KeyDaily: "Inf"}, []string{`-daily "+Inf"`}},
		{"a NaN volume", map[string]string{KeyDaily: "NaN"}, []string{`-daily "NaN"`}},
		{"a start that is not RFC 3339", map[string]string{KeyStart: "2026-03-02"}, []string{`-start "2026-03-02": want an RFC 3339 time`}},
		{"a start inside a minute", map[string]string{KeyStart: "2026-03-02T00:00:01Z"}, []string{`-start "2026-03-02T00:00:01Z": want the start of a minute`}},
		{"a start in the distant past", map[string]string{KeyStart: "0001-01-01T00:00:00Z"}, []string{`-start "0001-01-01T00:00:00Z": want a time in the years 1900 to 2999`}},
		{"an unknown zone", map[string]string{KeyTimeZone: "Mars/Olympus"}, []string{`-tz "Mars/Olympus": want an IANA time zone`}},
		{"an empty zone, which Go would read as UTC", map[string]string{KeyTimeZone: ""}, []string{`-tz ""`}},
		{"the machine's zone, which differs between machines", map[string]string{KeyTimeZone: "Local"}, []string{`-tz "Local"`}},
		{"a negative seed", map[string]string{KeySeed: "-1"}, []string{`-seed "-1": want a whole number`}},
		{"growth for the business model", map[string]string{KeyGrowth: "100"}, []string{`-growth "100": applies only to -profile flashcrowd`}},
		{"a shrinking flashcrowd", map[string]string{KeyProfile: Flashcrowd, KeyGrowth: "0.5"}, []string{`-growth "0.5": want a growth factor from 1 to 10000`}},
		{"growth that is not a number", map[string]string{KeyProfile: Flashcrowd, KeyGrowth: "x"}, []string{`-growth "x": want a number`}},
		{"a misspelt setting", map[string]string{"dialy": "5"}, []string{`unknown setting "dialy"`}},
		{
			"several problems at once, each reported",
			map[string]string{KeyProfile: Flashcrowd, KeyDays: "x", KeyDaily: "0", KeyStart: "soon", KeyTimeZone: "Nowhere", KeySeed: "s", KeyGrowth: "0", "out": "f"},
			[]string{`unknown setting "out"`, `-days "x"`, `-daily "0"`, `-start "soon"`, `-tz "Nowhere"`, `-seed "s"`, `-growth "0"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseProfile(tc.settings)
			must.Error(t, err)
			must.Eq(t, Profile{}, p)
			for _, want := range tc.want {
				must.StrContains(t, err.Error(), want)
			}
		})
	}
}

func TestParseProfileReportsAnUnparsableValueOnce(t *testing.T) {
	t.Parallel()
	_, err := ParseProfile(map[string]string{KeyDays: "x"})
	var joined interface{ Unwrap() []error }
	must.True(t, errors.As(err, &joined))
	must.SliceLen(t, 1, joined.Unwrap())
}

func TestValidateNamesEverySettingOfAZeroProfile(t *testing.T) {
	t.Parallel()
	err := Profile{}.Validate()
	for _, key := range []string{KeyProfile, KeyDays, KeyDaily, KeyStart, KeyTimeZone} {
		must.StrContains(t, err.Error(), "-"+key+" ")
	}
}

// FuzzParseProfile checks that no input panics and that what ParseProfile
// accepts, Validate accepts too.
func FuzzParseProfile(f *testing.F) {
	f.Add("business", "28", "2000000", DefaultStart, "Europe/Madrid", "1", "")
	f.Add("flashcrowd", "87", "6e7", "2026-04-30T22:00:00+02:00", "Asia/Kolkata", "3", "100")
	f.Add("", "-1", "NaN", "x", "Local", "-3", "Inf")
	f.Fuzz(func(t *testing.T, name, days, daily, start, tz, seed, growth string) {
		settings := map[string]string{KeyProfile: name, KeyDays: days, KeyDaily: daily, KeyStart: start, KeyTimeZone: tz, KeySeed: seed}
		if growth != "" {
			settings[KeyGrowth] = growth
		}
		p, err := ParseProfile(settings)
		if err == nil {
			must.NoError(t, p.Validate())
		}
	})
}
