package ins_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/ins"
)

// nirFields are the exported fields of a NIR, comparable in tests (the
// canonical value is checked through String()).
type nirFields struct {
	Sex                              ins.Sex
	BirthYear, MonthCode, BirthMonth int
	Birthplace, Department, Country  string
	BornAbroad, Corsica              bool
	Serial                           string
	Key                              int
}

func fieldsOf(n ins.NIR) nirFields {
	return nirFields{n.Sex, n.BirthYear, n.MonthCode, n.BirthMonth, n.Birthplace, n.Department, n.Country,
		n.BornAbroad, n.Corsica, n.Serial, n.Key}
}

func TestParseNIRValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want nirFields
	}{
		{"france.md example", "279035121518989", nirFields{ins.SexFemale, 79, 3, 3, "51215", "51", "", false, false, "189", 89}},
		{"Corsica 2A", "263092A00412381", nirFields{ins.SexFemale, 63, 9, 9, "2A004", "2A", "", false, true, "123", 81}},
		{"Corsica 2B", "171012B03300748", nirFields{ins.SexMale, 71, 1, 1, "2B033", "2B", "", false, true, "007", 48}},
		{"born abroad", "185059921704523", nirFields{ins.SexMale, 85, 5, 5, "99217", "", "217", true, false, "045", 23}},
		{"overseas département", "290019710501207", nirFields{ins.SexFemale, 90, 1, 1, "97105", "971", "", false, false, "012", 7}},
		{"pseudo-month 35", "199352012345691", nirFields{ins.SexMale, 99, 35, 0, "20123", "20", "", false, false, "456", 91}},
		{"pseudo-month 55", "101559935000123", nirFields{ins.SexMale, 1, 55, 0, "99350", "", "350", true, false, "001", 23}},
		{"temporary number, sex 7", "799019921700184", nirFields{ins.SexMale, 99, 1, 1, "99217", "", "217", true, false, "001", 84}},
		{"temporary number, sex 3", "399127505600121", nirFields{ins.SexMale, 99, 12, 12, "75056", "75", "", false, false, "001", 21}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ins.ParseNIR(tt.in)
			if err != nil {
				t.Fatalf("ParseNIR: %v", err)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
			if f := fieldsOf(got); f != tt.want {
				t.Errorf("ParseNIR = %+v\nwant       %+v", f, tt.want)
			}
		})
	}
}

func TestParseNIRInvalid(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		err     error
		pos     int
		message string // substring of Error()
	}{
		{"empty", "", ins.ErrLength, 0, "has 0 characters, want 15"},
		{"too short", "27903512151898", ins.ErrLength, 0, "has 14 characters, want 15"},
		{"too long", "2790351215189890", ins.ErrLength, 0, "has 16 characters, want 15"},
		{"spaces", "2 79 03 51 215 189 89", ins.ErrLength, 0, "has 21 characters"},
		{"letter", "27903512151X989", ins.ErrCharacter, 12, `character 12 is 'X': want a digit`},
		{"letter in key", "2790351215189A9", ins.ErrCharacter, 14, "the key is numeric"},
		{"lower-case Corsica", "263092a00412381", ins.ErrCharacter, 7, "2A/2B (upper case)"},
		{"A without 2", "263093A00412381", ins.ErrCharacter, 7, "2A/2B"},
		{"non-ASCII, 15 characters", "27903512151898é", ins.ErrCharacter, 15, "'é'"},
		{"sex 5", "579035121518989", ins.ErrSex, 1, "sex digit is 5"},
		{"sex 0", "079035121518989", ins.ErrSex, 1, "sex digit is 0"},
		{"month 00", "279005121518989", ins.ErrMonth, 4, "month is 00"},
		{"month 13", "279135121518989", ins.ErrMonth, 4, "month is 13"},
		{"month 45", "279455121518989", ins.ErrMonth, 4, "month is 45"},
		{"bad key", "279035121518988", ins.ErrKey, 14, "key is 88, want 89"},
		{"Corsica read as 20", "263092A00412300", ins.ErrKey, 14, "want 81"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ins.ParseNIR(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseNIR(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			var ne *ins.NIRError
			if !errors.As(err, &ne) {
				t.Fatalf("error %T is not a *NIRError", err)
			}
			if ne.Pos != tt.pos {
				t.Errorf("Pos = %d, want %d", ne.Pos, tt.pos)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Error() = %q, want it to contain %q", err, tt.message)
			}
			if len(tt.in) == 15 && strings.Contains(err.Error(), tt.in) {
				t.Errorf("Error() = %q quotes the matricule", err)
			}
		})
	}
}

func TestParseNIRBadKeyStillParses(t *testing.T) {
	n, err := ins.ParseNIR("279035121518988")
	var ne *ins.NIRError
	if !errors.As(err, &ne) || ne.Got != 88 || ne.Want != 89 {
		t.Fatalf("error = %v, want a key error 88/89", err)
	}
	if n.String() != "279035121518988" || n.Birthplace != "51215" || n.Key != 88 {
		t.Errorf("parsed value = %+v, want the fields of the number as written", n)
	}
}

func TestGenerateNIR(t *testing.T) {
	tests := []struct {
		sex        ins.Sex
		year       int
		month      int
		birthplace string
	}{
		{ins.SexFemale, 1979, 3, "51215"},
		{ins.SexMale, 2001, 12, "2A004"},
		{ins.SexMale, 1965, 7, "2B033"},
		{ins.SexFemale, 1990, 1, "99217"},
		{ins.SexMale, 1950, 30, "97411"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		for range 100 {
			n, err := ins.GenerateNIR(r, tt.sex, tt.year, tt.month, tt.birthplace)
			if err != nil {
				t.Fatalf("GenerateNIR(%v, %d, %d, %q): %v", tt.sex, tt.year, tt.month, tt.birthplace, err)
			}
			again, err := ins.ParseNIR(n.String())
			if err != nil {
				t.Fatalf("generated %s does not parse: %v", n, err)
			}
			if again.Sex != tt.sex || again.BirthYear != tt.year%100 || again.MonthCode != tt.month || again.Birthplace != tt.birthplace {
				t.Errorf("generated %s parses as %+v, want sex %v year %d month %d birthplace %s", n, again, tt.sex, tt.year%100, tt.month, tt.birthplace)
			}
		}
	}
}

func TestGenerateNIRDeterministic(t *testing.T) {
	gen := func() []string {
		r := rand.New(rand.NewPCG(42, 42))
		var out []string
		for range 10 {
			n, err := ins.GenerateNIR(r, ins.SexFemale, 1984, 6, "75056")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n.String())
		}
		return out
	}
	a, b := gen(), gen()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed gave %v then %v", a, b)
	}
}

func TestGenerateNIRRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name       string
		sex        ins.Sex
		year       int
		month      int
		birthplace string
		message    string
	}{
		{"unknown sex", ins.SexUnknown, 1980, 1, "75056", "sex must be male or female"},
		{"negative year", ins.SexMale, -1, 1, "75056", "year -1"},
		{"month 13", ins.SexMale, 1980, 13, "75056", "month is 13"},
		{"month 100", ins.SexMale, 1980, 100, "75056", "month 100"},
		{"short birthplace", ins.SexMale, 1980, 1, "7505", "5-character"},
		{"letters in birthplace", ins.SexMale, 1980, 1, "75X56", "character 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ins.GenerateNIR(r, tt.sex, tt.year, tt.month, tt.birthplace)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

// FuzzParseNIR checks that ParseNIR never panics, that whatever parses
// re-serialises to the input, and that the key verdict agrees with an
// independent computation of the key.
func FuzzParseNIR(f *testing.F) {
	for _, s := range []string{
		"279035121518989", "263092A00412381", "171012B03300748", "185059921704523",
		"279035121518988", "27903512151898", "2790351215189890", "2A", "", "263092a00412381",
		"199352012345691", "27903512151898é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ins.ParseNIR(s)
		var ne *ins.NIRError
		if err != nil && !errors.As(err, &ne) {
			t.Fatalf("error %T is not a *NIRError", err)
		}
		if err == nil || ne.Err == ins.ErrKey {
			if n.String() != s {
				t.Fatalf("ParseNIR(%q).String() = %q", s, n.String())
			}
			want := referenceKey(s[:13])
			if (err == nil) != (n.Key == want) {
				t.Fatalf("ParseNIR(%q): key %02d, reference key %02d, error %v", s, n.Key, want, err)
			}
			if err != nil && ne.Want != want {
				t.Fatalf("ParseNIR(%q): error wants key %02d, reference key %02d", s, ne.Want, want)
			}
		}
	})
}

// referenceKey computes the key the slow, obvious way: substitute the
// Corsican départements as text, then reduce digit by digit.
func referenceKey(body string) int {
	body = body[:5] + strings.NewReplacer("2A", "19", "2B", "18").Replace(body[5:7]) + body[7:]
	rem := 0
	for _, c := range body {
		rem = (rem*10 + int(c-'0')) % 97
	}
	return 97 - rem
}

func TestSexString(t *testing.T) {
	tests := []struct {
		sex  ins.Sex
		want string
	}{
		{ins.SexMale, "male"},
		{ins.SexFemale, "female"},
		{ins.SexUnknown, "unknown"},
		{ins.Sex(7), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.sex.String(); got != tt.want {
			t.Errorf("Sex(%d).String() = %q, want %q", tt.sex, got, tt.want)
		}
	}
}
