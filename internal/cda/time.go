package cda

import (
	"fmt"
	"strings"
	"time"
)

// Precision is how much of a point in time a value gives.
type Precision uint8

const (
	PrecisionYear Precision = iota + 1
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	// PrecisionSecond includes fractions of a second.
	PrecisionSecond
)

// TS is an HL7 v3 point in time (data type TS), as CDA writes it:
// YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±HHMM]. The zero value means "not given"
// (element absent, or carrying a nullFlavor).
type TS struct {
	// Time holds the fields given; the others are at their minimum (month
	// and day 1, time 00:00:00). When the value has a UTC offset, Time is
	// in a fixed zone of that offset; otherwise it is in UTC, standing for
	// the unknown local time of the document.
	Time      time.Time
	Precision Precision
	// Zoned reports a value written with a UTC offset.
	Zoned bool
}

// IsZero reports a value not given.
func (t TS) IsZero() bool { return t.Precision == 0 }

// String writes t back in HL7 form at its precision, "" for the zero TS.
func (t TS) String() string {
	if t.IsZero() {
		return ""
	}
	layout := [...]string{
		PrecisionYear:   "2006",
		PrecisionMonth:  "200601",
		PrecisionDay:    "20060102",
		PrecisionHour:   "2006010215",
		PrecisionMinute: "200601021504",
		PrecisionSecond: "20060102150405.9999",
	}[t.Precision]
	if t.Zoned {
		layout += "-0700"
	}
	return t.Time.Format(layout)
}

// ParseTS parses an HL7 v3 TS value. Fields must be in range (month 1–12,
// day valid for the month, hour < 24, minute and second < 60), a fraction
// of a second has 1–4 digits after the seconds, and the offset is ±HHMM with
// HH < 24 and MM < 60.
func ParseTS(s string) (TS, error) {
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	digits, frac, hasFrac := strings.Cut(body, ".")
	var p Precision
	switch len(digits) {
	case 4:
		p = PrecisionYear
	case 6:
		p = PrecisionMonth
	case 8:
		p = PrecisionDay
	case 10:
		p = PrecisionHour
	case 12:
		p = PrecisionMinute
	case 14:
		p = PrecisionSecond
	}
	badShape := p == 0 || !allDigits(digits) ||
		hasFrac && (p != PrecisionSecond || len(frac) < 1 || len(frac) > 4 || !allDigits(frac)) ||
		zone != "" && (len(zone) != 5 || !allDigits(zone[1:]))
	if badShape {
		return TS{}, fmt.Errorf("invalid HL7 time %q: want YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][±HHMM], digits only", truncate(s, 40))
	}
	f := []int{atoi(digits[:4]), 1, 1, 0, 0, 0} // year, month, day, hour, minute, second
	for i := 1; 4+2*i <= len(digits); i++ {
		f[i] = atoi(digits[2+2*i : 4+2*i])
	}
	nsec := 0
	if frac != "" {
		nsec = atoi(frac + strings.Repeat("0", 9-len(frac)))
	}
	loc := time.UTC
	if zone != "" {
		if atoi(zone[1:3]) > 23 || atoi(zone[3:]) > 59 {
			return TS{}, fmt.Errorf("invalid HL7 time %q: the UTC offset is out of range", truncate(s, 40))
		}
		off := atoi(zone[1:3])*3600 + atoi(zone[3:])*60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	if !validFields(f) {
		return TS{}, fmt.Errorf("invalid HL7 time %q: a field is out of range", truncate(s, 40))
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nsec, loc)
	return TS{Time: t, Precision: p, Zoned: zone != ""}, nil
}

// parseFHIRTime parses a FHIR date, dateTime or instant: YYYY, YYYY-MM,
// YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh:mm), the time requiring
// a zone as FHIR does.
func parseFHIRTime(s string) (TS, error) {
	bad := fmt.Errorf("invalid FHIR dateTime %q", truncate(s, 40))
	date, clock, hasClock := strings.Cut(s, "T")
	var hl7 string
	switch {
	case len(date) == 4:
		hl7 = date
	case len(date) == 7 && date[4] == '-':
		hl7 = date[:4] + date[5:]
	case len(date) == 10 && date[4] == '-' && date[7] == '-':
		hl7 = date[:4] + date[5:7] + date[8:]
	default:
		return TS{}, bad
	}
	if hasClock {
		if len(hl7) != 8 {
			return TS{}, bad
		}
		var zone string
		switch {
		case strings.HasSuffix(clock, "Z"):
			clock, zone = clock[:len(clock)-1], "+0000"
		case len(clock) > 6 && (clock[len(clock)-6] == '+' || clock[len(clock)-6] == '-') && clock[len(clock)-3] == ':':
			z := clock[len(clock)-6:]
			clock, zone = clock[:len(clock)-6], z[:3]+z[4:]
		default:
			return TS{}, bad
		}
		hms, frac, hasFrac := strings.Cut(clock, ".")
		if len(hms) != 8 || hms[2] != ':' || hms[5] != ':' {
			return TS{}, bad
		}
		hl7 += hms[:2] + hms[3:5] + hms[6:]
		if hasFrac {
			if !allDigits(frac) {
				return TS{}, bad
			}
			// HL7 keeps 4 digits; FHIR allows more, which do not change the
			// comparison at any precision Check uses.
			if len(frac) > 4 {
				frac = frac[:4]
			}
			hl7 += "." + frac
		}
		hl7 += zone
	}
	t, err := ParseTS(hl7)
	if err != nil {
		return TS{}, bad
	}
	return t, nil
}

// sameAt reports whether a and b denote the same time at the coarser of
// their precisions. When both carry an offset, b is first moved to a's
// offset; when either lacks one, the fields are compared as written.
func sameAt(a, b TS) bool {
	p := min(a.Precision, b.Precision)
	ta, tb := a.Time, b.Time
	if a.Zoned && b.Zoned {
		tb = tb.In(ta.Location())
	}
	fa := [...]int{ta.Year(), int(ta.Month()), ta.Day(), ta.Hour(), ta.Minute(), ta.Second()}
	fb := [...]int{tb.Year(), int(tb.Month()), tb.Day(), tb.Hour(), tb.Minute(), tb.Second()}
	for i := range int(p) {
		if fa[i] != fb[i] {
			return false
		}
	}
	return true
}

func validFields(f []int) bool {
	if f[1] < 1 || f[1] > 12 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return false
	}
	last := time.Date(f[0], time.Month(f[1])+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return f[2] >= 1 && f[2] <= last
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a string of ASCII digits (checked by the caller).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
