package document

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"

	"github.com/carnet-sante/carnet/internal/cda"
)

// ErrNotCDA is returned by Narrative for a document that is not CDA R2 (a
// PDF, an image): the portal offers it for download instead.
var ErrNotCDA = errors.New("document: not a CDA document")

// Narrative renders the narrative body of the CDA document that
// DocumentReference/id points to as HTML safe to put in a page (no
// script, no style, no external URL: see cda.RenderHTML). It is rendered
// on demand from the stored bytes, which are authenticated first, so that
// what the portal shows is always the deposited document. A CDA whose
// body is a file (a PDF wrapped in CDA) gives cda.ErrDownloadOnly, a
// document that is not CDA ErrNotCDA.
//
// Narrative does not decide who may see the document: the caller asks the
// access rules first, as for any read.
func (s *Service) Narrative(ctx context.Context, documentReferenceID string) (template.HTML, error) {
	r, err := s.store.Read(ctx, "DocumentReference", documentReferenceID)
	if err != nil {
		return "", err
	}
	doc, err := decode(r.Content)
	if err != nil {
		return "", fmt.Errorf("decoding DocumentReference/%s: %w", documentReferenceID, err)
	}
	contents := objects(doc, "content")
	if len(contents) == 0 {
		return "", ErrNotCDA
	}
	att := object(contents[0].m, "attachment")
	if !isXML(str(att, "contentType")) {
		return "", ErrNotCDA
	}
	typ, id, ok := refID(str(att, "url"))
	if !ok || typ != "Binary" {
		return "", ErrNotCDA
	}
	res, bin, err := s.readBinary(ctx, id)
	if err != nil {
		return "", err
	}
	ptr, hasPointer, err := readPointer(bin)
	if err != nil || !hasPointer {
		return "", fmt.Errorf("Binary/%s: no document bytes (%v)", id, err)
	}
	rd, err := s.open(ctx, res.PatientKey, ptr)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return "", err
	}
	d, err := cda.Parse(bytes.NewReader(data), s.opt.MaxSize)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotCDA, err)
	}
	return cda.RenderHTML(d)
}
