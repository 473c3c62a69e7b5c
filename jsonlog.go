package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
)

// withLogFormat runs a command's action with its stderr in the format of --log-format: with
// json, every line the action writes there (notes, warnings, the summary, the final error),
// not only the progress lines, reaches a log shipper as one JSON object. Lines that are JSON
// already pass through.
func withLogFormat(c *cli.Context, action func() error) error {
	if !strings.EqualFold(strings.TrimSpace(c.String("log-format")), "json") {
		return action()
	}
	w := &jsonLines{w: c.App.ErrWriter, now: time.Now}
	saved := c.App.ErrWriter
	c.App.ErrWriter = w
	defer func() { c.App.ErrWriter = saved }()
	err := action()
	if err != nil && err.Error() != "" {
		w.event("error", "smscast: "+err.Error())
		err = withExit(exitCode(err), errors.New("")) // said already: main prints nothing
	}
	w.flush()
	return err
}

// jsonLines turns each line written to it into {"event":"message","text":…,"time":…}, unless
// it is a JSON object already. Safe for concurrent use.
type jsonLines struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	now func() time.Time
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := j.buf[:i]
		j.buf = j.buf[i+1:]
		if err := j.writeLine(line); err != nil {
			return len(p), err
		}
	}
}

// writeLine writes one line, without its line end. Called with j.mu held.
func (j *jsonLines) writeLine(line []byte) error {
	if bytes.HasPrefix(line, []byte("{")) {
		_, err := j.w.Write(append(line, '\n'))
		return err
	}
	_, err := j.w.Write(j.line("message", string(line)))
	return err
}

// line is one JSON line of kind with text. The text is under "text" and, as in the engine's
// events, under "message", so that a log shipper finds every line's words under one key; the
// time has the events' precision.
func (j *jsonLines) line(kind, text string) []byte {
	b, _ := json.Marshal(map[string]string{"event": kind, "text": text, "message": text, "time": j.now().UTC().Format(time.RFC3339Nano)})
	return append(b, '\n')
}

// event writes one event line of kind with text.
func (j *jsonLines) event(kind, text string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.w.Write(j.line(kind, text))
}

// flush writes a last line that had no line end.
func (j *jsonLines) flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) > 0 {
		j.writeLine(j.buf)
		j.buf = nil
	}
}
