package extract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
)

// Reading an extract: one row of a general practitioner salaried in a
// hospital, and one bad row. The output shows the FHIR resources a row
// becomes. The bad row comes out first: the group is complete only when
// the next professional's row, or the end of the file, is read.
func ExampleReader() {
	bad := doctor().with("Identifiant PP", "10001234566", "Identification nationale PP", "810001234566")
	file := extractText(shortHeader, doctor(), bad)

	r, err := extract.NewReader(strings.NewReader(file), directory.Validator{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		g, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err) // a *RowError: reading goes on
			continue
		}
		for _, res := range g.Organizations {
			printIndented(res)
		}
		printIndented(g.Practitioner)
		for _, res := range g.Roles {
			printIndented(res)
		}
	}
	// Output:
	// directory extract: line 3 rejected: Identifiant PP: RPPS "10001234566" Luhn check failed (last digit 6, want 5)
	// Organization/1351234562 {
	//   "resourceType": "Organization",
	//   "id": "1351234562",
	//   "identifier": [
	//     {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "IDNST"
	//           }
	//         ]
	//       },
	//       "system": "urn:oid:1.2.250.1.71.4.2.2",
	//       "value": "1351234562"
	//     },
	//     {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "FINEG"
	//           }
	//         ]
	//       },
	//       "system": "https://finess.esante.gouv.fr",
	//       "value": "351234562"
	//     },
	//     {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "SIRET"
	//           }
	//         ]
	//       },
	//       "system": "https://sirene.fr",
	//       "value": "12345678200010"
	//     }
	//   ],
	//   "active": true,
	//   "type": [
	//     {
	//       "coding": [
	//         {
	//           "system": "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite",
	//           "code": "SA01",
	//           "display": "Etablissement public de santé"
	//         }
	//       ]
	//     }
	//   ],
	//   "name": "CENTRE HOSPITALIER D'EXEMPLE",
	//   "alias": [
	//     "CH EXEMPLE"
	//   ],
	//   "telecom": [
	//     {
	//       "system": "phone",
	//       "value": "0299000000",
	//       "use": "work"
	//     }
	//   ],
	//   "address": [
	//     {
	//       "extension": [
	//         {
	//           "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
	//           "valueCoding": {
	//             "system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM",
	//             "code": "35238"
	//           }
	//         }
	//       ],
	//       "use": "work",
	//       "line": [
	//         "2 Rue DE L'HÔTEL-DIEU"
	//       ],
	//       "city": "RENNES",
	//       "postalCode": "35000"
	//     }
	//   ],
	//   "partOf": {
	//     "identifier": {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "FINEJ"
	//           }
	//         ]
	//       },
	//       "system": "https://finess.esante.gouv.fr",
	//       "value": "350000014"
	//     }
	//   }
	// }
	// Practitioner/810001234565 {
	//   "resourceType": "Practitioner",
	//   "id": "810001234565",
	//   "identifier": [
	//     {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "IDNPS"
	//           }
	//         ]
	//       },
	//       "system": "urn:oid:1.2.250.1.71.4.2.1",
	//       "value": "810001234565"
	//     },
	//     {
	//       "use": "official",
	//       "type": {
	//         "coding": [
	//           {
	//             "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
	//             "code": "RPPS"
	//           }
	//         ]
	//       },
	//       "system": "https://rpps.esante.gouv.fr",
	//       "value": "10001234565"
	//     }
	//   ],
	//   "active": true,
	//   "name": [
	//     {
	//       "family": "Lefèvre",
	//       "given": [
	//         "Hélène"
	//       ],
	//       "prefix": [
	//         "MME"
	//       ],
	//       "suffix": [
	//         "DR"
	//       ]
	//     }
	//   ]
	// }
	// PractitionerRole/810001234565-1351234562-10-S-S-SM54 {
	//   "resourceType": "PractitionerRole",
	//   "id": "810001234565-1351234562-10-S-S-SM54",
	//   "active": true,
	//   "practitioner": {
	//     "reference": "Practitioner/810001234565"
	//   },
	//   "organization": {
	//     "reference": "Organization/1351234562"
	//   },
	//   "code": [
	//     {
	//       "coding": [
	//         {
	//           "system": "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante",
	//           "code": "10",
	//           "display": "Médecin"
	//         }
	//       ]
	//     },
	//     {
	//       "coding": [
	//         {
	//           "system": "https://mos.esante.gouv.fr/NOS/TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle",
	//           "code": "C",
	//           "display": "Civil"
	//         }
	//       ]
	//     },
	//     {
	//       "coding": [
	//         {
	//           "system": "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice",
	//           "code": "S",
	//           "display": "Salarié"
	//         }
	//       ]
	//     }
	//   ],
	//   "specialty": [
	//     {
	//       "coding": [
	//         {
	//           "system": "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
	//           "code": "SM54",
	//           "display": "Médecine Générale"
	//         }
	//       ]
	//     }
	//   ]
	// }
}

func printIndented(res extract.Resource) {
	var b bytes.Buffer
	json.Indent(&b, res.JSON, "", "  ")
	fmt.Println(res.Type+"/"+res.ID, b.String())
}
