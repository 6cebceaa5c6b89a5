package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Find returns the Chromium binary to use.
func Find() (string, error) {
	if p := os.Getenv("BARRAGE_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install Debian's chromium (make deps) or set BARRAGE_CHROMIUM")
}

// Options configures a Session.
type Options struct {
	// UserDataDir is the browser profile directory; it should be empty.
	// Required.
	UserDataDir string
	// Width and Height of the window in pixels; default 1280×900.
	Width, Height int
}

// Session is one headless browser with one tab.
type Session struct {
	ctx    context.Context
	cancel func()

	mu   sync.Mutex
	errs []string
}

// Start launches the browser. It stops when ctx ends or Close is called.
func Start(ctx context.Context, o Options) (*Session, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	if o.UserDataDir == "" {
		return nil, errors.New("browser: Options.UserDataDir is required")
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(o.UserDataDir),
		chromedp.WindowSize(o.Width, o.Height),
	)
	s := &Session{}
	cctx, ccancel := chromedp.NewContext(actx, chromedp.WithListener(s.listen))
	s.ctx = cctx
	s.cancel = func() { ccancel(); acancel() }
	// The first Run starts the browser and opens the tab.
	if err := chromedp.Do(cctx); err != nil {
		s.cancel()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return s, nil
}

func (s *Session) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, msg)
	s.mu.Unlock()
}

// Errors returns the console errors, uncaught exceptions and error log
// entries (failed loads) seen so far.
func (s *Session) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

// Do runs actions in the tab.
func (s *Session) Do(actions ...chromedp.Action[chromedp.Void]) error {
	return chromedp.Do(s.ctx, actions...)
}

// Eval evaluates a JavaScript expression in the tab and decodes its value.
func Eval[T any](s *Session, expr string) (T, error) {
	return chromedp.Run(s.ctx, chromedp.Evaluate[T](expr))
}

// Screenshot saves a PNG of the whole page to path.
func (s *Session) Screenshot(path string) error {
	b, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}

// Close stops the browser.
func (s *Session) Close() { s.cancel() }
