package finding

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		oracle     Oracle
		family     string
		sev        Severity
		cwe, owasp string
	}{
		{ServerError, "boundaries", Medium, "CWE-755", ""},
		{ServerError, "", Medium, "CWE-755", ""},
		{ConnectionFailure, "type", Medium, "CWE-755", ""},
		{ConnectionFailure, "", Medium, "CWE-400", ""},
		{InvalidAccepted, "boundaries", Medium, "CWE-20", ""},
		{InvalidAccepted, "mass-assignment", Medium, "CWE-915", OWASPProperty},
		{InjectionEvidence, "sql", Critical, "CWE-89", OWASPMisconfig},
		{InjectionEvidence, "injection/SQL-union", Critical, "CWE-89", OWASPMisconfig},
		{InjectionEvidence, "nosql", Critical, "CWE-943", OWASPMisconfig},
		{InjectionEvidence, "command", Critical, "CWE-78", OWASPMisconfig},
		{InjectionEvidence, "template", Critical, "CWE-1336", OWASPMisconfig},
		{InjectionEvidence, "path-traversal", High, "CWE-22", OWASPMisconfig},
		{InjectionEvidence, "xss", High, "CWE-79", OWASPMisconfig},
		{InjectionEvidence, "ldap", High, "CWE-74", OWASPMisconfig},
		{InfoLeak, "stack-trace/go", Medium, "CWE-209", OWASPMisconfig},
		{InfoLeak, "sql-error/mysql", Medium, "CWE-209", OWASPMisconfig},
		{InfoLeak, "debug-page/django", High, "CWE-489", OWASPMisconfig},
		{InfoLeak, "debug-page/express", Medium, "CWE-489", OWASPMisconfig},
		{InfoLeak, "debug-page/spring", Low, "CWE-209", OWASPMisconfig},
		{AuthNotEnforced, "auth/none", Critical, "CWE-306", OWASPAuth},
		{CrossUser, "", Critical, "CWE-639", OWASPBOLA},
		{LatencyOutlier, "", Low, "CWE-400", OWASPResource},
		{Degradation, "", Medium, "CWE-400", OWASPResource},
		{SpecStatus, "", Low, "", ""},
		{SpecBody, "", Low, "", ""},
		{SpecContentType, "", Low, "", ""},
		{Oracle("made-up"), "", Info, "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.oracle)+"/"+tt.family, func(t *testing.T) {
			sev, cwe, owasp := Classify(tt.oracle, tt.family)
			if sev != tt.sev || cwe != tt.cwe || owasp != tt.owasp {
				t.Errorf("Classify = %s %q %q, want %s %q %q", sev, cwe, owasp, tt.sev, tt.cwe, tt.owasp)
			}
			if cwe != "" && CWETitle(cwe) == "" {
				t.Errorf("no title for %s", cwe)
			}
		})
	}
	// every oracle has a classification and help text
	for _, o := range Oracles {
		if sev, _, _ := Classify(o, ""); sev == Info {
			t.Errorf("%s: unclassified", o)
		}
		if _, ok := oracleDocs[o]; !ok {
			t.Errorf("%s: no SARIF help text", o)
		}
	}
}
