package checks

import (
	"sort"
	"strings"
)

// HIPAATable maps each check ID to the 45 CFR sections it gives evidence
// for, in "164.312(e)(1)" form. It is data, kept apart from the checks (the
// prowler compliance-file habit). hardening-catalog.md was its source; six
// citations were changed on review (PG-006, PG-014, DK-005, DK-010, BK-001,
// BK-005), each with its reason in docs/checks.md, "Citations reviewed".
var HIPAATable = map[string][]string{
	"PG-001": {"164.312(e)(1)", "164.312(e)(2)(ii)"},
	"PG-002": {"164.312(e)(2)(ii)"},
	"PG-003": {"164.312(e)(1)"},
	"PG-004": {"164.312(d)", "164.312(a)(1)"},
	"PG-005": {"164.308(a)(5)(ii)(D)", "164.312(d)"},
	// PG-006: (a)(2)(i) unique user identification dropped on review: a
	// superuser count says nothing about whether users are identified.
	"PG-006": {"164.312(a)(1)", "164.308(a)(4)(ii)(B)"},
	"PG-007": {"164.312(a)(1)"},
	"PG-008": {"164.312(b)", "164.308(a)(5)(ii)(C)", "164.308(a)(1)(ii)(D)"},
	"PG-009": {"164.312(b)", "164.312(c)(1)"},
	"PG-010": {"164.312(c)(1)", "164.312(c)(2)"},
	"PG-011": {"164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"},
	"PG-012": {"164.312(a)(1)"},
	"PG-013": {"164.312(a)(2)(iii)"},
	// PG-014: 2FA is person authentication, locking dormant accounts is a
	// termination procedure; (a)(2)(i) unique user ID dropped on review.
	"PG-014": {"164.312(d)", "164.308(a)(3)(ii)(C)"},
	"PG-015": {"164.312(b)", "164.308(a)(1)(ii)(D)"},
	"PG-016": {"164.312(b)", "164.308(a)(1)(ii)(D)"},
	"PG-017": {"164.312(b)", "164.312(a)(1)"},
	"PG-018": {"164.312(a)(1)"},
	"PG-019": {"164.312(a)(1)", "164.312(c)(1)"},
	"PG-020": {"164.312(a)(2)(iii)"},

	"DK-001": {"164.312(a)(1)"},
	"DK-002": {"164.312(a)(1)"},
	"DK-003": {"164.312(a)(1)", "164.312(e)(1)"},
	"DK-004": {"164.312(a)(1)", "164.312(d)", "164.312(b)"},
	// DK-005, DK-010: availability measures. Emergency-mode operation,
	// (a)(7)(ii)(C), is about procedures that keep security working in an
	// emergency, not about restarting processes; risk management,
	// 308(a)(1)(ii)(B), is where availability risks are reduced.
	"DK-005": {"164.308(a)(1)(ii)(B)"},
	"DK-006": {"164.312(b)", "164.308(a)(1)(ii)(D)"},
	"DK-007": {"164.312(c)(1)"},
	"DK-008": {"164.312(a)(1)", "164.308(a)(5)(ii)(D)"},
	"DK-009": {"164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"},
	"DK-010": {"164.308(a)(1)(ii)(B)"},
	"DK-011": {"164.312(a)(1)"},
	"DK-012": {"164.312(a)(1)"},
	"DK-013": {"164.312(a)(1)", "164.312(d)"},
	"DK-014": {"164.312(b)", "164.308(a)(1)(ii)(D)"},
	"DK-015": {"164.312(a)(1)"},
	"DK-016": {"164.312(a)(1)", "164.312(b)"},
	"DK-017": {"164.312(a)(1)"},
	"DK-018": {"164.308(a)(1)(ii)(B)"},
	"DK-019": {"164.308(a)(1)(ii)(B)"},
	"DK-020": {"164.308(a)(1)(ii)(B)"},
	"DK-021": {"164.312(b)", "164.308(a)(1)(ii)(B)"},

	"CF-001": {"164.312(d)", "164.312(a)(1)"},
	"CF-002": {"164.312(a)(2)(iv)"},
	"CF-003": {"164.312(e)(1)", "164.312(e)(2)(ii)"},
	"CF-004": {"164.308(a)(5)(ii)(D)", "164.312(d)"},
	"CF-005": {"164.312(e)(1)"},
	"CF-006": {"164.312(a)(1)", "164.308(a)(4)(ii)(B)"},
	"CF-007": {"164.312(d)", "164.312(a)(1)"},
	"CF-008": {"164.308(b)(1)"},
	"CF-009": {"164.312(e)(1)"},
	"CF-010": {"164.312(a)(1)", "164.312(b)"},
	"CF-011": {"164.312(a)(1)", "164.312(d)"},

	"NET-001": {"164.312(e)(1)"},
	"NET-002": {"164.312(e)(2)(ii)"},
	"NET-003": {"164.312(e)(1)", "164.312(d)"},
	"NET-004": {"164.312(a)(1)", "164.312(e)(1)"},
	"NET-005": {"164.312(a)(2)(iv)", "164.310(d)(1)", "164.310(d)(2)(i)", "164.310(d)(2)(ii)"},
	"NET-006": {"164.312(b)"},
	"NET-007": {"164.312(d)", "164.308(a)(5)(ii)(B)"},
	"NET-008": {"164.312(a)(1)", "164.312(a)(2)(i)"},
	"NET-009": {"164.312(e)(1)", "164.312(a)(1)"},

	// BK-001: a volume is not a backup, so (a)(7)(ii)(A) and 310(d)(2)(iv)
	// (retrievable copies) were dropped on review; data surviving a
	// container re-create is integrity (c)(1): not destroyed improperly.
	"BK-001": {"164.312(c)(1)", "164.308(a)(1)(ii)(B)"},
	"BK-002": {"164.308(a)(7)(ii)(A)"},
	"BK-003": {"164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"},
	"BK-004": {"164.312(a)(2)(iv)", "164.310(d)(2)(iv)", "164.308(a)(7)(ii)(B)"},
	// BK-005: a restore drill tests the contingency plan ((a)(7)(ii)(D)) and
	// proves the disaster recovery plan can restore lost data ((a)(7)(ii)(B));
	// emergency access, 312(a)(2)(ii), is about reaching ePHI in an
	// emergency, not restoring it, and was dropped on review.
	"BK-005": {"164.308(a)(7)(ii)(D)", "164.308(a)(7)(ii)(B)"},
	"BK-006": {"164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"},

	// K8S: access control for what confines a pod (Pod Security, privilege,
	// user, capabilities, seccomp, host access, tokens, network policies);
	// transmission security for Ingress TLS and network policies; integrity
	// for a read-only root filesystem; risk management for availability
	// (replicas, PDB, probes, resource limits) and patching (digests) —
	// the same reasoning as the DK checks above (docs/checks.md).
	"K8S-001": {"164.312(a)(1)"},
	"K8S-002": {"164.312(a)(1)", "164.312(e)(1)"},
	"K8S-003": {"164.312(a)(1)", "164.308(a)(5)(ii)(D)"},
	"K8S-004": {"164.308(a)(1)(ii)(B)"},
	"K8S-005": {"164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"},
	"K8S-006": {"164.312(a)(1)", "164.312(d)"},
	"K8S-007": {"164.312(e)(1)", "164.312(e)(2)(ii)"},
	"K8S-008": {"164.312(a)(1)"},
	"K8S-009": {"164.312(a)(1)"},
	"K8S-010": {"164.312(c)(1)"},
	"K8S-011": {"164.312(a)(1)"},
	"K8S-012": {"164.312(a)(1)"},
	"K8S-013": {"164.308(a)(1)(ii)(B)"},
	"K8S-014": {"164.312(a)(1)", "164.312(a)(2)(iv)"},
	"K8S-015": {"164.312(a)(1)"},
	"K8S-016": {"164.308(a)(1)(ii)(B)"},
}

// HIPAAFor returns a copy of the citations for a check ID.
func HIPAAFor(id string) []string {
	return append([]string(nil), HIPAATable[id]...)
}

// HIPAAID turns "164.312(e)(1)" into the machine form "164_312_e_1",
// lower case throughout ("164.308(a)(7)(ii)(D)" is "164_308_a_7_ii_d"), as
// the catalog and prowler's HIPAA compliance file write it.
func HIPAAID(cite string) string {
	r := strings.NewReplacer(".", "_", "(", "_", ")", "")
	return strings.ToLower(r.Replace(cite))
}

// HIPAAIDs maps HIPAAID over cites.
func HIPAAIDs(cites []string) []string {
	out := make([]string, 0, len(cites))
	for _, c := range cites {
		out = append(out, HIPAAID(c))
	}
	return out
}

// HIPAASections returns every cited section with the check IDs citing it,
// sorted; docs and the SARIF taxonomy use it.
func HIPAASections() map[string][]string {
	m := map[string][]string{}
	for id, cites := range HIPAATable {
		for _, c := range cites {
			m[c] = append(m[c], id)
		}
	}
	for _, ids := range m {
		sort.Strings(ids)
	}
	return m
}

// HIPAASafeguards names each cited section (45 CFR 164; hardening-catalog.md
// §1 "HIPAA citations used"). Reports group results under these names.
var HIPAASafeguards = map[string]string{
	"164.308(a)(1)(ii)(B)": "Risk management",
	"164.308(a)(1)(ii)(D)": "Information system activity review",
	"164.308(a)(3)(ii)(C)": "Termination procedures",
	"164.308(a)(4)(ii)(B)": "Access authorization",
	"164.308(a)(4)(ii)(C)": "Access establishment and modification",
	"164.308(a)(5)(ii)(B)": "Protection from malicious software (patching)",
	"164.308(a)(5)(ii)(C)": "Log-in monitoring",
	"164.308(a)(5)(ii)(D)": "Password management",
	"164.308(a)(7)(ii)(A)": "Data backup plan",
	"164.308(a)(7)(ii)(B)": "Disaster recovery plan",
	"164.308(a)(7)(ii)(C)": "Emergency mode operation plan",
	"164.308(a)(7)(ii)(D)": "Testing and revision procedures",
	"164.308(b)(1)":        "Business associate contracts",
	"164.310(d)(1)":        "Device and media controls",
	"164.310(d)(2)(i)":     "Disposal",
	"164.310(d)(2)(ii)":    "Media re-use",
	"164.310(d)(2)(iii)":   "Accountability",
	"164.310(d)(2)(iv)":    "Data backup and storage",
	"164.312(a)(1)":        "Access control",
	"164.312(a)(2)(i)":     "Unique user identification",
	"164.312(a)(2)(ii)":    "Emergency access procedure",
	"164.312(a)(2)(iii)":   "Automatic logoff",
	"164.312(a)(2)(iv)":    "Encryption and decryption",
	"164.312(b)":           "Audit controls",
	"164.312(c)(1)":        "Integrity",
	"164.312(c)(2)":        "Mechanism to authenticate ePHI",
	"164.312(d)":           "Person or entity authentication",
	"164.312(e)(1)":        "Transmission security",
	"164.312(e)(2)(i)":     "Integrity controls (transmission)",
	"164.312(e)(2)(ii)":    "Encryption (transmission)",
}

// SortCites orders citations the way the CFR does: 308, 310, 312, then by
// paragraph.
func SortCites(cites []string) {
	sort.Slice(cites, func(i, j int) bool { return citeKey(cites[i]) < citeKey(cites[j]) })
}

func citeKey(c string) string {
	// Roman numerals sort wrongly as text only past (iv); pad them.
	r := strings.NewReplacer("(i)", "(01)", "(ii)", "(02)", "(iii)", "(03)", "(iv)", "(04)", "(v)", "(05)")
	return r.Replace(c)
}
