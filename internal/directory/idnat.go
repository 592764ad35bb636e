package directory

import (
	"errors"
	"fmt"
	"strings"
)

// PSKind is the prefix of an IdNatPS, the national identifier of a
// professional (TRE_G08 TypeIdentifiantPersonne; CI-SIS "Annexe transverse
// – Source des données métier", as restated by the ANS PDSm IG's PSIdNat).
type PSKind byte

const (
	PSADELI        PSKind = '0' // 0 + ADELI number
	PSCabinetADELI PSKind = '1' // 1 + ADELI cabinet id / internal id
	PSFINESS       PSKind = '3' // 3 + FINESS / internal id
	PSSIREN        PSKind = '4' // 4 + SIREN / internal id
	PSSIRET        PSKind = '5' // 5 + SIRET / internal id
	PSCabinetRPPS  PSKind = '6' // 6 + RPPS cabinet id / internal id
	PSRPPS         PSKind = '8' // 8 + RPPS number
)

// IdNatPS is a parsed professional identifier.
type IdNatPS struct {
	Kind PSKind
	// Number is the RPPS or ADELI number (kinds 8 and 0), or the identifier
	// of the structure that registered the person (the other kinds).
	Number string
	// Local is the person's identifier inside that structure (the part
	// after the slash), empty for kinds 8 and 0.
	Local string
}

// String returns the IdNatPS as written: prefix, number, and "/local" for
// the structure-registered kinds.
func (id IdNatPS) String() string {
	if id.Local != "" {
		return string(id.Kind) + id.Number + "/" + id.Local
	}
	return string(id.Kind) + id.Number
}

// IdNatPS parses and checks an IdNatPS (system OIDIdNatPS): "8" + RPPS (12
// characters), "0" + ADELI (10 characters), or, for staff registered by a
// structure without a national number, prefix 1, 3, 4, 5 or 6 + structure
// identifier + "/" + internal identifier, where a FINESS, SIREN or SIRET
// structure identifier is checked as such.
func (v Validator) IdNatPS(s string) (IdNatPS, error) {
	if s == "" {
		return IdNatPS{}, formatErr("IdNatPS", s, "is empty")
	}
	id := IdNatPS{Kind: PSKind(s[0]), Number: s[1:]}
	var err error
	switch id.Kind {
	case PSRPPS:
		err = v.RPPS(id.Number)
	case PSADELI:
		err = v.ADELI(id.Number)
	case PSCabinetADELI, PSFINESS, PSSIREN, PSSIRET, PSCabinetRPPS:
		number, local, ok := strings.Cut(id.Number, "/")
		if !ok || !isToken(number) || !isToken(local) {
			return IdNatPS{}, formatErr("IdNatPS", s, "after prefix %c, want structure identifier/internal identifier, letters and digits", s[0])
		}
		id.Number, id.Local = number, local
		switch id.Kind {
		case PSFINESS:
			err = v.FINESS(number)
		case PSSIREN:
			err = v.SIREN(number)
		case PSSIRET:
			err = v.SIRET(number)
		}
	default:
		return IdNatPS{}, &Error{Identifier: "IdNatPS", Value: s, Err: ErrPrefix,
			Reason: fmt.Sprintf("prefix %q is none of 0 (ADELI), 8 (RPPS), 1, 3, 4, 5, 6 (structure/internal id)", s[0])}
	}
	if err != nil {
		return IdNatPS{}, nested("IdNatPS", s, err)
	}
	return id, nil
}

// StructKind is the prefix of an IdNatStruct, the national identifier of a
// structure (FR Core Organization, slice idNatSt).
type StructKind byte

const (
	StructADELIRang StructKind = '0' // 0 + ADELI rang (ADELI + 2-digit rank)
	StructFINESS    StructKind = '1' // 1 + FINESS
	StructSIREN     StructKind = '2' // 2 + SIREN
	StructSIRET     StructKind = '3' // 3 + SIRET
	StructRPPSRang  StructKind = '4' // 4 + RPPS rang (RPPS + 2-digit rank), or a technical id
)

// IdNatStruct is a parsed structure identifier.
type IdNatStruct struct {
	Kind   StructKind
	Number string
}

// String returns the IdNatStruct as written: prefix and number.
func (id IdNatStruct) String() string { return string(id.Kind) + id.Number }

// IdNatStruct parses and checks an IdNatStruct (system OIDIdNatStruct):
// "1" + FINESS, "2" + SIREN, "3" + SIRET, "0" + ADELI rang (11 digits),
// "4" + RPPS rang (13 digits). FR Core also allows, after "4", the
// directory's technical identifier of the structure: a "4" value that is
// not 13 digits is accepted when it is letters and digits.
func (v Validator) IdNatStruct(s string) (IdNatStruct, error) {
	if s == "" {
		return IdNatStruct{}, formatErr("IdNatStruct", s, "is empty")
	}
	id := IdNatStruct{Kind: StructKind(s[0]), Number: s[1:]}
	var err error
	switch id.Kind {
	case StructFINESS:
		err = v.FINESS(id.Number)
	case StructSIREN:
		err = v.SIREN(id.Number)
	case StructSIRET:
		err = v.SIRET(id.Number)
	case StructADELIRang:
		err = rang("ADELI rang", id.Number, 9, v.ADELI)
	case StructRPPSRang:
		if len(id.Number) == 13 && isDigits(id.Number) {
			err = rang("RPPS rang", id.Number, 11, v.RPPS)
		} else if !isToken(id.Number) {
			return IdNatStruct{}, formatErr("IdNatStruct", s, "after prefix 4, want an RPPS rang (13 digits) or a technical identifier (letters and digits)")
		}
	default:
		return IdNatStruct{}, &Error{Identifier: "IdNatStruct", Value: s, Err: ErrPrefix,
			Reason: fmt.Sprintf("prefix %q is none of 0 (ADELI rang), 1 (FINESS), 2 (SIREN), 3 (SIRET), 4 (RPPS rang)", s[0])}
	}
	if err != nil {
		return IdNatStruct{}, nested("IdNatStruct", s, err)
	}
	return id, nil
}

// nested reports the error err, found in a part of the identifier ident,
// as an error on the whole identifier, keeping the part's reason and
// sentinel.
func nested(ident, value string, err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	return &Error{Identifier: ident, Value: value, Err: e.Err,
		Reason: fmt.Sprintf("%s part %q: %s", e.Identifier, e.Value, e.Reason)}
}

// rang checks a cabinet number: a professional's number of n digits,
// checked by check, followed by a 2-digit rank.
func rang(ident, s string, n int, check func(string) error) error {
	if len(s) != n+2 || !isDigits(s) {
		return formatErr(ident, s, "want %d digits (number + 2-digit rank)", n+2)
	}
	return nested(ident, s, check(s[:n]))
}

// Identifier checks a FHIR identifier (system + value) of a professional or
// a structure. The system may also be a bare OID, as CDA writes it in
// II/@root. An unknown system is an ErrSystem error.
func (v Validator) Identifier(system, value string) error {
	var err error
	switch system {
	case SystemIdNatPS, OIDIdNatPS:
		_, err = v.IdNatPS(value)
	case SystemIdNatStruct, OIDIdNatStruct:
		_, err = v.IdNatStruct(value)
	case SystemRPPS:
		err = v.RPPS(value)
	case SystemFINESS, SystemFINESSLegacy:
		err = v.FINESS(value)
	case SystemSIRENE:
		switch len(value) {
		case 9:
			err = v.SIREN(value)
		case 14:
			err = v.SIRET(value)
		default:
			err = formatErr("SIREN/SIRET", value, "has %d characters, want 9 (SIREN) or 14 (SIRET) digits", len(value))
		}
	case SystemRPPSRang:
		err = rang("RPPS rang", value, 11, v.RPPS)
	case SystemADELIRang:
		err = rang("ADELI rang", value, 9, v.ADELI)
	default:
		err = &Error{Identifier: "identifier", Value: value, Err: ErrSystem,
			Reason: fmt.Sprintf("system %q is not a professional or structure identifier system", system)}
	}
	return err
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isToken reports whether s is a non-empty run of ASCII letters and digits.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
