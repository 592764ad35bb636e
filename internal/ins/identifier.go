package ins

import (
	"errors"
	"fmt"
	"strings"
)

// OIDs of the INS identifier systems (ANS, CI-SIS; FR Core Patient INS).
const (
	OIDNIR     = "1.2.250.1.213.1.4.8"  // INS-NIR, production
	OIDNIA     = "1.2.250.1.213.1.4.9"  // INS-NIA
	OIDNIRTest = "1.2.250.1.213.1.4.10" // INS-NIR of fictitious test patients
	OIDNIRDemo = "1.2.250.1.213.1.4.11" // INS-NIR of fictitious demonstration patients
)

// FHIR Identifier.system values of the INS identifier systems.
const (
	SystemNIR     = "urn:oid:" + OIDNIR
	SystemNIA     = "urn:oid:" + OIDNIA
	SystemNIRTest = "urn:oid:" + OIDNIRTest
	SystemNIRDemo = "urn:oid:" + OIDNIRDemo
)

// Kind is the identifier system an INS matricule is issued under.
type Kind uint8

const (
	KindNIR Kind = iota + 1
	KindNIA
	KindNIRTest
	KindNIRDemo
)

var kinds = [...]struct{ oid, code string }{
	KindNIR:     {OIDNIR, "INS-NIR"},
	KindNIA:     {OIDNIA, "INS-NIA"},
	KindNIRTest: {OIDNIRTest, "INS-NIR-TEST"},
	KindNIRDemo: {OIDNIRDemo, "INS-NIR-DEMO"},
}

// String returns the FR Core identifier type code of the kind ("INS-NIR",
// "INS-NIA", "INS-NIR-TEST", "INS-NIR-DEMO"), "" for an invalid kind.
func (k Kind) String() string {
	if int(k) >= len(kinds) {
		return ""
	}
	return kinds[k].code
}

// OID returns the OID of the kind's identifier system.
func (k Kind) OID() string {
	if int(k) >= len(kinds) {
		return ""
	}
	return kinds[k].oid
}

// System returns the FHIR Identifier.system of the kind ("urn:oid:…").
func (k Kind) System() string {
	if o := k.OID(); o != "" {
		return "urn:oid:" + o
	}
	return ""
}

// KindOf returns the INS kind of an identifier system given as a FHIR
// system ("urn:oid:1.2.250.1.213.1.4.8") or as a bare OID, as CDA carries it
// in II/@root.
func KindOf(system string) (Kind, bool) {
	oid := strings.TrimPrefix(system, "urn:oid:")
	for k := KindNIR; k <= KindNIRDemo; k++ {
		if kinds[k].oid == oid {
			return k, true
		}
	}
	return 0, false
}

// ErrNotINS is returned by ValidateINS for a system that is not one of the
// four INS identifier systems.
var ErrNotINS = errors.New("not an INS identifier system")

// INS is a validated INS identifier.
type INS struct {
	Kind Kind
	// NIR is the parsed matricule (a NIA when Kind is KindNIA).
	NIR NIR
	// Warnings lists what was tolerated by policy, such as a bad key under
	// the test or demonstration system. Empty for a clean identifier.
	Warnings []string
}

// ValidateINS validates an INS identifier (system + value) with the
// platform's policy:
//   - production INS-NIR and INS-NIA: the matricule must be well formed and
//     its key right;
//   - test and demonstration INS-NIR: the matricule must be well formed, a
//     bad key is only a warning, because several official test examples
//     carry wrong keys (domain/france.md §1).
//
// The system may be a FHIR "urn:oid:" system or a bare OID.
func ValidateINS(system, value string) (INS, error) {
	k, ok := KindOf(system)
	if !ok {
		return INS{}, fmt.Errorf("ins: identifier system %q: %w", system, ErrNotINS)
	}
	label := "NIR"
	if k == KindNIA {
		label = "NIA"
	}
	n, err := parse(value, label)
	if err == nil {
		return INS{Kind: k, NIR: n}, nil
	}
	var ne *NIRError
	if (k == KindNIRTest || k == KindNIRDemo) && errors.As(err, &ne) && ne.Err == ErrKey {
		w := ne.Label + " " + ne.msg + ", tolerated under the " + k.String() + " system"
		return INS{Kind: k, NIR: n, Warnings: []string{w}}, nil
	}
	return INS{}, fmt.Errorf("%w (%s identifier)", err, k)
}
