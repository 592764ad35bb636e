package ins

import (
	"fmt"
	"slices"
)

// Status is the confidence status of an identity in the national
// identitovigilance framework (RNIV), as coded in FR Core
// (CodeSystem fr-core-cs-identity-status).
type Status string

const (
	StatusProvisional Status = "PROV"  // identité provisoire
	StatusRetrieved   Status = "RECUP" // identité récupérée (from INSi, no ID document checked)
	StatusValidated   Status = "VALI"  // identité validée (ID document checked, not from INSi)
	StatusQualified   Status = "QUAL"  // identité qualifiée (from INSi and ID document checked)
)

// Valid reports whether s is one of the four RNIV statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusProvisional, StatusRetrieved, StatusValidated, StatusQualified:
		return true
	}
	return false
}

// CanShareINS reports whether an identity with this status may carry the
// INS and share it with other systems: only a qualified identity may.
func (s Status) CanShareINS() bool { return s == StatusQualified }

// Attribute is an annotation on an identity, coded as in FR Core
// (CodeSystem fr-core-cs-identity-status-comment). The constants are the
// ones the platform acts upon; other codes of that code system are carried
// through unchanged.
type Attribute string

const (
	AttrDoubtful   Attribute = "DOUT" // identité douteuse: forces PROV
	AttrFictitious Attribute = "FICT" // identité fictive: forces PROV
	AttrHomonym    Attribute = "HOMA" // homonyme avéré
	AttrDuplicate  Attribute = "DOUB" // doublon (possible duplicate to resolve)
	AttrCollision  Attribute = "COLP" // collision potentielle
)

// DeriveStatus computes the status of an identity from the two RNIV
// criteria and its attributes:
//
//	                  no ID check   ID checked
//	not from INSi     PROV          VALI
//	from INSi         RECUP         QUAL
//
// A doubtful (DOUT) or fictitious (FICT) identity is always PROV, whatever
// the criteria (RNIV 1 [EXI SI 09]). FICT cannot be combined with DOUT or
// HOMA: "only the doubtful and homonym attributes may be used together"
// (RNIV 1 §3.2.3, as quoted by FR Core's fr-core-identity-reliability
// invariants); such a combination is an error.
func DeriveStatus(fromINSi, idChecked bool, attrs ...Attribute) (Status, error) {
	if slices.Contains(attrs, AttrFictitious) {
		for _, other := range []Attribute{AttrDoubtful, AttrHomonym} {
			if slices.Contains(attrs, other) {
				return "", fmt.Errorf("ins: identity attributes %s and %s cannot be combined", AttrFictitious, other)
			}
		}
		return StatusProvisional, nil
	}
	if slices.Contains(attrs, AttrDoubtful) {
		return StatusProvisional, nil
	}
	switch {
	case fromINSi && idChecked:
		return StatusQualified, nil
	case fromINSi:
		return StatusRetrieved, nil
	case idChecked:
		return StatusValidated, nil
	}
	return StatusProvisional, nil
}
