package ins_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/ins"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		system string
		want   ins.Kind
		ok     bool
	}{
		{"urn:oid:1.2.250.1.213.1.4.8", ins.KindNIR, true},
		{"1.2.250.1.213.1.4.8", ins.KindNIR, true},
		{"urn:oid:1.2.250.1.213.1.4.9", ins.KindNIA, true},
		{"urn:oid:1.2.250.1.213.1.4.10", ins.KindNIRTest, true},
		{"1.2.250.1.213.1.4.11", ins.KindNIRDemo, true},
		{"urn:oid:1.2.250.1.213.1.4.2", 0, false}, // INS-C, retired
		{"urn:oid:1.2.250.1.213.1.4.1", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ins.KindOf(tt.system)
		if got != tt.want || ok != tt.ok {
			t.Errorf("KindOf(%q) = %v, %v; want %v, %v", tt.system, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKindNames(t *testing.T) {
	tests := []struct {
		kind         ins.Kind
		code, system string
	}{
		{ins.KindNIR, "INS-NIR", ins.SystemNIR},
		{ins.KindNIA, "INS-NIA", ins.SystemNIA},
		{ins.KindNIRTest, "INS-NIR-TEST", ins.SystemNIRTest},
		{ins.KindNIRDemo, "INS-NIR-DEMO", ins.SystemNIRDemo},
		{ins.Kind(0), "", ""},
		{ins.Kind(9), "", ""},
	}
	for _, tt := range tests {
		if tt.kind.String() != tt.code || tt.kind.System() != tt.system {
			t.Errorf("Kind(%d) = %q %q, want %q %q", tt.kind, tt.kind.String(), tt.kind.System(), tt.code, tt.system)
		}
	}
}

func TestValidateINS(t *testing.T) {
	const good, badKey = "279035121518989", "279035121518988"
	tests := []struct {
		name     string
		system   string
		value    string
		kind     ins.Kind
		err      error  // nil: valid
		warning  string // substring of the only warning, "" for none
		errorMsg string // substring of the error message
	}{
		{"production, valid", ins.SystemNIR, good, ins.KindNIR, nil, "", ""},
		{"production, bare OID", ins.OIDNIR, good, ins.KindNIR, nil, "", ""},
		{"production, bad key", ins.SystemNIR, badKey, 0, ins.ErrKey, "", "NIR key is 88, want 89 (INS-NIR identifier)"},
		{"NIA, valid", ins.SystemNIA, good, ins.KindNIA, nil, "", ""},
		{"NIA, bad key", ins.SystemNIA, badKey, 0, ins.ErrKey, "", "NIA key is 88"},
		{"test, valid", ins.SystemNIRTest, good, ins.KindNIRTest, nil, "", ""},
		{"test, bad key is a warning", ins.SystemNIRTest, badKey, ins.KindNIRTest, nil, "key is 88, want 89, tolerated under the INS-NIR-TEST system", ""},
		{"demo, bad key is a warning", ins.SystemNIRDemo, badKey, ins.KindNIRDemo, nil, "tolerated under the INS-NIR-DEMO", ""},
		{"test, bad month is still an error", ins.SystemNIRTest, "279135121518989", 0, ins.ErrMonth, "", "month is 13"},
		{"demo, wrong length is still an error", ins.SystemNIRDemo, "2790351215189", 0, ins.ErrLength, "", "has 13 characters"},
		{"not an INS system", "urn:oid:1.2.250.1.71.4.2.1", good, 0, ins.ErrNotINS, "", "1.2.250.1.71.4.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ins.ValidateINS(tt.system, tt.value)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.errorMsg) {
					t.Errorf("error = %q, want it to contain %q", err, tt.errorMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateINS: %v", err)
			}
			if got.Kind != tt.kind || got.NIR.String() != tt.value {
				t.Errorf("got kind %v value %q, want %v %q", got.Kind, got.NIR, tt.kind, tt.value)
			}
			switch {
			case tt.warning == "" && len(got.Warnings) != 0:
				t.Errorf("warnings = %q, want none", got.Warnings)
			case tt.warning != "" && (len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], tt.warning)):
				t.Errorf("warnings = %q, want one containing %q", got.Warnings, tt.warning)
			}
		})
	}
}
