package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
)

// chartFile is the -svg file, opened before the measurements so that a bad
// path fails before them, but written only after them: until then a chart
// already at that path keeps its content, so a run that fails or is
// interrupted before it measures anything does not destroy it.
type chartFile struct {
	f       *os.File
	created bool // the path did not exist: open made the file
}

// openChart opens path for writing, creating it if need be, without
// truncating it.
func openChart(path string) (*chartFile, error) {
	// O_EXCL tells a file made here from one that was there, with no
	// window between a look and the open.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err == nil {
		return &chartFile{f: f, created: true}, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666); err != nil {
		return nil, err
	}
	return &chartFile{f: f}, nil
}

// write replaces the file's content with the chart of rep, and closes it.
// The chart is drawn first, in memory, so that a file that exists is
// changed only once there is something to put in it. A regular file is
// then cut to the chart's length; anything else (a pipe, /dev/stdout) is
// just written to.
func (c *chartFile) write(rep report) error {
	var buf bytes.Buffer
	if err := writeSVG(&buf, rep); err != nil {
		c.f.Close()
		return err
	}
	_, err := c.f.Write(buf.Bytes())
	if err == nil {
		if fi, serr := c.f.Stat(); serr == nil && fi.Mode().IsRegular() {
			err = c.f.Truncate(int64(buf.Len()))
		}
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// abandon closes the file without writing it: a file that was there keeps
// its content, and one that openChart made is removed.
func (c *chartFile) abandon() error {
	err := c.f.Close()
	if c.created {
		if rerr := os.Remove(c.f.Name()); err == nil {
			err = rerr
		}
	}
	return err
}
