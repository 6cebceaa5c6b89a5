// Package finding holds what Barrage reports when an oracle fires: the
// [Finding] record, its [Fingerprint] (so that the same defect, hit many
// times with different ids and values, is reported once), its
// classification ([Classify]: severity, CWE, OWASP API Top 10), its
// reproducers ([Curl], [Netcat], [Finding.Reproducer]: shell commands that
// send the exact request bytes again) and the CI reports ([WriteJUnit],
// [WriteSARIF]).
//
// Usage:
//
//	fp := finding.Fingerprint(op.ID, string(finding.ServerError), mut.Name, resp.Status, resp.Body)
//	if seen[fp] { count[fp]++; return }
//	sev, cwe, owasp := finding.Classify(finding.ServerError, mut.Name)
//	f := finding.Finding{ID: finding.ShortID(fp), Fingerprint: fp, Oracle: finding.ServerError,
//		Severity: sev, CWE: cwe, OWASP: owasp, Request: wire, BaseURL: base, Count: 1 /* … */}
//	fmt.Println(f.Reproducer()) // curl -i -X PUT http://127.0.0.1:8080/orders/7 -H 'Host: …' …
//	err := finding.WriteSARIF(w, "barrage", version.Version, findings)
//
// Concurrency: every function is a pure function of its arguments (and of
// read-only package variables) and safe for concurrent use. Fingerprint and
// Normalize allocate (one output buffer and the hash); they run once per
// oracle hit, not per request.
package finding
