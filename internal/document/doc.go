// Package document is document sharing as the French shared health record
// does it: IHE MHD 4.2 as profiled by the ANS in PDSm (partage de
// documents de santé en mobilité), on the FHIR API of package rest.
//
//   - ITI-65 Provide Document Bundle: a transaction Bundle with one
//     SubmissionSet List, DocumentReferences, their Binary documents,
//     Folder Lists, and for a replacement the FHIRPath Patch that marks
//     the replaced DocumentReference superseded;
//   - ITI-105 Simplified Publish: POST DocumentReference with the document
//     in content.attachment.data; the Binary and the SubmissionSet are
//     derived from it;
//   - ITI-66 and ITI-67: searches on List and DocumentReference, served by
//     package rest with the PDSm parameters package searchparam adds;
//   - ITI-68 Retrieve Document: GET Binary/{id}, the document's bytes;
//   - metadata updates by PATCH: visibility, status, archiving.
//
// A deposit is checked against the PDSm profiles and the national value
// sets (what is refused and what is only warned about is listed in
// docs/PDSM.md), then stored without ever being half-written (DESIGN.md
// §3): the bytes first, encrypted under the patient's key in the blob
// vault, content-addressed and fsynced, by the Preparer (before the store
// transaction); then, in one store transaction, the resources, their
// search index and an outbox event, by the Rules. The stored Binary holds
// no bytes, only a pointer to the vault (see pointer). A crash before the
// commit leaves at worst bytes that no resource points to, which a later
// collection removes; a retried deposit finds its bytes already there and
// rewrites nothing.
package document
