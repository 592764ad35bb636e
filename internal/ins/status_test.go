package ins_test

import (
	"testing"

	"github.com/carnet-sante/carnet/internal/ins"
)

func TestDeriveStatus(t *testing.T) {
	const (
		D = ins.AttrDoubtful
		F = ins.AttrFictitious
		H = ins.AttrHomonym
		B = ins.AttrDuplicate
		C = ins.AttrCollision
	)
	tests := []struct {
		fromINSi, idChecked bool
		attrs               []ins.Attribute
		want                ins.Status
		wantErr             bool
	}{
		// The RNIV table.
		{false, false, nil, ins.StatusProvisional, false},
		{false, true, nil, ins.StatusValidated, false},
		{true, false, nil, ins.StatusRetrieved, false},
		{true, true, nil, ins.StatusQualified, false},
		// DOUT and FICT force PROV, whatever the criteria.
		{true, true, []ins.Attribute{D}, ins.StatusProvisional, false},
		{false, true, []ins.Attribute{D}, ins.StatusProvisional, false},
		{true, false, []ins.Attribute{D}, ins.StatusProvisional, false},
		{true, true, []ins.Attribute{F}, ins.StatusProvisional, false},
		{false, true, []ins.Attribute{F, B}, ins.StatusProvisional, false},
		// DOUT and HOMA may be combined; the others do not change the status.
		{true, true, []ins.Attribute{D, H}, ins.StatusProvisional, false},
		{true, true, []ins.Attribute{H}, ins.StatusQualified, false},
		{true, true, []ins.Attribute{B, C}, ins.StatusQualified, false},
		{false, true, []ins.Attribute{C}, ins.StatusValidated, false},
		{true, false, []ins.Attribute{"DESA"}, ins.StatusRetrieved, false},
		// FICT cannot be combined with DOUT or HOMA.
		{false, false, []ins.Attribute{F, D}, "", true},
		{true, true, []ins.Attribute{H, F}, "", true},
	}
	for _, tt := range tests {
		got, err := ins.DeriveStatus(tt.fromINSi, tt.idChecked, tt.attrs...)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("DeriveStatus(INSi=%v, ID=%v, %v) = %q, %v; want %q, error %v",
				tt.fromINSi, tt.idChecked, tt.attrs, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStatusCanShareINS(t *testing.T) {
	tests := []struct {
		status      ins.Status
		valid, want bool
	}{
		{ins.StatusProvisional, true, false},
		{ins.StatusRetrieved, true, false},
		{ins.StatusValidated, true, false},
		{ins.StatusQualified, true, true},
		{"", false, false},
		{"qual", false, false},
	}
	for _, tt := range tests {
		if tt.status.Valid() != tt.valid || tt.status.CanShareINS() != tt.want {
			t.Errorf("%q: Valid() = %v, CanShareINS() = %v; want %v, %v",
				tt.status, tt.status.Valid(), tt.status.CanShareINS(), tt.valid, tt.want)
		}
	}
}
