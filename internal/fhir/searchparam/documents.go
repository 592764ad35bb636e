package searchparam

import "slices"

// The search parameters of French document sharing that R4 lacks: those
// IHE MHD 4.2 defines for ITI-66/ITI-67 and those the PDSm implementation
// guide of the ANS adds. They are indexed and searched like the R4 ones.
//
// Binary also gets a parameter on its securityContext, and through it a
// place in the patient compartment, which R4 does not give it: the bytes
// of a patient's document are that patient's data, filed under their
// patient key like the DocumentReference that points to them.

const (
	// ExtIsArchived is the PDSm extension that archives a
	// DocumentReference or a List (valueBoolean).
	ExtIsArchived = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"
	// ExtDesignationType and ExtSourceID are the MHD extensions of a
	// SubmissionSet or Folder List.
	ExtDesignationType = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType"
	ExtSourceID        = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"
)

const (
	mhdSearchParameter    = "https://profiles.ihe.net/ITI/MHD/SearchParameter/"
	pdsmSearchParameter   = "https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/"
	carnetSearchParameter = "https://carnet-sante.github.io/fhir/SearchParameter/"
)

// documentSharingDefinitions are added to the R4 definitions when the
// registry is built. Some go by several codes: the MHD or PDSm code, and
// the name the repository's published OpenAPI description gives them
// (DesignationType, PDSm_isArchived…); the archived flag also by its
// extension's name, pdsm-ext-is-archived.
var documentSharingDefinitions = slices.Concat(
	named(searchParameterJSON{
		URL: carnetSearchParameter + "Binary-security-context", Base: []string{"Binary"},
		Type: Reference, Expression: "Binary.securityContext", Target: []string{"Patient", "DocumentReference"},
		Description: "The resource whose access rules apply to the Binary (its patient, for a document's bytes)",
	}, "security-context"),
	named(searchParameterJSON{
		URL: mhdSearchParameter + "DocumentReference-Creation", Base: []string{"DocumentReference"},
		Type: Date, Expression: "DocumentReference.content.attachment.creation",
		Description: "When the document was created (MHD: content.attachment.creation)",
	}, "creation"),
	named(searchParameterJSON{
		URL: pdsmSearchParameter + "PDSm-DocumentReference-period-start", Base: []string{"DocumentReference"},
		Type: Date, Expression: "DocumentReference.context.period.start",
		Description: "When the act documented started (PDSm dateDebutActe)",
	}, "PDSm_DocumentReference_period-start"),
	named(searchParameterJSON{
		URL: pdsmSearchParameter + "PDSm-DocumentReference-period-end", Base: []string{"DocumentReference"},
		Type: Date, Expression: "DocumentReference.context.period.end",
		Description: "When the act documented ended (PDSm dateFinActe)",
	}, "PDSm_DocumentReference_period-end"),
	named(searchParameterJSON{
		URL: mhdSearchParameter + "List-DesignationType", Base: []string{"List"},
		Type: Token, Expression: "List.extension.where(url = '" + ExtDesignationType + "').value",
		Description: "The designation type of a SubmissionSet or Folder (MHD extension ihe-designationType)",
	}, "designationType", "DesignationType"),
	named(searchParameterJSON{
		URL: mhdSearchParameter + "List-SourceId", Base: []string{"List"},
		Type: Token, Expression: "List.extension.where(url = '" + ExtSourceID + "').value",
		Description: "The source of a SubmissionSet (MHD extension ihe-sourceId)",
	}, "sourceId", "SourceId"),
	named(searchParameterJSON{
		URL: pdsmSearchParameter + "PDSm-isArchived", Base: []string{"DocumentReference", "List"},
		Type:        Token,
		Expression:  "DocumentReference.extension.where(url = '" + ExtIsArchived + "').value | List.extension.where(url = '" + ExtIsArchived + "').value",
		Description: "Whether the DocumentReference or List is archived (PDSm extension pdsm-ext-is-archived)",
	}, "isArchived", "PDSm_isArchived", "pdsm-ext-is-archived"),
)

// named returns the definition once per code.
func named(def searchParameterJSON, codes ...string) []searchParameterJSON {
	out := make([]searchParameterJSON, len(codes))
	for i, code := range codes {
		out[i] = def
		out[i].Code = code
	}
	return out
}

// addDocumentSharingCompartment puts Binary in the patient compartment,
// through its security-context parameter.
func addDocumentSharingCompartment(comp *compartmentJSON) {
	for i := range comp.Resource {
		if comp.Resource[i].Code == "Binary" {
			comp.Resource[i].Param = append(comp.Resource[i].Param, "security-context")
		}
	}
}
