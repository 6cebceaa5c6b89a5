package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
	"google.golang.org/protobuf/proto"

	"github.com/barrage-dev/barrage/internal/htmlreport"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func writeHTML(w io.Writer, res *pb.RunResult) error {
	return htmlreport.Write(w, res, htmlreport.Options{})
}

// savedMagic starts a file written by --save: the run's complete results
// as a RunResult protobuf.
const savedMagic = "barrage-result/1\n"

func saveResult(w io.Writer, res *pb.RunResult) error {
	b, err := proto.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if _, err := io.WriteString(w, savedMagic); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// maxSaved bounds what loadSaved reads.
const maxSaved = 1 << 30

// loadSaved reads a file written by --save.
func loadSaved(path string) (*pb.RunResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSaved+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSaved {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxSaved)
	}
	if !bytes.HasPrefix(b, []byte(savedMagic)) {
		return nil, fmt.Errorf("%s: not a file written by --save (it does not start with %q)", path, savedMagic[:len(savedMagic)-1])
	}
	res := &pb.RunResult{}
	if err := proto.Unmarshal(b[len(savedMagic):], res); err != nil {
		return nil, fmt.Errorf("%s: damaged results: %w", path, err)
	}
	if res.GetStatus().GetRunId() == "" {
		return nil, fmt.Errorf("%s: damaged results: no run id", path)
	}
	return res, nil
}

// resultSource loads runs from saved files or, dialled once when first
// needed, the coordinator.
type resultSource struct {
	addr string
	c    *client
}

func (s *resultSource) load(ctx context.Context, arg string) (*pb.RunResult, error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		return loadSaved(arg)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if s.c == nil {
		c, err := dial(s.addr)
		if err != nil {
			return nil, err
		}
		s.c = c
	}
	return s.c.result(ctx, arg)
}

func (s *resultSource) close() {
	if s.c != nil {
		s.c.Close()
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
