package searchparam

import (
	"fmt"
	"time"
)

// ParseDate parses a FHIR date, dateTime or instant (or a search value in
// the same format) and returns the range it denotes at its precision, in
// UTC: [low, high). "2015" is [2015-01-01T00:00:00Z, 2016-01-01T00:00:00Z),
// "2015-02-07T13:28:17-05:00" the second from 18:28:17Z, and a fraction of
// a second has the precision of its digits. Minutes without seconds
// ("2015-02-07T13:28Z") are accepted, as search values may omit seconds.
// A time without a zone is taken as UTC; so are dates, which have none.
func ParseDate(s string) (low, high time.Time, err error) {
	p := dateParser{s: s}
	year := p.digits(4)
	month, day := 1, 1
	var hour, minute, sec, nsec, offset int
	years, months, days := 1, 0, 0 // the precision, unless a time gives unit
	var unit time.Duration
	if p.accept('-') {
		years, months = 0, 1
		month = p.digits(2)
		if p.accept('-') {
			months, days = 0, 1
			day = p.digits(2)
			if p.accept('T') {
				days = 0
				hour = p.digits(2)
				p.expect(':')
				minute = p.digits(2)
				unit = time.Minute
				if p.accept(':') {
					sec = p.digits(2)
					unit = time.Second
					if p.accept('.') {
						nsec, unit = p.fraction()
					}
				}
				offset = p.zone()
			}
		}
	}
	if p.bad || p.i != len(s) || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, time.Time{}, fmt.Errorf("invalid date %q", s)
	}
	low = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	low = low.Add(-time.Duration(offset) * time.Second)
	if unit != 0 {
		return low, low.Add(unit), nil
	}
	return low, low.AddDate(years, months, days), nil
}

// daysIn returns the number of days of a month.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dateParser reads a date left to right; once bad, it stays bad.
type dateParser struct {
	s   string
	i   int
	bad bool
}

// digits reads exactly n decimal digits.
func (p *dateParser) digits(n int) int {
	v := 0
	for k := 0; k < n; k++ {
		if p.i >= len(p.s) || p.s[p.i] < '0' || p.s[p.i] > '9' {
			p.bad = true
			return 0
		}
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
	}
	return v
}

// accept consumes c if it comes next.
func (p *dateParser) accept(c byte) bool {
	if !p.bad && p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dateParser) expect(c byte) {
	if !p.accept(c) {
		p.bad = true
	}
}

// fraction reads the digits of a fraction of a second and returns it in
// nanoseconds, with its precision (1ms for 3 digits). Digits beyond the
// nanosecond are ignored.
func (p *dateParser) fraction() (nsec int, unit time.Duration) {
	unit = time.Second
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		if p.i-start < 9 {
			nsec = nsec*10 + int(p.s[p.i]-'0')
			unit /= 10
		}
		p.i++
	}
	if p.i == start {
		p.bad = true
	}
	return nsec * int(unit), unit
}

// zone reads Z, +hh:mm or -hh:mm and returns the offset from UTC in
// seconds; no zone at all is UTC.
func (p *dateParser) zone() int {
	if p.i == len(p.s) || p.accept('Z') {
		return 0
	}
	sign := 1
	if p.accept('-') {
		sign = -1
	} else {
		p.expect('+')
	}
	h := p.digits(2)
	p.expect(':')
	m := p.digits(2)
	if h > 14 || m > 59 {
		p.bad = true
	}
	return sign * (h*3600 + m*60)
}
