package document

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/cda"
)

// decodeContent decodes the base64 bytes of a document found at expr
// (Binary.data, or attachment.data), refusing more than MaxSize bytes
// with 413 before decoding anything.
func (s *Service) decodeContent(rep *report, expr, b64 string) ([]byte, bool) {
	if strings.ContainsAny(b64, " \t\r\n") {
		b64 = strings.Join(strings.Fields(b64), "")
	}
	if n := int64(base64.StdEncoding.DecodedLen(len(b64))); n > s.opt.MaxSize+2 {
		rep.fail(http.StatusRequestEntityTooLarge, "too-costly", expr, "the document has about %d bytes, more than the limit of %d bytes", n, s.opt.MaxSize)
		return nil, false
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		rep.fail(http.StatusBadRequest, "value", expr, "the document is not valid base64: %v", err)
		return nil, false
	}
	if int64(len(data)) > s.opt.MaxSize {
		rep.fail(http.StatusRequestEntityTooLarge, "too-costly", expr, "the document has %d bytes, more than the limit of %d bytes", len(data), s.opt.MaxSize)
		return nil, false
	}
	if len(data) == 0 {
		rep.fail(422, "required", expr, "the document is empty")
		return nil, false
	}
	return data, true
}

// checkIntegrity holds attachment.size and attachment.hash (the SHA-1 of
// the bytes, in base64) to the bytes: a mismatch is refused, since the
// metadata would then describe another document. When they are missing
// they are filled in, with a warning: MHD asks the source to give them.
func checkIntegrity(rep *report, expr string, att map[string]any, data []byte) {
	hash := sha1Base64(data)
	switch size, given := att["size"]; {
	case !given:
		att["size"] = json.Number(strconv.Itoa(len(data)))
		rep.warn("required", expr+".size", "missing: set to the size of the document, %d bytes", len(data))
	case fmt.Sprint(size) != strconv.Itoa(len(data)):
		rep.fail(422, "value", expr+".size", "%v bytes, but the document has %d bytes", size, len(data))
	}
	switch given := str(att, "hash"); {
	case given == "":
		att["hash"] = hash
		rep.warn("required", expr+".hash", "missing: set to the SHA-1 of the document, %s", hash)
	case given != hash:
		hint := ""
		if b, err := base64.StdEncoding.DecodeString(given); err == nil && len(b) != sha1.Size {
			hint = fmt.Sprintf(" (it decodes to %d bytes, not the 20 of a SHA-1)", len(b))
		}
		rep.fail(422, "value", expr+".hash", "%s is not the SHA-1 of the document%s, which is %s (base64)", given, hint, hash)
	}
}

// checkCDA parses an XML document as CDA R2, strictly, and compares its
// header with the DocumentReference: a document that is not CDA is
// refused with 400, a header that contradicts the metadata with 422
// naming the element. insSystem and insValue are the patient's INS, when
// known, for the header's recordTarget; level is the document's
// confidentiality level (N, R or V), read from its security labels
// whatever code system they wrote it under.
func (s *Service) checkCDA(rep *report, expr string, data []byte, res map[string]any, insSystem, insValue, level string) {
	doc, err := cda.Parse(bytes.NewReader(data), s.opt.MaxSize)
	if err != nil {
		var pe *cda.ParseError
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, cda.ErrTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, cda.ErrHeader):
			status = http.StatusUnprocessableEntity
		case !errors.As(err, &pe):
			rep.fail(status, "structure", expr, "the XML document cannot be read: %v", err)
			return
		}
		rep.fail(status, "structure", expr, "the XML document is not a valid CDA R2 document: %s", strings.TrimPrefix(err.Error(), "cda: "))
		return
	}
	for _, m := range doc.Check(cdaMetadata(res, insSystem, insValue, level)) {
		rep.fail(422, "business-rule", m.Field, "contradicts the CDA header: %s", m.String())
	}
}

// cdaMetadata is what the DocumentReference says that the CDA header says
// too.
func cdaMetadata(res map[string]any, insSystem, insValue, level string) cda.Metadata {
	m := cda.Metadata{
		Patient:     cda.Identifier{System: insSystem, Value: insValue},
		PeriodStart: str(res, "context", "period", "start"),
		PeriodEnd:   str(res, "context", "period", "end"),
		Date:        str(res, "date"),
	}
	if cs := objects(object(res, "type"), "coding"); len(cs) > 0 {
		m.Type = cda.Coding{System: str(cs[0].m, "system"), Code: str(cs[0].m, "code")}
	}
	for _, a := range objects(res, "author") {
		ref := str(a.m, "reference")
		if !strings.HasPrefix(ref, "#") {
			continue
		}
		for _, id := range objects(contained(res, ref[1:]), "identifier") {
			m.Authors = append(m.Authors, cda.Identifier{System: str(id.m, "system"), Value: str(id.m, "value")})
		}
	}
	if level != "" {
		m.SecurityLabels = []cda.Coding{{System: "urn:oid:" + oidConfidentiality, Code: level}}
	}
	return m
}

// sha1Base64 is the MHD hash of bytes: their SHA-1, in base64.
func sha1Base64(data []byte) string {
	sum := sha1.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}
