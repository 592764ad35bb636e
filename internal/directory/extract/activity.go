package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/carnet-sante/carnet/internal/directory"
)

// activity is a row whose identifiers have been checked, with the ids of
// the resources it produces. The other values are read from Reader.row.
type activity struct {
	ps     string // IdNatPS: the Practitioner id
	rpps   string // bare RPPS number, "" for an ADELI professional
	st     string // IdNatStruct of the site, "" for a row without structure
	orgID  string
	roleID string
}

// readActivity reads the next row and checks it: identifiers of the
// professional and of the structure, name and profession. A row that
// fails is a *RowError naming the column and what is wrong.
func (r *Reader) readActivity() (*activity, error) {
	if err := r.readRow(); err != nil {
		return nil, err
	}
	row := &r.row
	reject := func(err error, format string, args ...any) error {
		return &RowError{Line: r.line, Reason: fmt.Sprintf(format, args...), Err: err}
	}

	idType, id := row[colIDType], row[colID]
	if id == "" {
		return nil, reject(nil, "Identifiant PP is empty: every row needs the professional's RPPS or ADELI number")
	}
	a := &activity{ps: idType + id}
	var err error
	switch idType {
	case string(directory.PSRPPS):
		err = r.v.RPPS(id)
		a.rpps = id
	case string(directory.PSADELI):
		err = r.v.ADELI(id)
	case "":
		return nil, reject(nil, "Type d'identifiant PP is empty: want 8 (RPPS) or 0 (ADELI)")
	default:
		return nil, reject(nil, "Type d'identifiant PP %q is unknown: want 8 (RPPS) or 0 (ADELI)", idType)
	}
	if err != nil {
		return nil, reject(err, "Identifiant PP: %s", reason(err))
	}
	if nat := row[colIdNatPS]; nat != "" && nat != a.ps {
		return nil, reject(nil, "Identification nationale PP %q is not Type d'identifiant PP + Identifiant PP (%q)", nat, a.ps)
	}
	if row[colFamily] == "" {
		return nil, reject(nil, "Nom d'exercice is empty: a professional needs a name")
	}
	if !isToken(row[colProfession]) {
		return nil, reject(nil, "Code profession %q is not a code of the profession table TRE_G15 (letters and digits)", row[colProfession])
	}

	for _, c := range []struct {
		col   column
		name  string
		check func(string) error
	}{
		{colFINESS, "Numéro FINESS site", r.v.FINESS},
		{colSIRET, "Numéro SIRET site", r.v.SIRET},
		{colSIREN, "Numéro SIREN site", r.v.SIREN},
		{colFINESSLegal, "Numéro FINESS établissement juridique", r.v.FINESS},
	} {
		if v := row[c.col]; v != "" {
			if err := c.check(v); err != nil {
				return nil, reject(err, "%s: %s", c.name, reason(err))
			}
		}
	}
	switch {
	case row[colFINESS] != "":
		a.st = string(directory.StructFINESS) + row[colFINESS]
	case row[colSIRET] != "":
		a.st = string(directory.StructSIRET) + row[colSIRET]
	case row[colTechID] != "":
		a.st = string(directory.StructRPPSRang) + row[colTechID]
		if _, err := r.v.IdNatStruct(a.st); err != nil {
			return nil, reject(err, "Identifiant technique de la structure %q does not make an IdNatStruct: %s", row[colTechID], reason(err))
		}
	}
	if a.st != "" {
		a.orgID = stableID(a.st)
	}
	a.roleID = stableID(a.ps, a.st, row[colProfession], row[colMode], row[colSkillType], row[colSkill])
	return a, nil
}

// reason returns the reason of an identifier error without the
// "directory:" prefix, which a row error already implies.
func reason(err error) string {
	var e *directory.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s %q %s", e.Identifier, e.Value, e.Reason)
	}
	return err.Error()
}

// stableID returns a FHIR id (letters, digits, "-" and ".", at most 64
// characters) determined by parts alone. When every part is letters and
// digits (or empty) and they fit, it is the parts joined by "-", readable
// and searchable; otherwise it is the first part (or "h" when that does not
// fit), "." and 24 hex digits of a SHA-256 of the parts. The dot keeps the
// two forms apart.
func stableID(parts ...string) string {
	id := strings.Join(parts, "-")
	readable := id != "" && len(id) <= 64
	for _, p := range parts {
		if p != "" && !isToken(p) {
			readable = false
		}
	}
	if readable {
		return id
	}
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	prefix := parts[0]
	if !isToken(prefix) || len(prefix) > 39 {
		prefix = "h"
	}
	return prefix + "." + hex.EncodeToString(h.Sum(nil))[:24]
}

// isToken reports whether s is a non-empty run of ASCII letters and digits.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
