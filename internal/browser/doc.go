// Package browser drives a real headless Chromium (Debian's chromium) over
// the DevTools protocol, for the tests of everything a person looks at: the
// HTML report and the coordinator's live web view.
//
// It starts the browser with --headless --no-sandbox --disable-gpu
// --no-first-run --disable-background-networking --disable-component-update
// --disable-sync and an empty --user-data-dir, collects console errors,
// uncaught exceptions and error log entries of the page, and saves
// screenshots.
//
// Usage:
//
//	s, err := browser.Start(ctx, browser.Options{UserDataDir: t.TempDir()})
//	defer s.Close()
//	err = s.Do(chromedp.Navigate("file:///tmp/report.html"))
//	n, err := browser.Eval[int](s, `document.querySelectorAll("svg.plot").length`)
//	errs := s.Errors() // console errors, exceptions, failed loads
//
// The binary is $BARRAGE_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome on PATH.
//
// Concurrency: a Session is one tab; use it from one goroutine at a time.
// Errors may be called at any time.
package browser
