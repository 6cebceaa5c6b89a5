package finding

import "strings"

// OWASP API Security Top 10 (2023) categories used by Classify.
const (
	OWASPBOLA       = "API1:2023 Broken Object Level Authorization"
	OWASPAuth       = "API2:2023 Broken Authentication"
	OWASPProperty   = "API3:2023 Broken Object Property Level Authorization"
	OWASPResource   = "API4:2023 Unrestricted Resource Consumption"
	OWASPMisconfig  = "API8:2023 Security Misconfiguration"
	owaspNone       = ""
	cweNone         = ""
	keywordMassAsgn = "mass-assignment"
)

// Classify grades a finding of oracle o. mutationFamily refines it and may
// be the mutation's full name ("boundaries/max+1", "injection/sql-union";
// "" for valid traffic) or just its family: Classify looks for keywords in
// it, case-insensitively. For information-leak pass the leak kind from
// internal/oracle.InfoLeak ("stack-trace/go", "debug-page/django"); for
// injection-evidence the detector ("sql", "command", "path-traversal",
// "template", "xss", "nosql") or a mutation name that contains it.
//
// The table (severity, CWE, OWASP API Top 10 2023):
//
//	server-error                 medium  CWE-755 Improper Handling of Exceptional Conditions
//	connection-failure           medium  CWE-755 when a mutated request dropped the connection;
//	                                     CWE-400 on valid traffic (capacity, not input handling)
//	invalid-input-accepted       medium  CWE-20 Improper Input Validation;
//	                                     mass-assignment family: CWE-915, API3:2023
//	injection-evidence           sql: critical CWE-89; nosql: critical CWE-943;
//	                             command: critical CWE-78; template: critical CWE-1336;
//	                             path-traversal: high CWE-22; xss: high CWE-79;
//	                             other: high CWE-74; all API8:2023
//	information-leak             medium CWE-209 (stack traces, SQL errors, source paths), API8:2023;
//	                             debug pages that show code or settings (Django, Rails,
//	                             Laravel, Werkzeug, ASP.NET): high CWE-489 Active Debug Code;
//	                             Express's development error page (a stack trace): medium CWE-489;
//	                             Spring Whitelabel page (names the framework only): low CWE-209
//	auth-not-enforced            critical CWE-306 Missing Authentication, API2:2023
//	cross-user-access            critical CWE-639 Authorization Bypass Through User-Controlled Key, API1:2023
//	latency-outlier              low     CWE-400 Uncontrolled Resource Consumption, API4:2023
//	degradation                  medium  CWE-400, API4:2023
//	undocumented-status          low     no CWE
//	response-schema-violation    low     no CWE
//	unexpected-content-type      low     no CWE
//	unknown oracle               info    none
//
// The three spec oracles get no CWE on purpose: they say the implementation
// disagrees with its contract. The nearest entry, CWE-436 Interpretation
// Conflict, needs a second party that acts on the difference in a
// security-relevant way, which the response alone cannot show; tagging every
// contract mismatch with it would inflate security dashboards with
// conformance bugs.
//
// The 2023 API list has no injection category of its own (the 2019 list
// had API8:2019 Injection); injections are filed under API8:2023 Security
// Misconfiguration, and the CWE names the precise weakness.
func Classify(o Oracle, mutationFamily string) (sev Severity, cwe, owasp string) {
	fam := strings.ToLower(mutationFamily)
	switch o {
	case ServerError:
		return Medium, "CWE-755", owaspNone
	case ConnectionFailure:
		if fam == "" {
			return Medium, "CWE-400", owaspNone
		}
		return Medium, "CWE-755", owaspNone
	case InvalidAccepted:
		if strings.Contains(fam, keywordMassAsgn) {
			return Medium, "CWE-915", OWASPProperty
		}
		return Medium, "CWE-20", owaspNone
	case InjectionEvidence:
		switch {
		case strings.Contains(fam, "nosql"):
			return Critical, "CWE-943", OWASPMisconfig
		case strings.Contains(fam, "sql"):
			return Critical, "CWE-89", OWASPMisconfig
		case strings.Contains(fam, "command"), strings.Contains(fam, "cmd"):
			return Critical, "CWE-78", OWASPMisconfig
		case strings.Contains(fam, "template"), strings.Contains(fam, "ssti"):
			return Critical, "CWE-1336", OWASPMisconfig
		case strings.Contains(fam, "traversal"), strings.Contains(fam, "path"):
			return High, "CWE-22", OWASPMisconfig
		case strings.Contains(fam, "xss"), strings.Contains(fam, "script"):
			return High, "CWE-79", OWASPMisconfig
		}
		return High, "CWE-74", OWASPMisconfig
	case InfoLeak:
		switch {
		case strings.Contains(fam, "spring"):
			return Low, "CWE-209", OWASPMisconfig
		case strings.Contains(fam, "express"):
			return Medium, "CWE-489", OWASPMisconfig
		case strings.Contains(fam, "debug-page"):
			return High, "CWE-489", OWASPMisconfig
		}
		return Medium, "CWE-209", OWASPMisconfig
	case AuthNotEnforced:
		return Critical, "CWE-306", OWASPAuth
	case CrossUser:
		return Critical, "CWE-639", OWASPBOLA
	case LatencyOutlier:
		return Low, "CWE-400", OWASPResource
	case Degradation:
		return Medium, "CWE-400", OWASPResource
	case SpecStatus, SpecBody, SpecContentType:
		return Low, cweNone, owaspNone
	}
	return Info, cweNone, owaspNone
}

// cweTitles names the CWEs Classify uses (for report help text).
var cweTitles = map[string]string{
	"CWE-20":   "Improper Input Validation",
	"CWE-22":   "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
	"CWE-74":   "Improper Neutralization of Special Elements in Output Used by a Downstream Component ('Injection')",
	"CWE-78":   "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
	"CWE-79":   "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
	"CWE-89":   "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
	"CWE-209":  "Generation of Error Message Containing Sensitive Information",
	"CWE-306":  "Missing Authentication for Critical Function",
	"CWE-400":  "Uncontrolled Resource Consumption",
	"CWE-489":  "Active Debug Code",
	"CWE-639":  "Authorization Bypass Through User-Controlled Key",
	"CWE-755":  "Improper Handling of Exceptional Conditions",
	"CWE-915":  "Improperly Controlled Modification of Dynamically-Determined Object Attributes",
	"CWE-943":  "Improper Neutralization of Special Elements in Data Query Logic",
	"CWE-1336": "Improper Neutralization of Special Elements Used in a Template Engine",
}

// CWETitle returns the title of a CWE id Classify can return ("CWE-89"),
// or "".
func CWETitle(cwe string) string { return cweTitles[cwe] }
