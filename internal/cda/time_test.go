package cda_test

import (
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/cda"
)

func TestParseTS(t *testing.T) {
	plus1 := time.FixedZone("", 3600)
	minus8 := time.FixedZone("", -8*3600)
	for _, tt := range []struct {
		in    string
		want  time.Time
		p     cda.Precision
		zoned bool
	}{
		{"2024", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), cda.PrecisionYear, false},
		{"202402", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), cda.PrecisionMonth, false},
		{"20240229", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), cda.PrecisionDay, false},
		{"2024022913", time.Date(2024, 2, 29, 13, 0, 0, 0, time.UTC), cda.PrecisionHour, false},
		{"202402291305-0800", time.Date(2024, 2, 29, 13, 5, 0, 0, minus8), cda.PrecisionMinute, true},
		{"20240229130559+0100", time.Date(2024, 2, 29, 13, 5, 59, 0, plus1), cda.PrecisionSecond, true},
		{"20240229130559.25+0100", time.Date(2024, 2, 29, 13, 5, 59, 250_000_000, plus1), cda.PrecisionSecond, true},
		{"2024+0100", time.Date(2024, 1, 1, 0, 0, 0, 0, plus1), cda.PrecisionYear, true},
	} {
		got, err := cda.ParseTS(tt.in)
		if err != nil {
			t.Errorf("ParseTS(%q): %v", tt.in, err)
			continue
		}
		if !got.Time.Equal(tt.want) || got.Precision != tt.p || got.Zoned != tt.zoned {
			t.Errorf("ParseTS(%q) = %v %v %v, want %v %v %v", tt.in, got.Time, got.Precision, got.Zoned, tt.want, tt.p, tt.zoned)
		}
		if _, off := got.Time.Zone(); off != func() int { _, o := tt.want.Zone(); return o }() {
			t.Errorf("ParseTS(%q) offset %d", tt.in, off)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseTS(%q).String() = %q", tt.in, s)
		}
	}
	for _, in := range []string{
		"", "24", "20241", "2024-01-15", "20240230", "20231301", "2024010124", "202401011260",
		"20240101120060", "20240101120000.", "20240101120000.12345", "202401011200.5",
		"20240101+01", "20240101+2400", "20240101+0160", "20240101Z", "２０２４", "2024 ",
	} {
		if v, err := cda.ParseTS(in); err == nil {
			t.Errorf("ParseTS(%q) = %v, want an error", in, v)
		}
	}
	if (cda.TS{}).String() != "" || !(cda.TS{}).IsZero() {
		t.Error("the zero TS must be empty")
	}
}
